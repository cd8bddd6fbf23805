"""Reliability diagram per strategy: top-label accuracy against confidence, pooled.

Each strategy's out-of-fold predictions (all its cells' folds) are binned by the predicted
class's probability in equal-width bins (:func:`bench.metrics.reliability_bins`); a point is
a bin's mean confidence and accuracy, sized by its count; the diagonal is perfect
calibration. The legend gives each strategy's expected calibration error.
"""

from __future__ import annotations

import numpy as np

from bench.metrics import expected_calibration_error, reliability_bins
from bench.report.figures.canvas import Drawing, new_figure, palette
from bench.report.figures.context import FigureContext


def pooled_by_group(context: FigureContext) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per group with predictions: its pooled labels and probabilities, in group order."""
    parts: dict[str, list] = {}
    for job, fold in context.predictions("reliability diagrams").items():
        parts.setdefault(context.job_groups[job], []).append(fold)
    return {
        group: (
            np.concatenate([f.y_true for f in parts[group]]),
            np.concatenate([f.proba for f in parts[group]]),
        )
        for group in context.groups
        if group in parts
    }


def make(context: FigureContext) -> Drawing:
    """The reliability diagram, or :class:`FigureSkipped` without predictions."""
    pooled = pooled_by_group(context)
    colours = palette(context.groups)
    figure = new_figure(4.8, 4.2)
    axes = figure.add_subplot(1, 1, 1)
    axes.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1)
    for group, (y, proba) in pooled.items():
        table = reliability_bins(y, proba)
        filled = table["count"] > 0
        ece = expected_calibration_error(y, proba)
        axes.plot(
            table["confidence"][filled],
            table["accuracy"][filled],
            marker="o",
            color=colours[group],
            label=f"{group} (ECE {ece:.3f})",
        )
    axes.set_xlim(0, 1.01)
    axes.set_ylim(0, 1.01)
    axes.set_xlabel("Confidence (predicted class probability)")
    axes.set_ylabel("Accuracy")
    axes.legend(fontsize="small", loc="upper left")
    caption = (
        f"Reliability diagram per strategy, pooled over {context.sample_note()}: accuracy "
        "against mean confidence in 10 equal-width bins of the predicted class's probability; "
        "dashed: perfect calibration; ECE in the legend."
    )
    return Drawing(figure, caption)
