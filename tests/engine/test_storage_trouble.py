"""A results folder that cannot be written: one line naming it and the fix, exit code 2,
and nothing stored before the trouble is lost."""

import errno
import os
import sqlite3

import pytest

from bench.cli import main
from bench.config import load_suite
from bench.engine import lock
from bench.engine.coordinator import RunOptions, run_suite
from bench.store import db
from bench.store.db import Store

ONE_CELL = {
    'optimizer = ["adam", "sgd"]': 'optimizer = ["adam"]',
    'strategy = ["scratch", "ctl"]': 'strategy = ["scratch"]',
}
QUIET = RunOptions(progress=False)


def _stored_folds(path) -> int:
    with sqlite3.connect(path) as con:
        query = "SELECT COUNT(*) FROM jobs WHERE kind = 'fold' AND status = 'done'"
        return con.execute(query).fetchone()[0]


def _one_line(capsys) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


def test_read_only_results_folder(capsys, write_suite, monkeypatch):
    def refuse(path, *args, **kwargs):
        raise PermissionError(errno.EROFS, "Read-only file system", str(path))

    monkeypatch.setattr(lock.os, "open", refuse)  # as root, chmod alone would not stop a write
    path = write_suite(replace=ONE_CELL)
    assert main(["run", str(path), "--quiet"]) == 2
    err = _one_line(capsys)
    assert err.startswith("bench: error: ") and "run.lock: cannot be written (Read-only" in err
    assert "set [suite] results to a writable folder" in err


def test_database_locked_by_another_process(capsys, write_suite, monkeypatch):
    path = write_suite(replace=ONE_CELL)
    suite = load_suite(path)
    Store(suite.store_path).close()
    monkeypatch.setattr(db, "BUSY_TIMEOUT", 0.2)
    holder = sqlite3.connect(suite.store_path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # another program in the middle of a write
    try:
        assert main(["run", str(path), "--quiet"]) == 2
    finally:
        holder.close()
    err = _one_line(capsys)
    assert (
        f"{suite.store_path}: another process holds the database (SQLite: database is locked)"
        in err
    )
    assert "run again; what is stored is kept" in err


def test_disk_full_mid_run_keeps_what_was_stored(capsys, write_suite, monkeypatch):
    path = write_suite(replace=ONE_CELL)
    suite = load_suite(path)
    record_fold, calls = Store.record_fold, []

    def fill_after_two(self, *args, **kwargs):
        calls.append(1)
        if len(calls) > 2:
            raise sqlite3.OperationalError("database or disk is full")
        return record_fold(self, *args, **kwargs)

    monkeypatch.setattr(Store, "record_fold", fill_after_two)
    assert main(["run", str(path), "--quiet"]) == 2
    err = _one_line(capsys)
    assert f"{suite.store_path}: the disk is full (SQLite: database or disk is full)" in err
    assert _stored_folds(suite.store_path) == 2

    monkeypatch.setattr(Store, "record_fold", record_fold)  # space freed
    rerun = run_suite(suite, options=QUIET)
    assert (rerun.folds_trained, rerun.folds_stored) == (1, 2)
    assert _stored_folds(suite.store_path) == 3
    assert Store(suite.store_path).integrity_check() == "ok"


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into a read-only folder")
def test_read_only_results_folder_for_real(capsys, write_suite):
    path = write_suite(replace=ONE_CELL)
    results = load_suite(path).results_dir
    results.mkdir()
    results.chmod(0o555)
    try:
        assert main(["run", str(path), "--quiet"]) == 2
    finally:
        results.chmod(0o755)
    assert f"{results / 'tiny'}: cannot be written (Permission denied)" in _one_line(capsys)
