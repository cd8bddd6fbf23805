"""Accuracy against cost: each cell's mean sort metric against its inference latency.

One point per cell (colour: strategy); the cells on the Pareto front — no other cell is
both faster and better — are joined by a line and labelled, so a reader can pick a model by
size and speed as well as accuracy. Latency is the batch-1 time per image measured on each
fold's model (:mod:`bench.models.cost`), on a log axis.
"""

from __future__ import annotations

import numpy as np

from bench.metrics import LOWER_IS_BETTER
from bench.report.cost import cell_costs, cost_label, latency_column
from bench.report.figures.canvas import Drawing, FigureSkipped, new_figure, palette
from bench.report.figures.context import FigureContext
from bench.report.leaderboard import METRIC_LABELS


def pareto_front(latency: np.ndarray, score: np.ndarray, *, lower_is_better: bool) -> np.ndarray:
    """Indices of the points no other point beats on both axes, fastest first."""
    goodness = -score if lower_is_better else score
    order = np.lexsort((-goodness, latency))
    front, best = [], -np.inf
    for index in order:
        if goodness[index] > best:
            front.append(index)
            best = goodness[index]
    return np.array(front, dtype=int)


def make(context: FigureContext) -> Drawing:
    """The Pareto figure, or :class:`FigureSkipped` when no cell's cost was measured."""
    costs = cell_costs(context.inputs)
    column = latency_column(costs) if not costs.empty else None
    if column is None:
        raise FigureSkipped("the accuracy-latency figure needs model costs measured in the run")
    metric = context.board.sort
    rows = [r for r in context.board.rows if r.cell in set(costs["cell"])]
    latency = costs.set_index("cell").loc[[r.cell for r in rows], column].to_numpy(dtype=float)
    score = np.array([r.scores[metric].mean for r in rows])
    front = pareto_front(latency, score, lower_is_better=metric in LOWER_IS_BETTER)
    colours = palette(context.groups)
    figure = new_figure(6.0, 4.2)
    axes = figure.add_subplot(1, 1, 1)
    for group in context.groups:
        mine = [i for i, r in enumerate(rows) if context.cell_groups[r.cell] == group]
        if mine:
            axes.scatter(latency[mine], score[mine], color=colours[group], label=group, s=24)
    axes.plot(latency[front], score[front], color="black", linewidth=1, zorder=0)
    for index in front:
        axes.annotate(
            "/".join(rows[index].levels) or rows[index].cell,
            (latency[index], score[index]),
            fontsize="x-small",
            xytext=(3, 3),
            textcoords="offset points",
        )
    axes.set_xscale("log")
    axes.set_xlabel(cost_label(column))
    axes.set_ylabel(f"mean {METRIC_LABELS.get(metric, metric)}")
    axes.legend(fontsize="small")
    caption = (
        f"Mean {METRIC_LABELS.get(metric, metric)} of each cell against its inference latency "
        f"({cost_label(column)}, log scale); line and labels: the Pareto front (no other cell "
        "is both faster and better)."
    )
    return Drawing(figure, caption)
