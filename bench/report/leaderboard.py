"""Leaderboards: one row per cell with its rank and mean ± sd per metric, best in bold.

Computing and presenting are separate, as in autorank: :func:`build_leaderboard` summarises
a scores table once into an immutable :class:`Leaderboard`; :func:`leaderboard_table` and
:func:`ranges_table` turn it into :class:`~bench.report.table.Table` s, which every format
renders from the same numbers.

A scores table is a pandas DataFrame with one row per (cell, repeat, fold): ``cell``, one
column per grid factor (named in ``scores.attrs["factors"]`` or by ``factors=``), ``repeat``,
``fold``, ``n_train``, ``n_test`` and one float column per metric. A grid with no factors
shows the cell ids instead.

Decisions a reader of a report should know:

- mean and sd are over all folds × repeats of a cell (sd with ddof=1, NaN when n == 1); a
  NaN score in any fold makes the cell's mean NaN rather than silently averaging the rest;
- rank 1 is the best mean on the sort metric (highest, or lowest for loss and brier); tied
  means share the smallest rank; a NaN mean ranks last;
- the best mean of each metric is bold, every cell that reaches it exactly included;
- a mark (e.g. "↑") follows a score when the caller says so, per (cell, metric), and the
  legend under the table says what it means;
- the repeat range is the min and max over repeats of the per-repeat means, shown only when
  some cell has more than one repeat;
- numbers have fixed decimals; NaN shows as an en dash.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING

import numpy as np

from bench.errors import BenchError
from bench.metrics import LOWER_IS_BETTER, METRIC_LABELS, METRICS
from bench.report.table import Entry, Table, number, text, to_latex, to_markdown

if TYPE_CHECKING:
    import pandas as pd

MISSING = "–"  # how a NaN prints; LaTeX uses its own en dash, "--"


@dataclass(frozen=True)
class MetricSummary:
    """One metric of one cell: mean and sd over folds × repeats, range of per-repeat means."""

    mean: float
    sd: float
    repeat_min: float
    repeat_max: float


@dataclass(frozen=True)
class LeaderboardRow:
    """One cell: its factor levels (in ``Leaderboard.factors`` order), rank, n and scores."""

    cell: str
    levels: tuple[str, ...]
    rank: int
    n: int
    repeats: int
    scores: Mapping[str, MetricSummary]


@dataclass(frozen=True)
class Leaderboard:
    """Rows sorted best first on ``sort``, with each metric's best mean and optional marks.

    ``marks`` maps a (cell id, metric) to a symbol shown after that score; ``legend`` maps
    each symbol to what it means, printed under the table.
    """

    factors: tuple[str, ...]
    metrics: tuple[str, ...]
    sort: str
    rows: tuple[LeaderboardRow, ...]
    best: Mapping[str, float]
    marks: Mapping[tuple[str, str], str]
    legend: Mapping[str, str]

    def is_best(self, row: LeaderboardRow, metric: str) -> bool:
        """Whether the row reaches the best mean of ``metric`` (never, when all are NaN)."""
        return row.scores[metric].mean == self.best[metric]

    @property
    def has_repeats(self) -> bool:
        """Whether some cell was scored in more than one repeat."""
        return any(row.repeats > 1 for row in self.rows)


def build_leaderboard(
    scores: pd.DataFrame,
    *,
    metrics: Sequence[str] | None = None,
    sort: str | None = None,
    factors: Sequence[str] | None = None,
    marks: Mapping[tuple[str, str], str] | None = None,
    legend: Mapping[str, str] | None = None,
) -> Leaderboard:
    """Summarise a scores table into a ranked :class:`Leaderboard`.

    ``metrics`` defaults to the columns of :data:`~bench.metrics.METRICS` present, in that
    order; ``sort`` to "auc" when shown, else the first metric; ``factors`` to
    ``scores.attrs["factors"]``. ``marks`` ((cell id, metric) -> symbol, e.g. "↑" for a
    significant gain over the baseline) needs a ``legend`` entry for every symbol it uses.
    """
    factors = resolve_factors(scores, factors)
    metrics = resolve_metrics(scores, metrics)
    sort = _resolve_sort(metrics, sort)
    _check_scores(scores, factors, metrics)
    cells = _cells(scores, factors)
    summaries = _summaries(scores, metrics)
    means = [summaries[cell][sort].mean for cell in cells]
    ranks = _min_ranks(means, lower_is_better=sort in LOWER_IS_BETTER)
    rows = sorted(
        (
            LeaderboardRow(cell=cell, rank=rank, scores=summaries[cell], **shape)
            for (cell, shape), rank in zip(cells.items(), ranks, strict=True)
        ),
        key=lambda row: (row.rank, row.levels, row.cell),
    )
    board = Leaderboard(
        factors=factors,
        metrics=metrics,
        sort=sort,
        rows=tuple(rows),
        best=MappingProxyType({m: _best(rows, m) for m in metrics}),
        marks=MappingProxyType({}),
        legend=MappingProxyType({}),
    )
    return with_marks(board, marks or {}, legend or {})


def with_marks(
    board: Leaderboard, marks: Mapping[tuple[str, str], str], legend: Mapping[str, str]
) -> Leaderboard:
    """``board`` with ``marks`` ((cell id, metric) -> symbol) explained by ``legend``."""
    cells = {row.cell for row in board.rows}
    unknown = sorted(key for key in marks if key[0] not in cells or key[1] not in board.metrics)
    if unknown:
        raise BenchError(f"marks name (cell, metric)s that are not in the table: {unknown}")
    unexplained = sorted(set(marks.values()) - set(legend))
    if unexplained:
        raise BenchError(
            f"marks use symbol(s) {unexplained} without a legend: pass legend={{symbol: meaning}}"
        )
    return dataclasses.replace(
        board, marks=MappingProxyType(dict(marks)), legend=MappingProxyType(dict(legend))
    )


def leaderboard_table(
    board: Leaderboard, *, decimals: int = 3, caption: str = "", costs: pd.DataFrame | None = None
) -> Table:
    """Rank, factor levels (or cell id), n, then mean ± sd per metric; the legend as note.

    ``costs`` (:func:`bench.report.cost.cell_costs`) adds the cells' cost columns after them.
    """
    from bench.report.cost import cost_columns, cost_entries, cost_label

    labels = label_headers(board.factors)
    extra = cost_columns(costs) if costs is not None and not costs.empty else ()
    rows = tuple(
        (
            number(str(row.rank)),
            *(text(level) for level in row_labels(row)),
            number(str(row.n)),
            *(_score_entry(board, row, metric, decimals) for metric in board.metrics),
            *(cost_entries(costs, row.cell) if extra else ()),
        )
        for row in board.rows
    )
    return Table(
        headers=(
            "Rank",
            *labels,
            "n",
            *(METRIC_LABELS[m] for m in board.metrics),
            *map(cost_label, extra),
        ),
        rows=rows,
        align="r" + "l" * len(labels) + "r" + "r" * (len(board.metrics) + len(extra)),
        caption=caption,
        note=_legend(board),
    )


def ranges_table(board: Leaderboard, *, decimals: int = 3, caption: str = "") -> Table:
    """Per cell and metric, "min – max" of its per-repeat means (leaderboard order)."""
    labels = label_headers(board.factors)
    rows = tuple(
        (
            *(text(level) for level in row_labels(row)),
            number(str(row.repeats)),
            *(number(_range(row.scores[m], decimals)) for m in board.metrics),
        )
        for row in board.rows
    )
    return Table(
        headers=(*labels, "Repeats", *(METRIC_LABELS[m] for m in board.metrics)),
        rows=rows,
        align="l" * len(labels) + "r" + "r" * len(board.metrics),
        caption=caption,
    )


def render_markdown(
    board: Leaderboard, *, decimals: int = 3, costs: pd.DataFrame | None = None
) -> str:
    """The leaderboard as a GitHub-flavoured markdown table, with a legend line for marks."""
    return to_markdown(leaderboard_table(board, decimals=decimals, costs=costs))


def render_latex(
    board: Leaderboard,
    *,
    decimals: int = 3,
    caption: str | None = None,
    label: str | None = None,
    costs: pd.DataFrame | None = None,
) -> str:
    """The leaderboard as a booktabs ``table`` float; needs only ``\\usepackage{booktabs}``.

    The caption is plain text (escaped); the label is used as given.
    """
    table = leaderboard_table(board, decimals=decimals, caption=caption or "", costs=costs)
    return to_latex(table, label=label)


def label_headers(factors: tuple[str, ...]) -> tuple[str, ...]:
    """The label columns of a table of cells: the factors, or "cell" without factors."""
    return factors or ("cell",)


def row_labels(row: LeaderboardRow) -> tuple[str, ...]:
    """A row's factor levels, or its cell id when the grid has no factors."""
    return row.levels or (row.cell,)


