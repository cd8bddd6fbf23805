"""Leaderboards: one row per cell with its rank and mean ± sd per metric, best in bold.

Computing and presenting are separate, as in autorank: :func:`build_leaderboard` summarises
a scores table once into an immutable :class:`Leaderboard`, and the renderers
(:func:`render_markdown`, :func:`render_latex`) only format that object, so every format
shows the same numbers.

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
- numbers have fixed decimals; NaN shows as an en dash.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING

import numpy as np

from bench.errors import BenchError
from bench.metrics import LOWER_IS_BETTER, METRICS

if TYPE_CHECKING:
    import pandas as pd

METRIC_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "accuracy": "Accuracy",
        "precision": "Precision",
        "recall": "Recall (sens.)",
        "specificity": "Specificity",
        "f1": "F1",
        "auc": "AUC",
        "loss": "Loss",
        "balanced_accuracy": "Balanced acc.",
        "mcc": "MCC",
        "brier": "Brier",
        "precision_weighted": "Precision (weighted)",
        "recall_weighted": "Recall (weighted)",
        "f1_weighted": "F1 (weighted)",
    }
)
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
    scores: Mapping[str, MetricSummary]


@dataclass(frozen=True)
class Leaderboard:
    """Rows sorted best first on ``sort``, with each metric's best mean and optional marks.

    ``marks`` maps a cell id to a symbol shown after its first label; ``legend`` maps each
    symbol to what it means, printed under the table.
    """

    factors: tuple[str, ...]
    metrics: tuple[str, ...]
    sort: str
    rows: tuple[LeaderboardRow, ...]
    best: Mapping[str, float]
    marks: Mapping[str, str]
    legend: Mapping[str, str]

    def is_best(self, row: LeaderboardRow, metric: str) -> bool:
        """Whether the row reaches the best mean of ``metric`` (never, when all are NaN)."""
        return row.scores[metric].mean == self.best[metric]


def build_leaderboard(
    scores: pd.DataFrame,
    *,
    metrics: Sequence[str] | None = None,
    sort: str | None = None,
    factors: Sequence[str] | None = None,
    marks: Mapping[str, str] | None = None,
    legend: Mapping[str, str] | None = None,
) -> Leaderboard:
    """Summarise a scores table into a ranked :class:`Leaderboard`.

    ``metrics`` defaults to the columns of :data:`~bench.metrics.METRICS` present, in that
    order; ``sort`` to "auc" when shown, else the first metric; ``factors`` to
    ``scores.attrs["factors"]``. ``marks`` (cell id -> symbol, e.g. "†" for a significant
    difference from the baseline) needs a ``legend`` entry for every symbol it uses.
    """
    factors = _resolve_factors(scores, factors)
    metrics = _resolve_metrics(scores, metrics)
    sort = _resolve_sort(metrics, sort)
    _check_scores(scores, factors, metrics)
    marks, legend = _resolve_marks(scores, marks, legend)
    groups = list(scores.groupby("cell", sort=False))
    summaries = [{m: _summarise(group, m) for m in metrics} for _, group in groups]
    ranks = _min_ranks([s[sort].mean for s in summaries], lower_is_better=sort in LOWER_IS_BETTER)
    rows = sorted(
        (
            _row(cell, group, factors, rank, summary)
            for (cell, group), rank, summary in zip(groups, ranks, summaries, strict=True)
        ),
        key=lambda row: (row.rank, row.levels, row.cell),
    )
    return Leaderboard(
        factors=factors,
        metrics=metrics,
        sort=sort,
        rows=tuple(rows),
        best=MappingProxyType({m: _best(rows, m) for m in metrics}),
        marks=marks,
        legend=legend,
    )


def render_markdown(board: Leaderboard, *, decimals: int = 3) -> str:
    """A GitHub-flavoured markdown table (tabulate "github"), with a legend line for marks."""
    from tabulate import tabulate

    headers = ["Rank", *_label_headers(board.factors), "n", *_metric_headers(board)]
    body = [
        [
            str(row.rank),
            *(_md_escape(x) for x in _labels(board, row)),
            str(row.n),
            *(_md_score(board, row, m, decimals) for m in board.metrics),
        ]
        for row in board.rows
    ]
    align = ["right", *["left"] * len(_label_headers(board.factors)), "right"]
    table = tabulate(
        body,
        headers,
        tablefmt="github",
        disable_numparse=True,
        colalign=[*align, *["right"] * len(board.metrics)],
    )
    legend = _legend(board)
    return table + (f"\n\n{_md_escape(legend)}" if legend else "") + "\n"


def render_latex(
    board: Leaderboard, *, decimals: int = 3, caption: str | None = None, label: str | None = None
) -> str:
    """A complete booktabs ``table`` environment; needs only ``\\usepackage{booktabs}``.

    The caption is plain text (escaped); the label is used as given.
    """
    n_labels = len(_label_headers(board.factors))
    lines = [r"\begin{table}[htbp]", r"\centering"]
    lines += [rf"\caption{{{latex_escape(caption)}}}"] if caption else []
    lines += [rf"\label{{{label}}}"] if label else []
    lines += [
        rf"\begin{{tabular}}{{r{'l' * n_labels}r{'r' * len(board.metrics)}}}",
        r"\toprule",
        _latex_line(
            [
                "Rank",
                *map(latex_escape, _label_headers(board.factors)),
                "$n$",
                *map(latex_escape, _metric_headers(board)),
            ]
        ),
        r"\midrule",
        *(_latex_row(board, row, decimals) for row in board.rows),
        r"\bottomrule",
        r"\end{tabular}",
    ]
    legend = _legend(board)
    lines += [r"\par\smallskip", rf"{{\footnotesize {latex_escape(legend)}\par}}"] if legend else []
    return "\n".join([*lines, r"\end{table}"]) + "\n"


def render_folds_markdown(
    scores: pd.DataFrame,
    *,
    metrics: Sequence[str] | None = None,
    factors: Sequence[str] | None = None,
    decimals: int = 3,
) -> str:
    """The per-fold appendix: one row per cell × repeat × fold, ordered by factor levels.

    Defaults for ``metrics`` and ``factors`` are those of :func:`build_leaderboard`.
    """
    from tabulate import tabulate

    factors = _resolve_factors(scores, factors)
    metrics = _resolve_metrics(scores, metrics)
    _check_scores(scores, factors, metrics, extra=("n_train", "n_test"))
    label_columns = _label_headers(factors)
    ordered = scores.sort_values([*factors, "cell", "repeat", "fold"], kind="stable")
    body = [
        [
            *(_md_escape(str(record[c])) for c in label_columns),
            *(str(record[c]) for c in ("repeat", "fold", "n_train", "n_test")),
            *(_format(float(record[m]), decimals) for m in metrics),
        ]
        for _, record in ordered.iterrows()
    ]
    headers = [
        *label_columns,
        "Repeat",
        "Fold",
        "n train",
        "n test",
        *(METRIC_LABELS[m] for m in metrics),
    ]
    align = [*["left"] * len(label_columns), *["right"] * (4 + len(metrics))]
    return tabulate(body, headers, tablefmt="github", disable_numparse=True, colalign=align) + "\n"


_LATEX_SPECIALS = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "|": r"\textbar{}",
}
_LATEX_SPECIAL = re.compile("|".join(map(re.escape, _LATEX_SPECIALS)))


def latex_escape(text: str) -> str:
    """Plain text made safe for LaTeX text mode, in one pass (so ``\\`` is not escaped twice).

    ``<``, ``>`` and ``|`` are replaced too: in pdflatex's default font encoding they print
    as other glyphs (``<`` as an inverted exclamation mark).
    """
    return _LATEX_SPECIAL.sub(lambda match: _LATEX_SPECIALS[match.group()], text)


def _resolve_factors(scores: pd.DataFrame, factors: Sequence[str] | None) -> tuple[str, ...]:
    factors = scores.attrs.get("factors") if factors is None else factors
    if factors is None:
        raise BenchError(
            "the scores table does not name its grid factors: pass factors=[...] "
            "or set scores.attrs['factors']"
        )
    return tuple(factors)


def _resolve_metrics(scores: pd.DataFrame, metrics: Sequence[str] | None) -> tuple[str, ...]:
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


def _resolve_sort(metrics: tuple[str, ...], sort: str | None) -> str:
    if sort is None:
        return "auc" if "auc" in metrics else metrics[0]
    if sort not in metrics:
        raise BenchError(
            f"cannot sort by {sort!r}: it is not among the metrics shown {metrics}"
            f"{_did_you_mean(sort, metrics)}"
        )
    return sort


def _did_you_mean(word: str, choices: Sequence[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def _check_scores(
    scores: pd.DataFrame,
    factors: tuple[str, ...],
    metrics: tuple[str, ...],
    *,
    extra: tuple[str, ...] = (),
) -> None:
    """Refuse tables the summaries would silently get wrong: missing columns, duplicates."""
    needed = ["cell", *factors, "repeat", "fold", *extra, *metrics]
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


def _resolve_marks(
    scores: pd.DataFrame, marks: Mapping[str, str] | None, legend: Mapping[str, str] | None
) -> tuple[Mapping[str, str], Mapping[str, str]]:
    marks, legend = dict(marks or {}), dict(legend or {})
    unknown = sorted(set(marks) - set(scores["cell"].astype(str)))
    if unknown:
        raise BenchError(f"marks name cells that are not in the scores table: {unknown}")
    unexplained = sorted(set(marks.values()) - set(legend))
    if unexplained:
        raise BenchError(
            f"marks use symbol(s) {unexplained} without a legend: pass legend={{symbol: meaning}}"
        )
    return MappingProxyType(marks), MappingProxyType(legend)


def _summarise(group: pd.DataFrame, metric: str) -> MetricSummary:
    values = group[metric].to_numpy(dtype=float)
    repeats = group["repeat"].to_numpy()
    repeat_means = [values[repeats == r].mean() for r in np.unique(repeats)]
    return MetricSummary(
        mean=float(values.mean()),
        sd=float(values.std(ddof=1)) if values.size > 1 else math.nan,
        repeat_min=float(np.min(repeat_means)),
        repeat_max=float(np.max(repeat_means)),
    )


def _min_ranks(means: Sequence[float], *, lower_is_better: bool) -> list[int]:
    """1 + the number of strictly better means; NaN means share the rank after all others."""
    values = np.asarray(means, dtype=float) * (1 if lower_is_better else -1)
    valid = values[~np.isnan(values)]
    return [int(1 + (valid.size if math.isnan(v) else np.sum(valid < v))) for v in values]


def _row(
    cell: object,
    group: pd.DataFrame,
    factors: tuple[str, ...],
    rank: int,
    summary: dict[str, MetricSummary],
) -> LeaderboardRow:
    levels = tuple(str(group[f].iloc[0]) for f in factors)
    return LeaderboardRow(
        cell=str(cell), levels=levels, rank=rank, n=len(group), scores=MappingProxyType(summary)
    )


def _best(rows: Sequence[LeaderboardRow], metric: str) -> float:
    means = np.array([row.scores[metric].mean for row in rows])
    if np.all(np.isnan(means)):
        return math.nan
    return float(np.nanmin(means) if metric in LOWER_IS_BETTER else np.nanmax(means))


def _label_headers(factors: tuple[str, ...]) -> tuple[str, ...]:
    return factors or ("cell",)


def _labels(board: Leaderboard, row: LeaderboardRow) -> list[str]:
    """The row's factor levels (or its cell id), the first followed by its mark if any."""
    labels = list(row.levels or (row.cell,))
    labels[0] += board.marks.get(row.cell, "")
    return labels


