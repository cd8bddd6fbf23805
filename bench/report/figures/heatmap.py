"""Backbone × optimizer heatmap of each strategy's gain over the baseline strategy.

Gain = mean score of the strategy's cell − mean score of the baseline's cell with the same
backbone and optimizer, on the leaderboard's sort metric (means over folds × repeats, and over
any further factors). One panel per non-baseline strategy; blank where a cell has no partner.
The colour scale is symmetric around 0 and blue means better, also for metrics where lower is
better (loss, Brier), whose gains are then negative.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from bench.metrics import LOWER_IS_BETTER
from bench.report.figures.canvas import Drawing, FigureSkipped, grid_shape, new_figure
from bench.report.figures.context import FigureContext
from bench.report.figures.levels import Panel, PanelGrid
from bench.report.leaderboard import METRIC_LABELS
from bench.report.significance import FACTOR

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

ROWS, COLUMNS = "backbone", "optimizer"


def gain_grids(scores: pd.DataFrame, *, metric: str, baseline: str) -> PanelGrid:
    """Per strategy, the backbone × optimizer matrix of mean(strategy) − mean(baseline), in a
    panel titled "strategy − baseline"."""
    means = scores.groupby([FACTOR, ROWS, COLUMNS], sort=False)[metric].mean()
    backbones = tuple(dict.fromkeys(scores[ROWS].astype(str)))
    optimizers = tuple(dict.fromkeys(scores[COLUMNS].astype(str)))
    table = means.unstack(FACTOR).reindex([(b, o) for b in backbones for o in optimizers])
    levels = [s for s in dict.fromkeys(scores[FACTOR].astype(str)) if s != baseline]
    panels = tuple(
        Panel(
            f"{level} − {baseline}",
            (table[level] - table[baseline]).to_numpy().reshape(len(backbones), -1),
        )
        for level in levels
    )
    return PanelGrid(metric, ROWS, COLUMNS, backbones, optimizers, panels)


def draw(grids: PanelGrid) -> Figure:
    """One annotated heatmap per strategy on a shared, symmetric colour scale."""
    rows, cols = grid_shape(len(grids.panels))
    width = 1.6 + 0.9 * len(grids.column_levels)
    figure = new_figure(cols * width + 0.8, rows * (1.0 + 0.45 * len(grids.row_levels)))
    values = np.concatenate([p.values.ravel() for p in grids.panels])
    limit = float(np.nanmax(np.abs(values))) if np.isfinite(values).any() else 1.0
    limit = limit or 1.0
    cmap = "RdBu_r" if grids.metric in LOWER_IS_BETTER else "RdBu"
    for index, panel in enumerate(grids.panels):
        axes = figure.add_subplot(rows, cols, index + 1)
        image = axes.imshow(panel.values, cmap=cmap, vmin=-limit, vmax=limit, aspect="auto")
        for (i, j), gain in np.ndenumerate(panel.values):
            if np.isfinite(gain):
                color = "white" if abs(gain) > 0.6 * limit else "black"
                axes.text(
                    j, i, f"{gain:+.3f}", ha="center", va="center", fontsize="small", color=color
                )
        axes.set_xticks(range(len(grids.column_levels)), grids.column_levels)
        axes.set_yticks(range(len(grids.row_levels)), grids.row_levels)
        axes.set_xlabel(grids.columns)
        axes.set_ylabel(grids.rows)
        axes.set_title(panel.title, fontsize="medium")
    label = f"gain in {METRIC_LABELS.get(grids.metric, grids.metric)}"
    figure.colorbar(image, ax=figure.axes, shrink=0.8, label=label)
    return figure


def make(context: FigureContext) -> Drawing:
    """The gain heatmap, or :class:`FigureSkipped` when the grid lacks what it needs."""
    factors = context.board.factors
    missing = [f for f in (FACTOR, ROWS, COLUMNS) if f not in factors]
    if missing:
        raise FigureSkipped(f"gain heatmap: the results have no {' or '.join(missing)} factor")
    if context.baseline is None:
        raise FigureSkipped("gain heatmap: no baseline strategy (set [report] baseline)")
    metric = context.board.sort
    grids = gain_grids(context.inputs.scores, metric=metric, baseline=context.baseline)
    if not grids.panels:
        raise FigureSkipped(f"gain heatmap: {context.baseline} is the only strategy")
    direction = "lower is better" if metric in LOWER_IS_BETTER else "higher is better"
    caption = (
        f"Gain of each strategy over {context.baseline} in mean "
        f"{METRIC_LABELS.get(metric, metric)} ({direction}; blue = better) per backbone × "
        "optimizer; blank: no matched cell."
    )
    return Drawing(draw(grids), caption)
