"""Mean score over two grid axes: e.g. learning rate × epochs, one panel per other level.

The axes are ``[report] heatmap = [ROWS, COLUMNS]`` (any two factors, named or setting
axes), or else the grid's first two setting axes (dotted keys) with several levels each.
Each square is the mean of the leaderboard's sort metric over the folds × repeats of the
cells at that pair of levels (and over factors with a single level); every combination of
the remaining factors that vary (e.g. the backbone) gets a panel of its own. Numeric levels
are in numeric order. Brighter is better, also for metrics where lower is better; the best
square of each panel is outlined; blank: no cell (excluded).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from bench.metrics import LOWER_IS_BETTER
from bench.report.figures.canvas import (
    Drawing,
    FigureSkipped,
    NotApplicable,
    grid_shape,
    new_figure,
)
from bench.report.figures.context import FigureContext
from bench.report.figures.levels import (
    MAX_PANELS,
    Panel,
    PanelGrid,
    ordered,
    panel_factors,
    panel_title,
)
from bench.report.leaderboard import METRIC_LABELS

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure


def axis_grids(
    scores: pd.DataFrame, *, rows: str, columns: str, metric: str, factors: tuple[str, ...]
) -> PanelGrid:
    """Per panel (combination of the other varying factors), the rows × columns means."""
    row_levels = ordered(scores[rows].astype(str))
    column_levels = ordered(scores[columns].astype(str))
    by = panel_factors(scores, factors, (rows, columns))
    frame = scores.assign(**{f: scores[f].astype(str) for f in (rows, columns, *by)})
    panels = []
    for key, part in frame.groupby(by, sort=False) if by else [((), frame)]:
        means = part.groupby([rows, columns])[metric].mean().unstack(columns)
        means = means.reindex(index=list(row_levels), columns=list(column_levels))
        panels.append(Panel(panel_title(by, key), means.to_numpy(dtype=float)))
    return PanelGrid(metric, rows, columns, row_levels, column_levels, tuple(panels))


def draw(grids: PanelGrid) -> Figure:
    """One annotated heatmap per panel on a shared colour scale."""
    from matplotlib.patches import Rectangle

    count = len(grids.panels)
    rows, cols = grid_shape(count)
    width = 1.8 + 0.75 * len(grids.column_levels)
    figure = new_figure(cols * width + 0.8, rows * (1.2 + 0.4 * len(grids.row_levels)))
    values = np.concatenate([p.values.ravel() for p in grids.panels])
    low, high = float(np.nanmin(values)), float(np.nanmax(values))
    lower = grids.metric in LOWER_IS_BETTER
    cmap = "viridis_r" if lower else "viridis"
    for index, panel in enumerate(grids.panels):
        axes = figure.add_subplot(rows, cols, index + 1)
        image = axes.imshow(panel.values, cmap=cmap, vmin=low, vmax=high, aspect="auto")
        for (i, j), mean in np.ndenumerate(panel.values):
            if np.isfinite(mean):
                dark = (mean - low) / ((high - low) or 1.0) < 0.45  # viridis' dark end
                color = "white" if dark != lower else "black"
                axes.text(
                    j, i, f"{mean:.3f}", ha="center", va="center", fontsize="x-small", color=color
                )
        best = np.nanargmin(panel.values) if lower else np.nanargmax(panel.values)
        i, j = np.unravel_index(best, panel.values.shape)
        axes.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, lw=2, color="red"))
        axes.set_xticks(range(len(grids.column_levels)), grids.column_levels, fontsize="small")
        axes.set_yticks(range(len(grids.row_levels)), grids.row_levels, fontsize="small")
        axes.set_xlabel(grids.columns)
        axes.set_ylabel(grids.rows)
        axes.set_title(panel.title, fontsize="medium")
    figure.colorbar(image, ax=figure.axes, shrink=0.8, label=_label(grids.metric))
    return figure


def make(context: FigureContext) -> Drawing:
    """The axis heatmap, or :class:`FigureSkipped` when there are no two axes to draw."""
    scores, factors = context.inputs.scores, context.board.factors
    rows, columns = context.heatmap or _two_setting_axes(scores, factors)
    if rows not in factors or columns not in factors:
        raise FigureSkipped(f"axis heatmap: the results have no {rows} and {columns} factors")
    metric = context.board.sort
    grids = axis_grids(scores, rows=rows, columns=columns, metric=metric, factors=factors)
    if len(grids.panels) > MAX_PANELS:
        raise FigureSkipped(
            f"axis heatmap: {len(grids.panels)} panels (one per level of the other axes) are "
            f"more than {MAX_PANELS}; draw it from a smaller grid"
        )
    direction = "lower is better" if metric in LOWER_IS_BETTER else "higher is better"
    caption = (
        f"Mean {_label(metric)} ({direction}; brighter = better) over folds × repeats per "
        f"{rows} × {columns}; red box: each panel's best; blank: no cell."
    )
    return Drawing(draw(grids), caption)


def _two_setting_axes(scores: pd.DataFrame, factors: tuple[str, ...]) -> tuple[str, str]:
    swept = [f for f in factors if "." in f and scores[f].nunique() > 1]
    if len(swept) < 2:
        raise NotApplicable(
            "axis heatmap: the grid sweeps fewer than two settings; name two axes in "
            '[report] heatmap, e.g. ["backbone", "train.learning_rate"]'
        )
    return swept[0], swept[1]


def _label(metric: str) -> str:
    return METRIC_LABELS.get(metric, metric)
