"""Mean ROC curve per strategy, with a band over folds, from the stored out-of-fold predictions.

Each outer test fold (of every cell of the strategy) gives one ROC curve: binary with class 1
as the positive class; multi-class as the macro average of the one-vs-rest curves of the
classes present in the fold. Curves are interpolated on a common false-positive-rate grid
and averaged; the band is ± 1 sd over folds, clipped to [0, 1]. The legend gives the mean
and sd over folds of each fold's area under its curve.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from bench.report.figures.canvas import Drawing, FigureSkipped, new_figure, palette
from bench.report.figures.context import FigureContext
from bench.report.inputs import FoldPredictions

if TYPE_CHECKING:
    from matplotlib.figure import Figure

GRID = np.linspace(0.0, 1.0, 101)


@dataclass(frozen=True)
class RocBand:
    """One group's mean true-positive rate on :data:`GRID`, its band and its fold AUCs."""

    group: str
    mean_tpr: np.ndarray
    low: np.ndarray
    high: np.ndarray
    auc_mean: float
    auc_sd: float
    folds: int


def roc_bands(
    predictions: Mapping[str, FoldPredictions], job_groups: Mapping[str, str], groups: tuple
) -> tuple[RocBand, ...]:
    """One band per group with at least one fold whose ROC curve is defined."""
    curves: dict[str, list[tuple[np.ndarray, float]]] = {group: [] for group in groups}
    for job, fold in predictions.items():
        curve = fold_curve(fold.y_true, fold.proba)
        if curve is not None:
            curves[job_groups[job]].append(curve)
    return tuple(_band(group, found) for group, found in curves.items() if found)


def fold_curve(y_true: np.ndarray, proba: np.ndarray) -> tuple[np.ndarray, float] | None:
    """(TPR on GRID, AUC) of one fold; macro one-vs-rest for K > 2; None if undefined."""
    classes = [1] if proba.shape[1] == 2 else range(proba.shape[1])
    curves = (roc_points(y_true == k, proba[:, k]) for k in classes)
    per_class = [points for points in curves if points is not None]
    if not per_class:
        return None
    tprs = [np.interp(GRID, fpr, tpr) for fpr, tpr in per_class]
    aucs = [float(np.trapezoid(tpr, fpr)) for fpr, tpr in per_class]
    return np.mean(tprs, axis=0), float(np.mean(aucs))


def roc_points(positive: np.ndarray, score: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """FPR and TPR at every distinct threshold, from (0, 0); None without both classes."""
    n_pos = int(positive.sum())
    n_neg = positive.size - n_pos
    if n_pos == 0 or n_neg == 0:
        return None
    order = np.argsort(-score, kind="stable")
    ranked = score[order]
    last = np.r_[np.flatnonzero(np.diff(ranked)), ranked.size - 1]
    tp = np.cumsum(positive[order])[last]
    fp = last + 1 - tp
    return np.r_[0.0, fp / n_neg], np.r_[0.0, tp / n_pos]


def draw(bands: tuple[RocBand, ...], *, groups: tuple, multiclass: bool) -> Figure:
    """The bands on one set of axes with the chance diagonal."""
    figure = new_figure(5.5, 5.0)
    axes = figure.add_subplot()
    colors = palette(groups)
    for band in bands:
        color = colors[band.group]
        label = f"{band.group} (AUC {band.auc_mean:.3f} ± {band.auc_sd:.3f}, {band.folds} folds)"
        axes.plot(GRID, band.mean_tpr, color=color, lw=2, label=label)
        axes.fill_between(GRID, band.low, band.high, color=color, alpha=0.2, lw=0)
    axes.plot([0, 1], [0, 1], color="grey", ls=":", lw=1, label="chance")
    axes.set(xlim=(0, 1), ylim=(0, 1.01), aspect="equal")
    axes.set_xlabel("False positive rate" + (" (macro one-vs-rest)" if multiclass else ""))
    axes.set_ylabel("True positive rate")
    axes.legend(loc="lower right", fontsize="small")
    return figure


def make(context: FigureContext) -> Drawing:
    """The ROC figure, or :class:`FigureSkipped` when no predictions are stored."""
    predictions = context.predictions("ROC curves")
    bands = roc_bands(predictions, context.job_groups, context.groups)
    if not bands:
        raise FigureSkipped("ROC curves: no test fold holds both a positive and a negative sample")
    multiclass = next(iter(predictions.values())).proba.shape[1] > 2
    what = "macro one-vs-rest ROC" if multiclass else "ROC (class 1 positive)"
    caption = (
        f"Mean {what} curve per strategy over {context.sample_note()}; band: ± 1 sd over "
        "folds; legend: mean ± sd of the per-fold AUC."
    )
    return Drawing(draw(bands, groups=context.groups, multiclass=multiclass), caption)


def _band(group: str, curves: list[tuple[np.ndarray, float]]) -> RocBand:
    tprs = np.array([tpr for tpr, _ in curves])
    aucs = np.array([auc for _, auc in curves])
    mean, sd = tprs.mean(axis=0), tprs.std(axis=0, ddof=1) if len(tprs) > 1 else 0.0
    return RocBand(
        group=group,
        mean_tpr=mean,
        low=np.clip(mean - sd, 0.0, 1.0),
        high=np.clip(mean + sd, 0.0, 1.0),
        auc_mean=float(aucs.mean()),
        auc_sd=float(aucs.std(ddof=1)) if len(aucs) > 1 else 0.0,
        folds=len(curves),
    )
