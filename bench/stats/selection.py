"""What the winner of a grid can be expected to score: a selection-aware (nested) estimate.

The cell with the best mean outer-test score is the maximum of many noisy means, so its mean
is biased upward (Varma & Simon 2006; Cawley & Talbot 2010): on a grid of identical recipes
the "winner" still beats the common true score. The honest number for "pick the best cell,
then train it" scores that whole procedure on data it did not choose on:

- within each outer (repeat, fold), choose the cell with the best *inner-validation* score
  (the split that already drives early stopping and the threshold; the outer test fold is
  not read for the choice);
- score the chosen cell on that outer test fold;
- the mean over the J (repeat, fold)s is the nested estimate, with a t-interval whose
  variance is inflated by n_test/n_train as in the Nadeau–Bengio corrected t-test (folds
  share training data), cut to the metric's range (an AUC interval ends at 1 at most);
- the optimism is naive − nested (positive: the naive mean flatters the winner).

Ties on the validation score go to the cell listed first (the table's order).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from bench.errors import StatsError
from bench.metrics import within_range
from bench.stats.corrected import fold_size_ratio
from bench.stats.tdist import t_interval

if TYPE_CHECKING:
    import pandas as pd

VALIDATION = "val_{metric}"  # column of the inner-validation score beside the test score


@dataclass(frozen=True)
class SelectionEstimate:
    """The naive winner and the nested estimate of choosing it, on one metric."""

    metric: str
    winner: str  # the cell with the best mean outer-test score
    naive: float  # its mean outer-test score
    nested: float  # mean outer-test score of the cells chosen per fold on validation
    ci_low: float
    ci_high: float
    folds: int  # J: the (repeat, fold)s the nested estimate averages
    chosen: tuple[tuple[int, int, str], ...]  # (repeat, fold, cell) chosen per fold
    cells: int  # how many cells the winner was chosen from
    confidence: float = 0.95

    @property
    def optimism(self) -> float:
        """How much the naive mean overstates the select-then-train procedure."""
        return self.naive - self.nested

    def line(self) -> str:
        return (
            f"{self.metric}: winner {self.winner} naive mean {self.naive:.3f}; nested "
            f"(select on inner validation, score on outer test) {self.nested:.3f} "
            f"[{self.ci_low:.3f}, {self.ci_high:.3f}] over {self.folds} folds; "
            f"optimism {self.optimism:+.3f}"
        )


def nested_estimate(
    scores: pd.DataFrame,
    *,
    metric: str,
    higher_is_better: bool = True,
    confidence: float = 0.95,
) -> SelectionEstimate:
    """The selection-aware estimate of the best cell on ``metric`` (see the module doc).

    ``scores`` has one row per (cell, repeat, fold) with the test score ``metric``, its
    inner-validation score ``val_<metric>`` and the fold sizes ``n_train`` and ``n_test``.
    """
    validation = VALIDATION.format(metric=metric)
    _check(scores, metric, validation)
    sign = 1.0 if higher_is_better else -1.0
    means = scores.groupby("cell", sort=False)[metric].mean()
    winner = str((sign * means).idxmax())
    chosen = []
    for (repeat, fold), rows in scores.groupby(["repeat", "fold"], sort=True):
        best = rows.iloc[int(np.argmax(sign * rows[validation].to_numpy()))]
        chosen.append((int(repeat), int(fold), str(best["cell"]), float(best[metric])))
    values = np.array([value for *_, value in chosen])
    low, high = within_range(metric, *_interval(values, scores, confidence))
    return SelectionEstimate(
        metric=metric,
        winner=winner,
        naive=float(means[winner]),
        nested=float(values.mean()),
        ci_low=low,
        ci_high=high,
        folds=len(values),
        chosen=tuple((r, f, c) for r, f, c, _ in chosen),
        cells=len(means),
        confidence=confidence,
    )


def _interval(values: np.ndarray, scores: pd.DataFrame, confidence: float) -> tuple[float, float]:
    j = len(values)
    if j < 2:
        return float("nan"), float("nan")
    ratio = fold_size_ratio(scores["n_train"], scores["n_test"])
    se = math.sqrt((1.0 / j + ratio) * float(np.var(values, ddof=1)))
    return t_interval(float(values.mean()), se, j - 1, confidence)


def _check(scores: pd.DataFrame, metric: str, validation: str) -> None:
    missing = [c for c in ("cell", "repeat", "fold", metric, validation) if c not in scores]
    if missing:
        raise StatsError(
            f"the nested estimate needs inner-validation scores ({validation}), which these "
            "results do not hold (stored before they were recorded, or imported); rerun the "
            "suite to record them"
        )
    if scores[[metric, validation]].isna().any().any():
        raise StatsError(
            f"the nested estimate needs {metric} on every fold's test and inner validation "
            "part; some are missing (NaN)"
        )
