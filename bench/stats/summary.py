"""Per-cell summaries of one metric over folds x repeats."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from bench.metrics import within_range
from bench.stats.samples import check_confidence
from bench.stats.table import check_finite, check_metric, check_unique_folds, require_columns
from bench.stats.tdist import t_interval

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class CellSummary:
    """Mean, sd and t-interval of one metric in one cell, and the spread of repeat means.

    ``sd``, ``ci_low`` and ``ci_high`` are NaN when the cell has a single score (a published
    table). ``repeat_mean_min``/``repeat_mean_max`` are the extremes of the per-repeat means.
    """

    cell: str
    metric: str
    n: int
    mean: float
    sd: float
    ci_low: float
    ci_high: float
    confidence: float
    n_repeats: int
    repeat_mean_min: float
    repeat_mean_max: float


def summarize_cells(
    scores: pd.DataFrame, *, metric: str, confidence: float = 0.95
) -> tuple[CellSummary, ...]:
    """Summarise ``metric`` per cell, cells in order of first appearance.

    The interval is ``mean +- t_{(1+c)/2, n-1} * sd / sqrt(n)`` over the n = folds x repeats
    scores of the cell. It treats those scores as independent, which they are not (training
    sets overlap), so it is descriptive: it is narrower than the uncertainty a claim must carry.
    It is cut to the metric's range (an AUC interval ends at 1 at most).
    For a claim that one cell beats another use :func:`bench.stats.corrected_t`.
    """
    check_confidence(confidence)
    require_columns(scores, ("cell", "repeat"), why="a per-cell summary")
    check_metric(scores, metric)
    check_finite(scores, metric)
    check_unique_folds(scores)
    return tuple(
        _summarize_one(str(cell), rows, metric=metric, confidence=confidence)
        for cell, rows in scores.groupby("cell", sort=False)
    )


def _summarize_one(cell: str, rows: pd.DataFrame, *, metric: str, confidence: float) -> CellSummary:
    values = rows[metric].to_numpy(dtype=float)
    n = values.size
    mean = float(values.mean())
    sd, low, high = math.nan, math.nan, math.nan
    if n > 1:
        sd = float(values.std(ddof=1))
        low, high = within_range(metric, *t_interval(mean, sd / math.sqrt(n), n - 1, confidence))
    repeat_means = rows.groupby("repeat", sort=True)[metric].mean().to_numpy(dtype=float)
    return CellSummary(
        cell=cell,
        metric=metric,
        n=n,
        mean=mean,
        sd=sd,
        ci_low=low,
        ci_high=high,
        confidence=confidence,
        n_repeats=int(repeat_means.size),
        repeat_mean_min=float(np.min(repeat_means)),
        repeat_mean_max=float(np.max(repeat_means)),
    )
