"""Everything a report reads from the results database, loaded at once; the store is closed after.

A report never trains and never imports the engine. It reads the scores table
(:func:`bench.store.scores.load_scores`), each fold's decision threshold and tuned
hyperparameters, the runs and planned jobs of the suite (timing, stage reuse), and for the
figures the per-sample out-of-fold predictions and per-epoch histories.

Predictions and histories of a large store are sampled, deterministically: when the suite
has more than :data:`CURVE_FOLDS` fold results, each cell contributes its first
``CURVE_FOLDS // cells`` (repeat, fold)s, at least one. ROC curves, confusion matrices and
learning curves are drawn from that sample and their captions say so; every table uses all
fold results.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING

import numpy as np

from bench.errors import BenchError
from bench.store.db import Store
from bench.store.imports import PROFILE as IMPORTED
from bench.store.scores import identify_suite, load_scores, with_validation_scores
from bench.store.states import JobKind

if TYPE_CHECKING:
    import pandas as pd

CURVE_FOLDS = 400
_CHUNK = 500  # SQLite's default limit on "?" parameters is far above; keeps queries small

_FOLDS = (
    "SELECT r.job, r.cell, r.repeat, r.fold, r.threshold, r.params FROM plan p "
    "JOIN fold_results r ON r.job = p.job "
    "WHERE p.suite_hash = ? AND p.profile = ? AND p.kind = 'fold'"
)
_JOBS = (
    "SELECT p.job, p.kind, p.label, p.cell, j.status, j.run_id, j.duration FROM plan p "
    "LEFT JOIN jobs j ON j.hash = p.job WHERE p.suite_hash = ? AND p.profile = ? "
    "ORDER BY p.rowid"
)
_COSTS = (
    "SELECT c.job, c.name, c.value FROM plan p JOIN costs c ON c.job = p.job "
    "WHERE p.suite_hash = ? AND p.profile = ? AND p.kind = 'fold'"
)
_RUNS = (
    "SELECT id, command, started, ended, status, provenance FROM runs "
    "WHERE suite_hash = ? AND profile = ? ORDER BY id"
)


@dataclass(frozen=True)
class FoldPredictions:
    """One outer test fold's labels, class probabilities (N, K), decision threshold and
    sample ids, in the same order."""

    y_true: np.ndarray
    proba: np.ndarray
    threshold: float
    samples: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReportInputs:
    """What one report reads, for one (suite hash, profile) of one store.

    ``folds``: one row per fold result (job, cell, repeat, fold, threshold, params as a dict);
    ``jobs``: every planned job (job, kind "stage"/"fold", label, cell, status, run_id,
    duration), status None when never run; ``costs``: one row per fold job that measured its
    model (job, then one column per measure of :mod:`bench.models.cost` and
    ``train_seconds``), empty for older or imported results; ``runs``: the runs of this
    suite and profile, oldest first, provenance parsed; ``predictions`` and ``histories``
    cover the sampled fold jobs (``curve_folds`` of them) and, for histories, every stage
    job; ``groups`` maps a target sample id to its patient (empty when none was stored).
    """

    suite_hash: str
    profile: str
    scores: pd.DataFrame
    folds: pd.DataFrame
    jobs: pd.DataFrame
    costs: pd.DataFrame
    groups: Mapping[str, str]
    runs: tuple[Mapping[str, object], ...]
    predictions: Mapping[str, FoldPredictions]
    histories: pd.DataFrame
    curve_folds: int
    # scores on each fold's inner validation split (cell, repeat, fold, val_<metric>...);
    # None for results stored before they were recorded, or imported
    validation: pd.DataFrame | None = None

    @property
    def imported(self) -> bool:
        """Results brought in by ``bench import``: no predictions, histories or timings."""
        return self.profile == IMPORTED


def load_inputs(
    path: Path, *, suite_hash: str | None, profile: str | None, sample: bool = True
) -> ReportInputs:
    """Read one suite's results from ``path``; without a hash, those of the latest run.

    ``profile`` narrows the latest run when no hash is given (a results name such as an
    imported table); with a hash, both must match the stored plan. ``sample=False`` reads
    the predictions and histories of every fold, not only those the figures draw.
    """
    if not path.is_file():
        raise BenchError(f"{path}: no results database; run `bench run` or `bench import` first")
    store = Store(path)
    try:
        suite_hash, profile = identify_suite(store, suite_hash=suite_hash, profile=profile)
        return _read(store, suite_hash=suite_hash, profile=profile, sample=sample)
    finally:
        store.close()


def sample_folds(folds: pd.DataFrame, *, limit: int = CURVE_FOLDS) -> list[str]:
    """Jobs of the fold results the figures read: all, or each cell's first (repeat, fold)s."""
    ordered = folds.sort_values(["cell", "repeat", "fold"], kind="stable")
    if len(ordered) <= limit:
        return ordered["job"].tolist()
    per_cell = max(1, limit // ordered["cell"].nunique())
    return ordered.groupby("cell", sort=False).head(per_cell)["job"].tolist()


def _read(store: Store, *, suite_hash: str, profile: str, sample: bool) -> ReportInputs:
    import pandas as pd

    scores = load_scores(store, suite_hash=suite_hash, profile=profile)
    folds = pd.read_sql_query(_FOLDS, store.db, params=(suite_hash, profile))
    folds["params"] = [json.loads(text) if text else {} for text in folds["params"]]
    folds["threshold"] = folds["threshold"].astype(float)
    jobs = pd.read_sql_query(_JOBS, store.db, params=(suite_hash, profile))
    sampled = sample_folds(folds) if sample else folds["job"].tolist()
    stage_jobs = jobs.loc[jobs["kind"] == JobKind.STAGE, "job"].tolist()
    return ReportInputs(
        suite_hash=suite_hash,
        profile=profile,
        scores=scores,
        folds=folds,
        jobs=jobs,
        costs=_costs(store, suite_hash=suite_hash, profile=profile),
        groups=MappingProxyType(dict(store.db.execute("SELECT sample, patient FROM patients"))),
        runs=_runs(store, suite_hash=suite_hash, profile=profile),
        predictions=_predictions(store, folds, sampled),
        histories=_histories(store, [*stage_jobs, *sampled]),
        curve_folds=len(sampled),
        validation=_validation(store, scores, suite_hash=suite_hash, profile=profile),
    )


def _validation(store: Store, scores: pd.DataFrame, *, suite_hash: str, profile: str):
    merged = with_validation_scores(store, scores, suite_hash=suite_hash, profile=profile)
    columns = [c for c in merged.columns if c.startswith("val_")]
    return merged[["cell", "repeat", "fold", *columns]] if columns else None


def _runs(store: Store, *, suite_hash: str, profile: str) -> tuple[Mapping[str, object], ...]:
    keys = ("id", "command", "started", "ended", "status", "provenance")
    rows = store.db.execute(_RUNS, (suite_hash, profile)).fetchall()
    return tuple(
        MappingProxyType({**dict(zip(keys, row, strict=True)), "provenance": _json(row[-1])})
        for row in rows
    )


def _costs(store: Store, *, suite_hash: str, profile: str) -> pd.DataFrame:
    import pandas as pd

    long = pd.read_sql_query(_COSTS, store.db, params=(suite_hash, profile))
    wide = long.pivot(index="job", columns="name", values="value").reset_index()
    wide.columns.name = None
    return wide


def _predictions(
    store: Store, folds: pd.DataFrame, jobs: Sequence[str]
) -> Mapping[str, FoldPredictions]:
    thresholds = dict(zip(folds["job"], folds["threshold"], strict=True))
    rows: dict[str, tuple[list[str], list[int], list[list[float]]]] = {}
    for chunk in _chunks(jobs):
        marks = ",".join("?" * len(chunk))
        query = (
            f"SELECT job, sample, y_true, proba FROM predictions WHERE job IN ({marks}) "
            "ORDER BY job, sample"
        )
        for job, sample, y, proba in store.db.execute(query, chunk):
            samples, labels, probas = rows.setdefault(job, ([], [], []))
            samples.append(sample)
            labels.append(y)
            probas.append(json.loads(proba))
    return MappingProxyType(
        {
            job: FoldPredictions(
                y_true=np.asarray(rows[job][1], dtype=np.intp),
                proba=np.asarray(rows[job][2], dtype=float),
                threshold=float(thresholds[job]),
                samples=tuple(rows[job][0]),
            )
            for job in jobs
            if job in rows
        }
    )


def _histories(store: Store, jobs: Sequence[str]) -> pd.DataFrame:
    import pandas as pd

    frames = [
        pd.read_sql_query(
            "SELECT job, stage, epoch, metric, value FROM histories "
            f"WHERE job IN ({','.join('?' * len(chunk))})",
            store.db,
            params=list(chunk),
        )
        for chunk in _chunks(jobs)
    ]
    columns = ["job", "stage", "epoch", "metric", "value"]
    if not frames:
        return pd.DataFrame(columns=columns)
    return pd.concat(frames, ignore_index=True).sort_values(columns[:4], kind="stable")


def _chunks(items: Sequence[str]) -> list[Sequence[str]]:
    return [items[start : start + _CHUNK] for start in range(0, len(items), _CHUNK)]


def _json(text: str | None) -> dict:
    return json.loads(text) if text else {}
