"""The results database: SQLite in WAL mode, written only by the coordinating process.

Contract: a job row marked ``done`` is never modified; a fold's scores, predictions and
history are written in the same transaction as its ``done`` mark, so a killed run leaves
either all of a fold or none of it. Failed jobs are stored as failed, with the traceback.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.errors import BenchError
from bench.store.states import JobKind, JobStatus, RunStatus

BUSY_TIMEOUT = 30.0  # seconds a write waits for another process's lock before failing

# Ordered migrations: entry i brings a store from schema version i to i + 1. A store made
# before versions were recorded has the tables of version 1 and user_version 0.
MIGRATIONS = (
    """
    CREATE TABLE runs (
        id INTEGER PRIMARY KEY, suite TEXT, suite_hash TEXT, profile TEXT, command TEXT,
        started REAL, ended REAL, status TEXT, provenance TEXT);
    CREATE TABLE plan (
        suite_hash TEXT, profile TEXT, job TEXT, kind TEXT, cell TEXT, factors TEXT,
        repeat INTEGER, fold INTEGER, label TEXT, PRIMARY KEY (suite_hash, profile, job));
    CREATE TABLE jobs (
        hash TEXT PRIMARY KEY, kind TEXT, label TEXT, status TEXT, run_id INTEGER,
        started REAL, duration REAL, error TEXT, traceback TEXT, artifact TEXT, info TEXT);
    CREATE TABLE fold_results (
        job TEXT PRIMARY KEY, cell TEXT, factors TEXT, repeat INTEGER, fold INTEGER,
        n_train INTEGER, n_val INTEGER, n_test INTEGER, threshold REAL, params TEXT);
    CREATE TABLE scores (
        job TEXT, metric TEXT, value REAL, PRIMARY KEY (job, metric));
    CREATE TABLE predictions (
        job TEXT, sample TEXT, y_true INTEGER, proba TEXT, PRIMARY KEY (job, sample));
    CREATE TABLE histories (
        job TEXT, stage TEXT, epoch INTEGER, metric TEXT, value REAL);
    CREATE TABLE folds (
        dataset TEXT, repeat INTEGER, fold INTEGER, sample TEXT, part TEXT,
        PRIMARY KEY (dataset, repeat, sample, part));
    CREATE INDEX histories_job ON histories (job);
    CREATE INDEX plan_kind ON plan (suite_hash, profile, kind);
    """,
    # 2: the inputs each job hash covers (to say why a job is stale), inner-validation
    # scores per fold (selection-aware estimates), fold assignments keyed by the plan.
    """
    ALTER TABLE jobs ADD COLUMN inputs TEXT;
    ALTER TABLE fold_results ADD COLUMN val_scores TEXT;
    CREATE TABLE folds_keyed (
        suite_hash TEXT, profile TEXT, dataset TEXT, repeat INTEGER, fold INTEGER,
        sample TEXT, part TEXT, PRIMARY KEY (suite_hash, profile, dataset, repeat, sample, part));
    INSERT INTO folds_keyed SELECT '', '', dataset, repeat, fold, sample, part FROM folds;
    DROP TABLE folds;
    ALTER TABLE folds_keyed RENAME TO folds;
    """,
    # 3: each fold's model cost (parameters, FLOPs, latency, training time) and the patient
    # of each sample (patient-level bootstrap intervals).
    """
    CREATE TABLE costs (job TEXT, name TEXT, value REAL, PRIMARY KEY (job, name));
    CREATE TABLE patients (
        dataset TEXT, sample TEXT, patient TEXT, PRIMARY KEY (dataset, sample));
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)


class StoreError(BenchError):
    """The results database cannot be used by this version of bench."""