def resolve_factors(scores: pd.DataFrame, factors: Sequence[str] | None) -> tuple[str, ...]:
    """``factors``, or the scores table's ``attrs["factors"]``; refused when neither is set."""
    factors = scores.attrs.get("factors") if factors is None else factors
    if factors is None:
        raise BenchError(
            "the scores table does not name its grid factors: pass factors=[...] "
            "or set scores.attrs['factors']"
        )
    return tuple(factors)


def resolve_metrics(scores: pd.DataFrame, metrics: Sequence[str] | None) -> tuple[str, ...]:
    """``metrics`` checked against the known ones, or every known metric the table holds."""
    if metrics is None:
        metrics = [m for m in METRICS if m in scores.columns]
        if not metrics:
            raise BenchError(f"the scores table has no metric column; expected some of {METRICS}")
    for metric in metrics:
        if metric not in METRIC_LABELS:
            raise BenchError(
                f"unknown metric {metric!r}{_did_you_mean(metric, METRIC_LABELS)}; "
                f"known metrics: {', '.join(METRIC_LABELS)}"
            )
    return tuple(metrics)


def format_score(value: float, decimals: int = 3) -> str:
    """A score with fixed decimals; NaN as an en dash."""
    return MISSING if math.isnan(value) else f"{value:.{decimals}f}"


