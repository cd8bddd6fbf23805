"""Validation accuracy per epoch, one line per learning rate (Lin & Ghanta's Figure 1).

Drawn when the grid sweeps a learning rate: the first setting axis whose key ends in
``learning_rate`` (``train.learning_rate``, a stage's or an optimizer's). Each line is the
inner-validation accuracy per epoch of the target stage, averaged over the fold jobs at
that learning rate that reached the epoch: over folds × repeats, and over epoch-budget axes
(keys ending in ``epochs``), whose shorter runs are the start of the longer ones. Every
combination of the other factors that vary (e.g. the backbone), and every target stage when
the cells train several, gets its own panel.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from bench.report.figures.canvas import (
    Drawing,
    FigureSkipped,
    NotApplicable,
    grid_shape,
    new_figure,
    palette,
)
from bench.report.figures.context import FigureContext
from bench.report.figures.levels import MAX_PANELS, ordered, panel_factors, panel_title

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

METRIC = "val_accuracy"


@dataclass(frozen=True)
class RateCurve:
    rate: str
    epochs: np.ndarray  # 1-based
    accuracy: np.ndarray  # mean over the jobs that reached each epoch
    jobs: int


@dataclass(frozen=True)
class RatePanel:
    title: str
    curves: tuple[RateCurve, ...]


def rate_axis(factors: tuple[str, ...]) -> str | None:
    """The grid's learning-rate axis, or None."""
    return next((f for f in factors if "." in f and f.endswith("learning_rate")), None)


def rate_panels(
    histories: pd.DataFrame,
    folds: pd.DataFrame,
    scores: pd.DataFrame,
    *,
    rate: str,
    factors: tuple[str, ...],
) -> tuple[RatePanel, ...]:
    """Per panel, the mean validation accuracy per epoch of each learning rate; a target
    stage of its own makes a panel of its own when the jobs train several."""
    accuracy = histories[histories["job"].isin(set(folds["job"])) & (histories["metric"] == METRIC)]
    if accuracy.empty:
        return ()
    pooled = [f for f in factors if f.endswith("epochs")]
    by = panel_factors(scores, factors, (rate, *pooled))
    cells = scores.drop_duplicates("cell").set_index("cell")[[rate, *by]].astype(str)
    frame = accuracy.join(folds.set_index("job")["cell"], on="job").join(cells, on="cell")
    by += ["stage"] if frame["stage"].nunique() > 1 else []
    rates = ordered(frame[rate])
    panels = []
    for key, part in frame.groupby(by, sort=False) if by else [((), frame)]:
        curves = tuple(_curve(level, part[part[rate] == level]) for level in rates)
        panels.append(RatePanel(panel_title(by, key), tuple(c for c in curves if c.jobs)))
    return tuple(panels)


def draw(panels: tuple[RatePanel, ...], *, rate: str) -> Figure:
    """One axes per panel, a colour per learning rate (the same in every panel)."""
    from matplotlib.ticker import MaxNLocator

    rows, cols = grid_shape(len(panels))
    figure = new_figure(4.2 * cols, 3.3 * rows)
    colors = palette(ordered(c.rate for p in panels for c in p.curves))
    for index, panel in enumerate(panels):
        axes = figure.add_subplot(rows, cols, index + 1)
        for curve in panel.curves:
            axes.plot(
                curve.epochs,
                curve.accuracy,
                color=colors[curve.rate],
                lw=1.8,
                label=f"{curve.rate} ({curve.jobs})",
            )
        axes.set_title(panel.title, fontsize="medium")
        axes.set_xlabel("Epoch")
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes.set_ylabel("Validation accuracy")
        axes.legend(title=rate, fontsize="x-small", title_fontsize="x-small")
    return figure


def make(context: FigureContext) -> Drawing:
    """The learning-rate curves, or :class:`FigureSkipped` without a learning-rate axis."""
    factors = context.board.factors
    rate = rate_axis(factors)
    if rate is None:
        raise NotApplicable("learning-rate curves: the grid has no learning-rate axis")
    inputs = context.inputs
    panels = rate_panels(inputs.histories, inputs.folds, inputs.scores, rate=rate, factors=factors)
    if not panels:
        raise FigureSkipped("learning-rate curves need stored validation accuracy per epoch")
    if len(panels) > MAX_PANELS:
        raise FigureSkipped(f"learning-rate curves: {len(panels)} panels, more than {MAX_PANELS}")
    caption = (
        f"Inner-validation accuracy per epoch of the target stage, one line per {rate}, "
        f"averaged over the fold jobs that reached each epoch ({context.sample_note()}); "
        "legend: number of jobs."
    )
    return Drawing(draw(panels, rate=rate), caption)


def _curve(rate: str, rows: pd.DataFrame) -> RateCurve:
    means = rows.groupby("epoch")["value"].mean()
    return RateCurve(
        rate=rate,
        epochs=means.index.to_numpy() + 1,
        accuracy=means.to_numpy(),
        jobs=rows["job"].nunique(),
    )