@dataclass(frozen=True)
class FoldRecord:
    """Everything one outer fold produced, stored atomically."""

    job: str
    cell: str
    factors: dict
    repeat: int
    fold: int
    n_train: int | None  # None in a table copied from a publication
    n_val: int | None
    n_test: int | None
    threshold: float
    params: dict
    scores: dict[str, float]
    samples: Sequence[str]
    y_true: Sequence[int]
    proba: Sequence[Sequence[float]]
    history: dict[str, dict[str, list[float]]]  # stage -> metric -> per-epoch values
    val_scores: dict[str, float] = field(default_factory=dict)  # on the inner validation split
    cost: dict[str, float] = field(default_factory=dict)  # see bench.models.cost


@dataclass(frozen=True)
class PlanRow:
    job: str
    kind: str  # "stage" or "fold"
    label: str
    cell: str | None = None
    factors: dict | None = None
    repeat: int | None = None
    fold: int | None = None

    @classmethod
    def of_fold(cls, record: FoldRecord, *, label: str) -> PlanRow:
        """The plan row of a fold result (for stores filled without running a plan)."""
        return cls(
            job=record.job,
            kind=JobKind.FOLD,
            label=label,
            cell=record.cell,
            factors=record.factors,
            repeat=record.repeat,
            fold=record.fold,
        )


