"""The store's schema version: fresh files, migration of older files, refusal of newer ones,
and fold assignments kept per plan."""

from __future__ import annotations

import sqlite3

import pytest

from bench.cli import main
from bench.config import load_suite
from bench.engine.coordinator import _record_folds
from bench.engine.plan import make_plan
from bench.store.db import MIGRATIONS, SCHEMA_VERSION, Store, StoreError


def test_a_new_store_has_the_current_schema_version(tmp_path):
    store = Store(tmp_path / "bench.sqlite")
    assert store.version == SCHEMA_VERSION == len(MIGRATIONS)
    store.close()


def test_a_store_from_before_versions_is_migrated_and_keeps_its_rows(tmp_path):
    path = tmp_path / "bench.sqlite"
    db = sqlite3.connect(path)
    db.executescript(MIGRATIONS[0])  # the tables of the first release, user_version 0
    db.execute("INSERT INTO jobs (hash, kind, label, status) VALUES ('h1', 'fold', 'a', 'done')")
    db.execute("INSERT INTO folds VALUES ('target', 0, 1, 's1', 'test')")
    db.commit()
    db.close()
    store = Store(path)
    assert store.version == SCHEMA_VERSION
    assert store.job_statuses(["h1"]) == {"h1": "done"}
    assert store.db.execute("SELECT inputs FROM jobs").fetchall() == [(None,)]
    assert store.fold_assignments(suite_hash="", profile="", dataset="target") == [
        (0, 1, "s1", "test")
    ]
    store.close()
    assert Store(path).version == SCHEMA_VERSION  # opening again migrates nothing


def test_a_newer_store_is_refused_in_one_line(tmp_path, write_suite, capsys):
    suite = load_suite(write_suite())
    suite.store_path.parent.mkdir(parents=True)
    db = sqlite3.connect(suite.store_path)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    with pytest.raises(StoreError, match="newer than this bench understands"):
        Store(suite.store_path)
    assert main(["status", str(suite.path)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "upgrade bench" in err and "Traceback" not in err


def test_a_changed_suite_never_mixes_fold_assignments(write_suite):
    first = load_suite(write_suite())
    changed = load_suite(write_suite(replace={"seed = 7": "seed = 8"}, name="changed.toml"))
    assert first.store_path == changed.store_path and first.hash != changed.hash
    store = Store(first.store_path)
    try:
        for suite in (first, changed):
            _record_folds(store, make_plan(suite))
        mixed = []
        for suite in (first, changed):
            rows = store.fold_assignments(
                suite_hash=suite.hash, profile=suite.profile, dataset=suite.target
            )
            assert rows
            assert not _both_train_and_test(rows)
            mixed += rows
        assert _both_train_and_test(mixed)  # what one table for both plans would have held
    finally:
        store.close()


def _both_train_and_test(rows) -> set:
    """(repeat, fold, sample)s stored as test and as training data of the same fold, and
    samples not tested exactly once per repeat."""
    parts: dict = {}
    tested: dict = {}
    for repeat, fold, sample, part in rows:
        parts.setdefault((repeat, fold, sample), set()).add("train" if part == "val" else part)
        if part == "test":
            tested[repeat, sample] = tested.get((repeat, sample), 0) + 1
    clash = {key for key, seen in parts.items() if {"train", "test"} <= seen}
    return clash | {key for key, count in tested.items() if count != 1}


def test_stray_temporary_files_of_dead_writers_are_removed(tmp_path):
    import os
    import socket

    from bench.engine.artifacts import remove_stray_files, write_artifact

    dead = _dead_pid()
    host = socket.gethostname()
    stray = tmp_path / f".{host}-{dead}-abc123.tmp"
    live = tmp_path / f".{host}-{os.getpid()}-def456.tmp"
    stray.write_bytes(b"torn")
    live.write_bytes(b"being written")
    write_artifact(tmp_path, "job", b"complete")
    assert remove_stray_files(tmp_path) == [stray]
    assert not stray.exists() and live.exists()
    assert (tmp_path / "job.npz").read_bytes() == b"complete"


def _dead_pid() -> int:
    import subprocess

    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid
