"""Critical-difference diagram (Demšar 2006) of the cells on the leaderboard's sort metric.

Methods and blocks, the choice a reader must know:

- blocks are independent datasets, as Demšar's procedure requires: the levels of a
  ``dataset`` factor (several suites joined by ``bench report --across``, or an imported
  multi-dataset table), each cell's scores averaged over its folds; the methods are the
  combinations of the other factors.
- Outer folds of one dataset are not independent datasets (they share training data), so
  a one-dataset report draws no diagram and says how to get one.
- Fewer than two datasets or two methods: no diagram, a note instead. A dataset where some
  method has no score is dropped.

Ranks, the Friedman/Iman–Davenport test, the Nemenyi CD and the cliques come from
:func:`bench.stats.rank_methods`; at most :data:`MAX_METHODS` best-ranked methods are drawn.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from bench.errors import StatsError
from bench.metrics import LOWER_IS_BETTER
from bench.report.figures.canvas import Drawing, FigureSkipped, new_figure
from bench.report.figures.context import FigureContext
from bench.report.leaderboard import METRIC_LABELS

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

    from bench.stats import RankingResult

DATASET = "dataset"
MAX_METHODS = 20
ALPHA = 0.05


@dataclass(frozen=True)
class RankTable:
    """Scores with one row per block and one column per method, and what the blocks are."""

    table: pd.DataFrame
    blocks: str
    dropped: int


def rank_table(scores: pd.DataFrame, *, metric: str, factors: tuple[str, ...]) -> RankTable:
    """Blocks × methods on ``metric`` (see the module docstring for the choice)."""
    if DATASET not in factors or scores[DATASET].nunique() < 2:
        raise FigureSkipped(
            "critical-difference diagram: Friedman and Nemenyi rank methods across independent "
            "datasets, and these results hold one (its folds are not independent); join "
            "suites with `bench report --across suites/a.toml suites/b.toml`"
        )
    others = [f for f in factors if f != DATASET]
    frame = scores.assign(method=_labels(scores, others))
    wide = frame.pivot_table(index=DATASET, columns="method", values=metric, aggfunc="mean")
    blocks = "datasets"
    complete = wide.dropna()
    return RankTable(table=complete, blocks=blocks, dropped=len(wide) - len(complete))


def rank_cells(ranked: RankTable, *, metric: str) -> RankingResult:
    """Run Friedman, Iman–Davenport and Nemenyi on the table; skip when it cannot."""
    from bench.stats import rank_methods

    rows, columns = ranked.table.shape
    if rows < 2 or columns < 2:
        raise FigureSkipped(
            f"critical-difference diagram: needs two or more blocks and methods; these results "
            f"give {rows} {ranked.blocks} and {columns} methods"
        )
    try:
        return rank_methods(ranked.table, lower_is_better=metric in LOWER_IS_BETTER, alpha=ALPHA)
    except StatsError as error:
        raise FigureSkipped(f"critical-difference diagram: {error}") from None


def draw(result: RankingResult, *, limit: int = MAX_METHODS) -> Figure:
    """Rank axis on top, methods hanging left (better half) and right, cliques as bars."""
    shown = result.order[:limit]
    cliques = [c for c in result.cliques if set(c) <= set(shown)]
    k = len(result.methods)
    half = (len(shown) + 1) // 2
    top = 0.5 + 0.15 * len(cliques)  # where the first label row hangs, below the bars
    figure = new_figure(8.0, 1.4 + 0.26 * (half + top))
    axes = figure.add_subplot()
    axes.set_axis_off()
    axes.set_xlim(0.5 - 0.45 * k, k + 0.5 + 0.45 * k)
    axes.set_ylim(top + half, -1.6)
    axes.hlines(0, 1, k, color="black", lw=1)
    for tick in range(1, k + 1, -(-k // 12)):  # at most 12 labelled ticks
        axes.vlines(tick, -0.12, 0, color="black", lw=1)
        axes.text(tick, -0.25, str(tick), ha="center", va="bottom", fontsize="small")
    axes.hlines(-1.1, 1, 1 + result.cd, color="black", lw=1.5)
    axes.text(
        1 + result.cd / 2,
        -1.2,
        f"CD = {result.cd:.2f}",
        ha="center",
        va="bottom",
        fontsize="small",
    )
    for index, method in enumerate(shown):
        row = index if index < half else index - half
        _hang(axes, method, result.rank_of(method), y=top + row, left=index < half, k=k)
    for level, clique in enumerate(cliques):
        ranks = [result.rank_of(m) for m in clique]
        axes.hlines(0.25 + 0.15 * level, min(ranks) - 0.05, max(ranks) + 0.05, color="black", lw=3)
    return figure


def make(context: FigureContext) -> Drawing:
    """The CD diagram of the cells on the sort metric, or :class:`FigureSkipped`."""
    metric = context.board.sort
    ranked = rank_table(context.inputs.scores, metric=metric, factors=context.board.factors)
    result = rank_cells(ranked, metric=metric)
    friedman = result.friedman
    caption = (
        f"Critical-difference diagram on {METRIC_LABELS.get(metric, metric)}: average rank of "
        f"each method over {result.n_blocks} {ranked.blocks} (1 = best); methods joined by a "
        f"bar do not differ (Nemenyi, alpha = {ALPHA}, CD = {result.cd:.2f}). "
        f"{friedman.test}: F = {friedman.f:.3g}, p = {friedman.p:.3g}"
        + (
            "; the Friedman test does not reject, so no pair should be called different. "
            if friedman.p > ALPHA
            else ". "
        )
    )
    if len(result.methods) > MAX_METHODS:
        caption += f"The best {MAX_METHODS} of {len(result.methods)} methods are drawn. "
    if ranked.dropped:
        caption += f"{ranked.dropped} block(s) where some method had no score were dropped."
    return Drawing(draw(result), caption.strip())


def _labels(scores: pd.DataFrame, factors: list[str]) -> pd.Series:
    """Each row's method name: its levels of ``factors`` joined, built once per cell."""
    cells = scores.drop_duplicates("cell")
    columns = [cells[f].astype(str) for f in factors] or [cells["cell"].astype(str)]
    names = dict(zip(cells["cell"], (" / ".join(parts) for parts in zip(*columns)), strict=True))
    return scores["cell"].map(names)


def _hang(axes, method: str, rank: float, *, y: float, left: bool, k: int) -> None:
    """One method's elbow line from its rank on the axis to its label on the left or right."""
    end = 0.5 - 0.05 * k if left else k + 0.5 + 0.05 * k
    axes.plot([rank, rank, end], [0, y, y], color="black", lw=0.8)
    text = f"{method} ({rank:.2f})" if left else f"({rank:.2f}) {method}"
    axes.text(
        end + (-0.1 if left else 0.1),
        y,
        text,
        ha="right" if left else "left",
        va="center",
        fontsize="small",
    )
