"""Crash safety: `bench run` killed at any moment loses no stored fold and duplicates none."""

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench.config import load_suite
from bench.engine.artifacts import weights_file
from bench.engine.coordinator import RunOptions, run_suite
from bench.engine.executors import task
from bench.store.db import Store

# Two cells × three folds, with fits long enough that a kill lands mid-fit.
SLOW = {
    "epochs = 2": "epochs = 8",
    "patience = 2": "patience = 50",
    'optimizer = ["adam", "sgd"]': 'optimizer = ["adam"]',
}
QUIET = RunOptions(progress=False)


def _start(path: Path, *args: str) -> subprocess.Popen:
    """`bench run` in a subprocess."""
    return subprocess.Popen(
        [sys.executable, "-m", "bench.cli", "run", str(path), "--quiet", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )


def _stored_folds(db: Path) -> int:
    if not db.is_file():
        return 0
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30) as con:
        try:
            return con.execute("SELECT COUNT(*) FROM fold_results").fetchone()[0]
        except sqlite3.OperationalError:  # tables not created yet
            return 0


def _wait_for_folds(process: subprocess.Popen, db: Path, count: int) -> None:
    deadline = time.monotonic() + 240
    while _stored_folds(db) < count:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "no folds stored in time"
        time.sleep(0.2)


def _status(path: Path) -> str:
    """`bench status` in a fresh interpreter, and which heavy modules it imported."""
    code = (
        "import sys; from bench.cli import main; main(['status', sys.argv[1]]); "
        "print('heavy imports:', sorted({'tensorflow', 'keras'} & set(sys.modules)))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=60
    )
    return done.stdout + done.stderr


def _children(pid: int) -> set[int]:
    """Processes whose parent is ``pid``."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.add(int(stat.parent.name))
    return found


def _assert_exit(pids: set[int]) -> None:
    deadline = time.monotonic() + 15
    while not all(_gone(pid) for pid in pids):
        assert time.monotonic() < deadline, f"processes {pids} outlived the run"
        time.sleep(0.2)


def _maps_tensorflow(pid: int) -> bool:
    return "tensorflow" in Path(f"/proc/{pid}/maps").read_text()


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return True
    return state == "Z"  # exited, waiting to be reaped by its new parent


def _assert_every_fold_once(suite, *, folds: int = 6) -> None:
    store = Store(suite.store_path)
    db = store.db
    assert db.execute("SELECT COUNT(*), COUNT(DISTINCT job) FROM fold_results").fetchone() == (
        folds,
        folds,
    )
    assert (
        db.execute("SELECT COUNT(*) FROM jobs WHERE kind = 'fold' AND status = 'done'").fetchone()[
            0
        ]
        == folds
    )
    assert db.execute("SELECT COUNT(*) FROM predictions").fetchone()[0] == folds * 8
    repeated = db.execute(
        "SELECT COUNT(*) FROM (SELECT job, stage, epoch, metric FROM histories "
        "GROUP BY job, stage, epoch, metric HAVING COUNT(*) > 1)"
    ).fetchone()[0]
    assert repeated == 0
    assert store.integrity_check() == "ok"
    store.close()


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_sigkill_then_rerun_stores_every_fold_exactly_once(write_suite, jobs):
    path = write_suite(replace=SLOW)
    suite = load_suite(path)
    process = _start(path, "--jobs", jobs)
    _wait_for_folds(process, suite.store_path, 2)
    children = _children(process.pid)
    loads_tensorflow = _maps_tensorflow(process.pid)
    status = _status(path)
    process.kill()
    process.communicate()
    assert process.returncode == -signal.SIGKILL
    if jobs == "2":
        assert len(children) >= 2 and not loads_tensorflow  # workers train, not the coordinator
    assert f"running now: pid {process.pid} on" in status
    assert "heavy imports: []" in status  # `bench status` reads SQLite only
    assert "backbone=small_cnn|optimizer=adam|strategy=ctl" in status and "pending" in status
    _assert_exit(children)  # orphaned workers exit by themselves

    stored = _stored_folds(suite.store_path)
    rerun = run_suite(load_suite(path), options=QUIET)
    assert (rerun.folds_stored, rerun.folds_trained, rerun.failed) == (stored, 6 - stored, [])
    _assert_every_fold_once(suite)
    store = Store(suite.store_path)
    statuses = [status for (status,) in store.db.execute("SELECT status FROM runs ORDER BY id")]
    store.close()
    assert statuses == ["killed", "done"]


def test_ctrl_c_stops_workers_and_prints_a_summary(write_suite):
    path = write_suite(replace=SLOW)
    suite = load_suite(path)
    process = _start(path, "--jobs", "2")
    _wait_for_folds(process, suite.store_path, 2)
    children = _children(process.pid)
    process.send_signal(signal.SIGINT)
    stdout, _ = process.communicate(timeout=60)
    assert process.returncode == 130
    assert "interrupted: rerun the same command to resume" in stdout
    assert "folds:" in stdout
    _assert_exit(children)
    store = Store(suite.store_path)
    assert store.latest_run()["status"] == "interrupted"
    assert store.integrity_check() == "ok"
    store.close()


def test_missing_or_truncated_stage_weights_are_trained_again(write_suite, monkeypatch):
    path = write_suite(
        replace={
            'optimizer = ["adam", "sgd"]': 'optimizer = ["adam"]',
            'strategy = ["scratch", "ctl"]': 'strategy = ["ctl"]',
        }
    )
    suite = load_suite(path)
    monkeypatch.setitem(task.JOB_FUNCTIONS, "fold", "tests.engine.jobs:fail_fold_1")
    first = run_suite(suite, options=QUIET)
    assert (first.stages_trained, first.folds_trained) == (1, 2)
    (stage,) = suite.artifacts_dir.glob("*.npz")
    monkeypatch.setitem(task.JOB_FUNCTIONS, "fold", "bench.engine.jobs:run_fold_job")

    stage.write_bytes(stage.read_bytes()[:100])  # as if a copy was cut short
    truncated = run_suite(suite, options=RunOptions(progress=False, retry_failed=True))
    assert (truncated.stages_trained, truncated.folds_trained) == (1, 1)

    stage.unlink()
    done = run_suite(suite, options=QUIET)
    assert (done.stages_trained, done.stages_reused) == (0, 1)  # no pending job needs it
    assert not weights_file(suite.artifacts_dir, stage.stem).exists()
