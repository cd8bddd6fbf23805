"""Fold-score distributions per cell: a box per cell over its folds × repeats, points on top.

Cells are in leaderboard order (best first) and coloured by strategy; at most
:data:`MAX_CELLS` are drawn (the best ones), which the caption says. Boxes use every fold;
at most :data:`MAX_POINTS` evenly spaced folds per cell are drawn as points, which keeps a
store with thousands of repeats fast to draw. Point jitter is
deterministic, so the same store draws the same figure.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from bench.report.figures.canvas import Drawing, FigureSkipped, new_figure, palette
from bench.report.figures.context import FigureContext
from bench.report.leaderboard import METRIC_LABELS, row_labels

if TYPE_CHECKING:
    from matplotlib.figure import Figure

MAX_CELLS = 40
MAX_POINTS = 60


@dataclass(frozen=True)
class CellScores:
    """One cell's label, group and fold scores on the sort metric."""

    label: str
    group: str
    values: np.ndarray


def cell_scores(context: FigureContext, *, limit: int = MAX_CELLS) -> tuple[CellScores, ...]:
    """The best ``limit`` cells' fold scores on the leaderboard's sort metric."""
    metric = context.board.sort
    by_cell = {
        str(cell): group[metric].to_numpy(dtype=float)
        for cell, group in context.inputs.scores.groupby("cell", sort=False)
    }
    return tuple(
        CellScores(
            label=" / ".join(row_labels(row)),
            group=context.cell_groups[row.cell],
            values=by_cell[row.cell][~np.isnan(by_cell[row.cell])],
        )
        for row in context.board.rows[:limit]
    )


def draw(cells: tuple[CellScores, ...], *, metric: str, groups: tuple) -> Figure:
    """Horizontal boxes, best cell on top, fold scores as jittered points."""
    figure = new_figure(7.0, 1.0 + 0.28 * len(cells))
    axes = figure.add_subplot()
    colors = palette(groups)
    positions = np.arange(len(cells))[::-1]
    axes.boxplot(
        [cell.values for cell in cells],
        positions=positions,
        orientation="horizontal",
        widths=0.6,
        showfliers=False,
        medianprops={"color": "black"},
    )
    jitter = np.random.default_rng(0)
    for position, cell in zip(positions, cells, strict=True):
        points = _spread(cell.values)
        offsets = jitter.uniform(-0.18, 0.18, points.size)
        axes.scatter(points, position + offsets, s=9, color=colors[cell.group], alpha=0.8, zorder=3)
    axes.set_yticks(positions, [cell.label for cell in cells], fontsize="small")
    axes.set_xlabel(METRIC_LABELS.get(metric, metric))
    handles = [axes.scatter([], [], color=colors[g], label=g) for g in groups]
    # A fixed place outside the axes: loc="best" tests every point and is slow on big stores.
    figure.legend(
        handles=handles, fontsize="small", loc="outside lower center", ncols=min(len(groups), 6)
    )
    return figure


def make(context: FigureContext) -> Drawing:
    """The fold-score figure on the sort metric, or :class:`FigureSkipped` with one per cell."""
    if context.inputs.scores.groupby("cell").size().max() < 2:
        raise FigureSkipped("fold-score distributions: every cell has a single score")
    cells = cell_scores(context)
    metric = context.board.sort
    shown = len(cells)
    total = len(context.board.rows)
    which = f"all {total} cells" if shown == total else f"the best {shown} of {total} cells"
    caption = (
        f"{METRIC_LABELS.get(metric, metric)} of every outer test fold × repeat for {which}, "
        f"in leaderboard order; boxes: quartiles, whiskers: 1.5 IQR, over all folds; points: "
        f"up to {MAX_POINTS} folds per cell; colour: strategy."
    )
    return Drawing(draw(cells, metric=metric, groups=context.groups), caption)


def _spread(values: np.ndarray, *, limit: int = MAX_POINTS) -> np.ndarray:
    """At most ``limit`` of ``values``, evenly spaced through them (all when fewer)."""
    if values.size <= limit:
        return values
    return values[np.linspace(0, values.size - 1, limit).astype(int)]
