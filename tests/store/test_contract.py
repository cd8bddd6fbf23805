"""The storage contract, written once against the Store: a job's rows and its done mark are
one transaction, and a job stored as finished is never modified."""

from __future__ import annotations

import sqlite3

import pytest

from bench.config import load_suite
from bench.engine import jobs
from bench.engine.coordinator import RunOptions, run_suite
from bench.store.db import FoldRecord, Store

TABLES = ("jobs", "fold_results", "scores", "predictions", "histories", "costs")
ONE_CELL = {
    'optimizer = ["adam", "sgd"]': 'optimizer = ["adam"]',
    'strategy = ["scratch", "ctl"]': 'strategy = ["scratch"]',
}


class FailingConnection:
    """The store's connection, with the first statement containing ``fail`` raising."""

    def __init__(self, db: sqlite3.Connection, fail: str):
        self.db, self.fail = db, fail

    def execute(self, sql, *args):
        self._check(sql)
        return self.db.execute(sql, *args)

    def executemany(self, sql, *args):
        self._check(sql)
        return self.db.executemany(sql, *args)

    def _check(self, sql: str) -> None:
        if self.fail in sql:
            raise sqlite3.OperationalError("disk I/O error (injected)")

    def __getattr__(self, name):
        return getattr(self.db, name)


@pytest.fixture
def store(tmp_path):
    store = Store(tmp_path / "bench.sqlite")
    yield store
    store.close()


def fold(job: str = "j1") -> FoldRecord:
    return FoldRecord(
        job=job,
        cell="backbone=small_cnn",
        factors={"backbone": "small_cnn"},
        repeat=0,
        fold=1,
        n_train=4,
        n_val=1,
        n_test=2,
        threshold=0.5,
        params={},
        scores={"auc": 0.75, "accuracy": 0.5},
        samples=["s1", "s2"],
        y_true=[0, 1],
        proba=[[0.6, 0.4], [0.3, 0.7]],
        history={"target": {"loss": [0.9, 0.7]}},
        cost={"params": 1234.0},
    )


def rows_of(store: Store, job: str) -> dict[str, list[tuple]]:
    column = {"jobs": "hash"}
    return {
        table: sorted(
            store.db.execute(f"SELECT * FROM {table} WHERE {column.get(table, 'job')} = ?", (job,))
        )
        for table in TABLES
    }


@pytest.mark.parametrize("fail", ["INSERT INTO scores", "INSERT INTO predictions", "costs"])
def test_a_failure_between_a_folds_writes_leaves_nothing_of_it(store, fail):
    real = store.db
    store.db = FailingConnection(real, fail)
    with pytest.raises(sqlite3.OperationalError, match="injected"):
        store.record_fold(fold(), label="f1", run_id=1, started=0.0)
    store.db = real
    assert rows_of(store, "j1") == {table: [] for table in TABLES}  # no partial fold, no done mark
    assert store.job_statuses(["j1"]) == {}
    store.record_fold(fold(), label="f1", run_id=1, started=0.0)  # the retry stores it whole
    stored = rows_of(store, "j1")
    assert [len(stored[t]) for t in TABLES] == [1, 1, 2, 2, 2, 1]
    assert store.job_statuses(["j1"]) == {"j1": "done"}


def test_a_failure_between_a_stages_writes_leaves_nothing_of_it(store):
    real = store.db
    store.db = FailingConnection(real, "INSERT INTO histories")
    with pytest.raises(sqlite3.OperationalError, match="injected"):
        store.record_stage(
            job="s1",
            label="pretrain",
            run_id=1,
            started=0.0,
            artifact="w.h5",
            history={"loss": [1.0, 0.5]},
        )
    store.db = real
    assert rows_of(store, "s1") == {table: [] for table in TABLES}


def test_a_rerun_never_modifies_a_finished_job(write_suite, monkeypatch):
    """Fold 1 fails, the others are stored; a rerun with --retry-failed trains fold 1 alone
    and leaves every row of the finished folds as it was, their times included."""
    suite = load_suite(write_suite(replace=ONE_CELL))
    real = jobs.run_fold_job

    def flaky(job, worker):
        if job.fold.fold == 1:
            raise RuntimeError("simulated out of memory")
        return real(job, worker)

    monkeypatch.setattr(jobs, "run_fold_job", flaky)
    assert len(run_suite(suite, options=RunOptions(progress=False)).failed) == 1
    store = Store(suite.store_path)
    done = [
        job for job, status in store.db.execute("SELECT hash, status FROM jobs") if status == "done"
    ]
    before = {job: rows_of(store, job) for job in done}
    store.close()
    assert len(done) == 2 and all(rows["predictions"] for rows in before.values())
    monkeypatch.setattr(jobs, "run_fold_job", real)
    again = run_suite(suite, options=RunOptions(progress=False, retry_failed=True))
    assert (again.folds_trained, again.folds_stored, again.failed) == (1, 2, [])
    store = Store(suite.store_path)
    assert {job: rows_of(store, job) for job in done} == before
    store.close()
