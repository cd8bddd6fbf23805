"""Disk, permission and lock trouble of a results folder, as one line that says the fix.

Every write of the results database is one transaction, so a write that fails leaves what
was stored before it intact: the message says so, and a rerun resumes where it stopped.
"""

from __future__ import annotations

import errno
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.errors import BenchError

KEPT = "what is stored is kept, and the rerun resumes where this run stopped"
READ_ONLY = (errno.EACCES, errno.EPERM, errno.EROFS)
FULL = (errno.ENOSPC, errno.EDQUOT)


class StorageError(BenchError):
    """The results folder cannot be written: read-only, full, or locked by another program."""


@contextmanager
def explained(database: Path) -> Iterator[None]:
    """Turn OS and SQLite errors of the body into a :class:`StorageError` naming the fix."""
    try:
        yield
    except sqlite3.OperationalError as exc:
        raise _sqlite_error(database, str(exc)) or exc from None
    except OSError as exc:
        raise _os_error(database, exc) or exc from None


def _sqlite_error(database: Path, text: str) -> StorageError | None:
    if "locked" in text or "busy" in text:
        return StorageError(
            f"{database}: another process holds the database (SQLite: {text}); close the "
            f"program that has it open (an sqlite3 shell, a viewer) and run again; {KEPT}"
        )
    if "disk is full" in text:
        return StorageError(f"{database}: the disk is full (SQLite: {text}); free space; {KEPT}")
    if "readonly" in text or "unable to open" in text:
        return StorageError(
            f"{database}: cannot be written (SQLite: {text}); make {database.parent} writable "
            "or set [suite] results to a writable folder"
        )
    return None


def _os_error(database: Path, exc: OSError) -> StorageError | None:
    where = exc.filename or database.parent
    if exc.errno in FULL:
        return StorageError(f"{where}: the disk is full ({exc.strerror}); free space; {KEPT}")
    if exc.errno in READ_ONLY:
        return StorageError(
            f"{where}: cannot be written ({exc.strerror}); make it writable or set [suite] "
            "results to a writable folder"
        )
    return None