def _metric_headers(board: Leaderboard) -> list[str]:
    return [METRIC_LABELS[m] for m in board.metrics]


def _legend(board: Leaderboard) -> str:
    """'† meaning; ‡ meaning' for the symbols some row carries, in legend order."""
    used = set(board.marks.values())
    return "; ".join(
        f"{symbol} {meaning}" for symbol, meaning in board.legend.items() if symbol in used
    )


def _format(value: float, decimals: int) -> str:
    return MISSING if math.isnan(value) else f"{value:.{decimals}f}"


def _mean_sd(summary: MetricSummary, decimals: int, *, sep: str) -> str:
    if math.isnan(summary.mean):
        return MISSING
    return f"{_format(summary.mean, decimals)}{sep}{_format(summary.sd, decimals)}"


def _md_score(board: Leaderboard, row: LeaderboardRow, metric: str, decimals: int) -> str:
    text = _mean_sd(row.scores[metric], decimals, sep=" ± ")
    return f"**{text}**" if board.is_best(row, metric) else text


def _md_escape(text: str) -> str:
    """A pipe would end a markdown table cell."""
    return text.replace("|", r"\|")


def _latex_row(board: Leaderboard, row: LeaderboardRow, decimals: int) -> str:
    scores = []
    for metric in board.metrics:
        text = _mean_sd(row.scores[metric], decimals, sep=r" $\pm$ ")
        text = text.replace("-", "$-$").replace(MISSING, "--")  # a math minus, TeX's en dash
        scores.append(rf"\textbf{{{text}}}" if board.is_best(row, metric) else text)
    labels = [latex_escape(label) for label in _labels(board, row)]
    return _latex_line([str(row.rank), *labels, str(row.n), *scores])


def _latex_line(cells: Sequence[str]) -> str:
    return " & ".join(cells) + r" \\"
