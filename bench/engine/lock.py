"""One ``bench run`` at a time per results directory, with a lock that cannot go stale.

The lock is ``fcntl.flock`` on ``<results>/<suite>/run.lock``: the kernel releases it when
the holding process exits, however it exits (SIGKILL included), so there is no stale lock
to clean up by hand. The file's text names the holder (pid, host, start time, command) for
the message a second run prints. Worker processes never inherit the descriptor (Python
opens it non-inheritable), so an orphaned worker cannot keep the lock alive.
"""

from __future__ import annotations

import fcntl
import os
import socket
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.errors import BenchError

LOCK_NAME = "run.lock"
# A `bench status` probe holds the lock for microseconds; retrying this long before
# refusing keeps such a probe from being mistaken for a run.
_PROBE_GRACE = 0.5


class RunLocked(BenchError):
    """Another run holds the results directory."""


@contextmanager
def run_lock(directory: Path, *, wait: bool = False) -> Iterator[None]:
    """Hold the run lock of ``directory`` for the body; refuse, or block when ``wait``."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / LOCK_NAME
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        _acquire(fd, path, wait=wait)
        _write_holder(fd)
        yield
    finally:
        os.close(fd)  # closing the last descriptor releases the flock


def holder(directory: Path) -> str | None:
    """Who runs in ``directory`` now ("pid 12 on host, since ..."), or None when nobody does."""
    path = directory / LOCK_NAME
    if not path.is_file():
        return None
    fd = os.open(path, os.O_RDONLY)
    try:
        if _try_lock(fd, fcntl.LOCK_SH):
            return None
        return _describe(path)
    finally:
        os.close(fd)


def _acquire(fd: int, path: Path, *, wait: bool) -> None:
    deadline = time.monotonic() + _PROBE_GRACE
    while not _try_lock(fd, fcntl.LOCK_EX):
        if time.monotonic() < deadline:
            time.sleep(0.05)
            continue
        if not wait:
            raise RunLocked(
                f"{path.parent} is in use by another `bench run` ({_describe(path)}); "
                "wait for it to finish, or add --wait to start when it does"
            )
        print(f"bench: waiting for the run in {path.parent} ({_describe(path)})", file=sys.stderr)
        fcntl.flock(fd, fcntl.LOCK_EX)
        return


def _try_lock(fd: int, mode: int) -> bool:
    try:
        fcntl.flock(fd, mode | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _write_holder(fd: int) -> None:
    started = time.strftime("%Y-%m-%d %H:%M:%S")
    text = f"pid {os.getpid()} on {socket.gethostname()}, since {started}\n{' '.join(sys.argv)}\n"
    os.ftruncate(fd, 0)
    os.pwrite(fd, text.encode(), 0)


def _describe(path: Path) -> str:
    try:
        first = path.read_text().partition("\n")[0].strip()
    except OSError:
        first = ""
    return first or "holder unknown"


__all__ = ["RunLocked", "holder", "run_lock"]