def _resolve_sort(metrics: tuple[str, ...], sort: str | None) -> str:
    if sort is None:
        return "auc" if "auc" in metrics else metrics[0]
    if sort not in metrics:
        raise BenchError(
            f"cannot sort by {sort!r}: it is not among the metrics shown {metrics}"
            f"{_did_you_mean(sort, metrics)}"
        )
    return sort


def _did_you_mean(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def _check_scores(
    scores: pd.DataFrame,
    factors: tuple[str, ...],
    metrics: tuple[str, ...],
) -> None:
    """Refuse tables the summaries would silently get wrong: missing columns, duplicates."""
    needed = ["cell", *factors, "repeat", "fold", *metrics]
    missing = [c for c in needed if c not in scores.columns]
    if missing:
        raise BenchError(
            f"the scores table lacks column(s) {missing}; it has {list(scores.columns)}"
        )
    if scores.empty:
        raise BenchError("the scores table is empty: no fold has been scored yet")
    duplicated = scores.duplicated(["cell", "repeat", "fold"])
    if duplicated.any():
        first = scores.loc[duplicated].iloc[0]
        raise BenchError(
            f"the scores table holds cell {first['cell']!r}, repeat {first['repeat']}, "
            f"fold {first['fold']} more than once"
        )
    varying = scores.groupby("cell")[list(factors)].nunique().gt(1).any(axis=1)
    if varying.any():
        raise BenchError(f"cell {varying.idxmax()!r} has more than one level of some factor")


def _cells(scores: pd.DataFrame, factors: tuple[str, ...]) -> dict[str, dict]:
    """Per cell, in order of first appearance: its levels, number of folds and of repeats."""
    first = scores.drop_duplicates("cell")
    sizes = scores.groupby("cell", sort=False).size()
    repeats = scores.groupby("cell", sort=False)["repeat"].nunique()
    levels = list(zip(*(first[f].astype(str) for f in factors))) if factors else [()] * len(first)
    return {
        str(cell): {"levels": tuple(lv), "n": int(sizes[cell]), "repeats": int(repeats[cell])}
        for cell, lv in zip(first["cell"], levels, strict=True)
    }


def _summaries(
    scores: pd.DataFrame, metrics: tuple[str, ...]
) -> dict[str, Mapping[str, MetricSummary]]:
    """Per cell and metric: mean, sd (ddof=1) and range of per-repeat means; NaN spreads."""
    columns = list(metrics)
    by_cell = scores.groupby("cell", sort=False)[columns]
    by_repeat = scores.groupby(["cell", "repeat"], sort=False)[columns].mean(skipna=False)
    by_repeat = by_repeat.groupby(level=0, sort=False)
    tables = [
        by_cell.mean(skipna=False),
        by_cell.std(ddof=1, skipna=False),
        by_repeat.min(skipna=False),
        by_repeat.max(skipna=False),
    ]
    values = [table.loc[tables[0].index, columns].to_numpy(dtype=float) for table in tables]
    return {
        str(cell): MappingProxyType(
            {
                metric: MetricSummary(*(float(v[i, j]) for v in values))
                for j, metric in enumerate(columns)
            }
        )
        for i, cell in enumerate(tables[0].index)
    }


def _min_ranks(means: Sequence[float], *, lower_is_better: bool) -> list[int]:
    """1 + the number of strictly better means; NaN means share the rank after all others."""
    values = np.asarray(means, dtype=float) * (1 if lower_is_better else -1)
    valid = values[~np.isnan(values)]
    return [int(1 + (valid.size if math.isnan(v) else np.sum(valid < v))) for v in values]


def _best(rows: Sequence[LeaderboardRow], metric: str) -> float:
    means = np.array([row.scores[metric].mean for row in rows])
    if np.all(np.isnan(means)):
        return math.nan
    return float(np.nanmin(means) if metric in LOWER_IS_BETTER else np.nanmax(means))


def _legend(board: Leaderboard) -> str:
    """'↑ meaning; ↓ meaning' for the symbols some score carries, in legend order."""
    used = set(board.marks.values())
    return "; ".join(
        f"{symbol} {meaning}" for symbol, meaning in board.legend.items() if symbol in used
    )


def _score_entry(board: Leaderboard, row: LeaderboardRow, metric: str, decimals: int) -> Entry:
    summary = row.scores[metric]
    if math.isnan(summary.mean):
        score = MISSING
    else:
        score = f"{format_score(summary.mean, decimals)} ± {format_score(summary.sd, decimals)}"
    mark = board.marks.get((row.cell, metric), "")
    return number(score + (f" {mark}" if mark else ""), bold=board.is_best(row, metric))


def _range(summary: MetricSummary, decimals: int) -> str:
    if math.isnan(summary.repeat_min) or math.isnan(summary.repeat_max):
        return MISSING
    low, high = (format_score(v, decimals) for v in (summary.repeat_min, summary.repeat_max))
    return f"{low} – {high}"
