"""What one fresh run of a suite leaves for the gate: fold scores, runtime and provenance.

A baseline file is a snapshot written to disk (:mod:`bench.regress.baseline`); the gate
compares the snapshot of a fresh run against it (:mod:`bench.regress.gate`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class FoldScore:
    """The metric values of one (cell, repeat, outer fold)."""

    cell: str
    repeat: int
    fold: int
    metrics: dict[str, float]


@dataclass(frozen=True)
class Snapshot:
    """One fresh run of a suite as the gate sees it.

    ``fold_fingerprint`` hashes the outer test folds (sample ids per repeat and fold): equal
    fingerprints mean the two runs scored the same images fold by fold, so folds pair.
    ``suite_seconds`` is the CPU time of the run, ``calibration_seconds`` the CPU time of
    the fixed reference workload measured around it in the same process (see
    :func:`bench.regress.fresh.fresh_run` for why CPU time); the wall time is kept in
    ``provenance["wall_seconds"]``, for information.
    """

    suite: str
    suite_hash: str
    profile: str
    fold_fingerprint: str
    folds: tuple[FoldScore, ...]
    suite_seconds: float
    calibration_seconds: float
    provenance: dict = field(default_factory=dict)

    @property
    def normalised_runtime(self) -> float:
        """Runtime in units of the calibration workload, comparable across machines."""
        return self.suite_seconds / self.calibration_seconds

    @property
    def cells(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(f.cell for f in self.folds))

    def scores(self, cell: str, metric: str) -> dict[tuple[int, int], float]:
        """``metric`` of ``cell`` keyed by (repeat, fold); folds without it are left out."""
        return {
            (f.repeat, f.fold): f.metrics[metric]
            for f in self.folds
            if f.cell == cell and metric in f.metrics
        }


def fold_scores(scores: pd.DataFrame, *, metrics: tuple[str, ...]) -> tuple[FoldScore, ...]:
    """The rows of a scores table (see :func:`bench.store.scores.load_scores`) as records.

    Every metric column the table has among ``metrics`` is kept, not only the gated ones, so
    a margin added later is checked against the same baseline. NaN values (an undefined
    AUC) are left out of the record.
    """
    kept = [m for m in metrics if m in scores.columns]
    return tuple(
        FoldScore(
            cell=str(row["cell"]),
            repeat=int(row["repeat"]),
            fold=int(row["fold"]),
            metrics={m: float(row[m]) for m in kept if math.isfinite(row[m])},
        )
        for _, row in scores.iterrows()
    )
