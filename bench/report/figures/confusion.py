"""Confusion matrices per strategy, pooled over the out-of-fold predictions of all its cells.

Each fold is labelled with its own decision threshold (binary: class 1 when p1 ≥ the fold's
stored threshold, chosen on that fold's inner validation split or fixed; a missing threshold
counts as 0.5) or the argmax (multi-class), then the counts are summed over folds. Colours
show each row's share (the recall of the true class); cells print count and share.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from bench.metrics import confusion_matrix
from bench.report.clinical import fold_labels
from bench.report.figures.canvas import Drawing, grid_shape, new_figure
from bench.report.figures.context import FigureContext
from bench.report.inputs import FoldPredictions

if TYPE_CHECKING:
    from matplotlib.figure import Figure


@dataclass(frozen=True)
class PooledConfusion:
    """Summed counts ``counts[true, predicted]`` of one group over ``folds`` folds."""

    group: str
    counts: np.ndarray
    folds: int


def pooled_confusions(
    predictions: Mapping[str, FoldPredictions], job_groups: Mapping[str, str], groups: tuple
) -> tuple[PooledConfusion, ...]:
    """One pooled matrix per group that has predictions, in group order."""
    n_classes = next(iter(predictions.values())).proba.shape[1]
    counts = {group: np.zeros((n_classes, n_classes), dtype=int) for group in groups}
    folds = dict.fromkeys(groups, 0)
    for job, fold in predictions.items():
        group = job_groups[job]
        counts[group] += confusion_matrix(fold.y_true, fold_labels(fold), n_classes=n_classes)
        folds[group] += 1
    return tuple(PooledConfusion(g, counts[g], folds[g]) for g in groups if folds[g])


def draw(matrices: tuple[PooledConfusion, ...], *, classes: tuple[str, ...]) -> Figure:
    """One heatmap panel per group, rows = true class, columns = predicted class."""
    rows, cols = grid_shape(len(matrices))
    size = 1.2 + 0.7 * len(classes)
    figure = new_figure(cols * size + 0.6, rows * size)
    for index, matrix in enumerate(matrices):
        axes = figure.add_subplot(rows, cols, index + 1)
        shares = matrix.counts / np.maximum(matrix.counts.sum(axis=1, keepdims=True), 1)
        image = axes.imshow(shares, cmap="Blues", vmin=0.0, vmax=1.0)
        for (i, j), count in np.ndenumerate(matrix.counts):
            color = "white" if shares[i, j] > 0.6 else "black"
            axes.text(
                j,
                i,
                f"{count}\n{shares[i, j]:.0%}",
                ha="center",
                va="center",
                fontsize="small",
                color=color,
            )
        ticks = range(len(classes))
        axes.set_xticks(ticks, classes, rotation=30, ha="right")
        axes.set_yticks(ticks, classes)
        axes.set_xlabel("Predicted")
        axes.set_ylabel("True")
        axes.set_title(f"{matrix.group} ({matrix.folds} folds)", fontsize="medium")
    figure.colorbar(image, ax=figure.axes, shrink=0.8, label="share of the true class")
    return figure


def make(context: FigureContext) -> Drawing:
    """The confusion-matrix figure, or :class:`FigureSkipped` without predictions."""
    predictions = context.predictions("confusion matrices")
    matrices = pooled_confusions(predictions, context.job_groups, context.groups)
    n_classes = matrices[0].counts.shape[0]
    classes = context.classes if context.classes and len(context.classes) == n_classes else None
    caption = (
        f"Confusion matrices per strategy, pooled over {context.sample_note()}; each fold "
        "thresholded at its own stored threshold (binary) or by argmax; colour = share of the "
        "true class."
    )
    names = classes or tuple(str(k) for k in range(n_classes))
    return Drawing(draw(matrices, classes=names), caption)