class Store:
    """One suite's results database."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self._migrate()

    def close(self) -> None:
        self.db.close()

    @property
    def version(self) -> int:
        return self.db.execute("PRAGMA user_version").fetchone()[0]

    def _migrate(self) -> None:
        """Bring the file to :data:`SCHEMA_VERSION`, one migration per transaction."""
        version = self.version
        if version == 0 and self._has_table("runs"):
            version = 1  # written before schema versions were recorded
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path}: results store schema version {version} is newer than this "
                f"bench understands ({SCHEMA_VERSION}); upgrade bench, or write to another "
                "results folder ([suite] results)"
            )
        for target in range(version + 1, SCHEMA_VERSION + 1):
            statements = [q for q in MIGRATIONS[target - 1].split(";") if q.strip()]
            with self.transaction():
                for statement in statements:
                    self.db.execute(statement)
                self.db.execute(f"PRAGMA user_version = {target}")

    def _has_table(self, name: str) -> bool:
        query = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?"
        return self.db.execute(query, (name,)).fetchone() is not None

    def transaction(self) -> _Transaction:
        return _Transaction(self.db)

    # runs -------------------------------------------------------------------------------
    def begin_run(
        self, *, suite: str, suite_hash: str, profile: str, command: str, provenance: dict
    ) -> int:
        cursor = self.db.execute(
            "INSERT INTO runs (suite, suite_hash, profile, command, started, status, provenance)"
            " VALUES (?, ?, ?, ?, ?, 'running', ?)",
            (suite, suite_hash, profile, command, time.time(), json.dumps(provenance)),
        )
        assert cursor.lastrowid is not None  # set by every INSERT
        return cursor.lastrowid

    def end_run(self, run_id: int, *, status: str) -> None:
        self.db.execute(
            "UPDATE runs SET ended = ?, status = ? WHERE id = ?", (time.time(), status, run_id)
        )

    def close_abandoned_runs(self, *, status: str = RunStatus.KILLED) -> int:
        """Mark runs still 'running' as ``status``; call only while holding the run lock."""
        cursor = self.db.execute("UPDATE runs SET status = ? WHERE status = 'running'", (status,))
        return cursor.rowcount

    def integrity_check(self) -> str:
        """SQLite's own consistency check of the whole file: 'ok', or what is wrong."""
        rows = self.db.execute("PRAGMA integrity_check").fetchall()
        return "; ".join(row[0] for row in rows)

    def latest_run(
        self, *, suite_hash: str | None = None, profile: str | None = None
    ) -> dict[str, Any] | None:
        query = (
            "SELECT id, suite, suite_hash, profile, command, started, ended, status, "
            "provenance FROM runs"
        )
        clauses, args = _filters(suite_hash=suite_hash, profile=profile)
        row = self.db.execute(f"{query}{clauses} ORDER BY id DESC LIMIT 1", args).fetchone()
        if row is None:
            return None
        keys = ("id", "suite", "suite_hash", "profile", "command", "started", "ended", "status")
        return {**dict(zip(keys, row[:-1], strict=True)), "provenance": json.loads(row[-1])}

    # plan -------------------------------------------------------------------------------
    def record_plan(self, *, suite_hash: str, profile: str, rows: Iterable[PlanRow]) -> None:
        with self.transaction():
            self.db.executemany(
                "INSERT OR IGNORE INTO plan VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        suite_hash,
                        profile,
                        r.job,
                        r.kind,
                        r.cell,
                        json.dumps(r.factors) if r.factors is not None else None,
                        r.repeat,
                        r.fold,
                        r.label,
                    )
                    for r in rows
                ],
            )

    def plan_status(self, *, suite_hash: str, profile: str) -> list[tuple]:
        """(kind, cell, label, status) per planned job; status None when never run."""
        return self.db.execute(
            "SELECT p.kind, p.cell, p.label, j.status FROM plan p LEFT JOIN jobs j "
            "ON j.hash = p.job WHERE p.suite_hash = ? AND p.profile = ? ORDER BY p.rowid",
            (suite_hash, profile),
        ).fetchall()

    # jobs -------------------------------------------------------------------------------
    def job_statuses(self, jobs: Iterable[str]) -> dict[str, str]:
        rows = []
        for chunk, marks in _chunks(jobs):
            rows += self.db.execute(
                f"SELECT hash, status FROM jobs WHERE hash IN ({marks})", chunk
            ).fetchall()
        return dict(rows)

    def record_stage(
        self,
        *,
        job: str,
        label: str,
        run_id: int,
        started: float,
        artifact: str,
        history: dict[str, list[float]],
        inputs: dict | None = None,
    ) -> None:
        with self.transaction():
            self._replace_job(
                job,
                JobKind.STAGE,
                label,
                JobStatus.DONE,
                run_id,
                started,
                artifact=artifact,
                inputs=inputs,
            )
            self._history(job, JobKind.STAGE, history)

    def record_failure(
        self,
        *,
        job: str,
        kind: str,
        label: str,
        run_id: int,
        started: float,
        error: str,
        traceback: str,
        inputs: dict | None = None,
    ) -> None:
        with self.transaction():
            self._replace_job(
                job,
                kind,
                label,
                JobStatus.FAILED,
                run_id,
                started,
                error=error,
                traceback=traceback,
                inputs=inputs,
            )

    def record_fold(
        self,
        record: FoldRecord,
        *,
        label: str,
        run_id: int,
        started: float,
        process: dict | None = None,  # host, pid and memory of the worker that trained it
        inputs: dict | None = None,
    ) -> None:
        """Store one fold's results and mark its job done, all or nothing."""
        r = record
        with self.transaction():
            self._replace_job(
                r.job,
                JobKind.FOLD,
                label,
                JobStatus.DONE,
                run_id,
                started,
                process=process,
                inputs=inputs,
            )
            self.db.execute(
                "INSERT OR REPLACE INTO fold_results VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    r.job,
                    r.cell,
                    json.dumps(r.factors),
                    r.repeat,
                    r.fold,
                    r.n_train,
                    r.n_val,
                    r.n_test,
                    r.threshold,
                    json.dumps(r.params),
                    json.dumps(r.val_scores),
                ),
            )
            self.db.execute("DELETE FROM scores WHERE job = ?", (r.job,))
            self.db.executemany(
                "INSERT INTO scores VALUES (?, ?, ?)",
                [(r.job, m, float(v)) for m, v in r.scores.items()],
            )
            self.db.execute("DELETE FROM predictions WHERE job = ?", (r.job,))
            self.db.executemany(
                "INSERT INTO predictions VALUES (?, ?, ?, ?)",
                [
                    (r.job, s, int(y), json.dumps([round(float(p), 7) for p in ps]))
                    for s, y, ps in zip(r.samples, r.y_true, r.proba, strict=True)
                ],
            )
            for stage, history in r.history.items():
                self._history(r.job, stage, history)
            self.db.execute("DELETE FROM costs WHERE job = ?", (r.job,))
            self.db.executemany(
                "INSERT INTO costs VALUES (?, ?, ?)",
                [(r.job, name, float(v)) for name, v in r.cost.items()],
            )

    def record_folds(
        self, *, suite_hash: str, profile: str, dataset: str, rows: Iterable[tuple]
    ) -> None:
        """Fold assignment rows (repeat, fold, sample, part) of one plan: a changed suite
        has its own rows, never mixed with another plan's."""
        with self.transaction():
            self.db.executemany(
                "INSERT OR IGNORE INTO folds VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(suite_hash, profile, dataset, *row) for row in rows],
            )

    def fold_assignments(self, *, suite_hash: str, profile: str, dataset: str) -> list[tuple]:
        """(repeat, fold, sample, part) rows of one plan."""
        return self.db.execute(
            "SELECT repeat, fold, sample, part FROM folds WHERE suite_hash = ? AND profile = ? "
            "AND dataset = ? ORDER BY repeat, fold, part, sample",
            (suite_hash, profile, dataset),
        ).fetchall()

    def job_inputs(self, labels: Iterable[str], *, profile: str) -> dict[str, tuple]:
        """(hash, status, inputs) of the newest stored job of each label planned under
        ``profile`` (another profile's job of the same label is not an earlier version)."""
        found = {}
        for chunk, marks in _chunks(labels):
            rows = self.db.execute(
                "SELECT DISTINCT j.label, j.hash, j.status, j.inputs, j.started FROM jobs j "
                f"JOIN plan p ON p.job = j.hash WHERE p.profile = ? AND j.label IN ({marks}) "
                "ORDER BY j.started",
                [profile, *chunk],
            ).fetchall()
            for label, job, status, inputs, _ in rows:
                found[label] = (job, status, json.loads(inputs) if inputs else {})
        return found

    def record_patients(self, *, dataset: str, rows: Iterable[tuple[str, str]]) -> None:
        """(sample, patient) of a dataset's images, for patient-level bootstrap intervals."""
        with self.transaction():
            self.db.executemany(
                "INSERT OR IGNORE INTO patients VALUES (?, ?, ?)",
                [(dataset, *row) for row in rows],
            )

    def _replace_job(
        self,
        job,
        kind,
        label,
        status,
        run_id,
        started,
        *,
        artifact=None,
        error=None,
        traceback=None,
        process=None,
        inputs=None,
    ) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO jobs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                job,
                kind,
                label,
                status,
                run_id,
                started,
                time.time() - started,
                error,
                traceback,
                artifact,
                json.dumps(process or {}),  # the info column
                json.dumps(inputs) if inputs is not None else None,
            ),
        )

    def _history(self, job: str, stage: str, history: dict[str, list[float]]) -> None:
        self.db.execute("DELETE FROM histories WHERE job = ? AND stage = ?", (job, stage))
        self.db.executemany(
            "INSERT INTO histories VALUES (?, ?, ?, ?, ?)",
            [
                (job, stage, epoch, metric, float(v))
                for metric, values in history.items()
                for epoch, v in enumerate(values)
            ],
        )


class _Transaction:
    def __init__(self, db: sqlite3.Connection):
        self.db = db

    def __enter__(self):
        self.db.execute("BEGIN IMMEDIATE")
        return self.db

    def __exit__(self, kind, value, traceback):
        self.db.execute("ROLLBACK" if kind else "COMMIT")
        return False


def _chunks(items: Iterable[str], size: int = 500):
    """``items`` in chunks small enough for one ``IN (...)`` query, with their placeholders."""
    wanted = list(items)
    for start in range(0, len(wanted), size):
        chunk = wanted[start : start + size]
        yield chunk, ",".join("?" * len(chunk))


def _filters(**columns) -> tuple[str, list]:
    pairs = [(k, v) for k, v in columns.items() if v is not None]
    if not pairs:
        return "", []
    return " WHERE " + " AND ".join(f"{k} = ?" for k, _ in pairs), [v for _, v in pairs]
