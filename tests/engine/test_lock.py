"""One run per results directory: a second one refuses (or waits); a dead holder frees it."""

import os
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest

from bench.config import load_suite
from bench.engine.coordinator import plan_rows
from bench.engine.lock import RunLocked, holder, run_lock
from bench.engine.plan import make_plan
from bench.store.db import Store
from bench.store.status import suite_status

HOLD = """
import sys, time
from pathlib import Path
from bench.engine.lock import run_lock
with run_lock(Path(sys.argv[1])):
    print("locked", flush=True)
    time.sleep(120)
"""


def test_second_run_refuses_naming_the_holder_and_the_fix(write_suite):
    path = write_suite()
    suite = load_suite(path)
    with run_lock(suite.store_path.parent):
        result = subprocess.run(
            [sys.executable, "-m", "bench.cli", "run", str(path), "--quiet"],
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert result.returncode == 2
    line = result.stderr.strip().splitlines()[-1]  # after the "bench run <suite>" header
    assert line.startswith(f"bench: error: {suite.store_path.parent} is in use by another")
    assert f"pid {os.getpid()} on {socket.gethostname()}" in line
    assert "--wait" in line
    assert not suite.store_path.exists()  # refused before touching the store


def test_wait_starts_when_the_holder_finishes(tmp_path):
    released = threading.Event()

    def hold():
        with run_lock(tmp_path):
            time.sleep(1.0)
            released.set()

    thread = threading.Thread(target=hold)
    thread.start()
    time.sleep(0.2)
    with pytest.raises(RunLocked):
        run_lock(tmp_path).__enter__()
    with run_lock(tmp_path, wait=True):
        assert released.is_set()
    thread.join()


def test_the_lock_dies_with_its_holder(tmp_path):
    process = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    assert process.stdout.readline().strip() == "locked"
    assert holder(tmp_path).startswith(f"pid {process.pid} on {socket.gethostname()}, since")
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert holder(tmp_path) is None
    with run_lock(tmp_path):  # no stale lock to remove by hand
        pass


def test_status_names_the_run_in_progress(write_suite):
    suite = load_suite(write_suite())
    suite.store_path.parent.mkdir(parents=True)
    assert holder(suite.store_path.parent) is None
    with run_lock(suite.store_path.parent):
        running = holder(suite.store_path.parent)
    assert running.startswith(f"pid {os.getpid()} on ")

    store = Store(suite.store_path)
    store.record_plan(
        suite_hash=suite.hash, profile=suite.profile, rows=plan_rows(make_plan(suite))
    )
    store.close()
    text = suite_status(suite, running=running)
    assert f"running now: {running}" in text.splitlines()
    assert "total: 0 done, 13 pending, 0 failed" in text
