"""Tuned hyperparameters: what the inner search chose on each outer fold, summarised per cell.

Present only when some fold stored non-empty params (a suite with ``[tuning]``); otherwise
the report omits the section. Numbers show as the median [min, max] over the cell's folds
(the value alone when every fold agrees); other values as the most frequent one with its
count (k/n), ties broken by the value's text so the table is stable. folds.csv holds every
fold's params.
"""

from __future__ import annotations

import json
import statistics
from collections import Counter
from typing import TYPE_CHECKING

from bench.report.leaderboard import Leaderboard, label_headers, row_labels
from bench.report.table import Table, number, text

if TYPE_CHECKING:
    import pandas as pd


def params_table(folds: pd.DataFrame, *, board: Leaderboard) -> Table | None:
    """One row per cell (leaderboard order), one column per tuned parameter; None if none."""
    names = sorted({name for params in folds["params"] if params for name in params})
    if not names:
        return None
    by_cell = folds.groupby("cell", sort=False)["params"].apply(list).to_dict()
    labels = label_headers(board.factors)
    rows = tuple(
        (
            *(text(level) for level in row_labels(row)),
            *(number(summarise(by_cell.get(row.cell, []), name)) for name in names),
        )
        for row in board.rows
    )
    return Table(
        headers=(*labels, *names),
        rows=rows,
        align="l" * len(labels) + "r" * len(names),
        caption="Hyperparameters chosen by the inner search, over each cell's outer folds",
    )


def summarise(params: list[dict], name: str) -> str:
    """One parameter over a cell's folds: "median [min, max]" or "most common (k/n)"."""
    values = [p[name] for p in params if name in p]
    if not values:
        return "–"
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        return _numeric(values)
    counts = Counter(json.dumps(v, sort_keys=True) for v in values)
    value, count = min(counts.items(), key=lambda item: (-item[1], item[0]))
    shown = value.strip('"')
    return shown if count == len(values) else f"{shown} ({count}/{len(values)})"


def _numeric(values: list[float]) -> str:
    low, high = min(values), max(values)
    if low == high:
        return f"{low:.4g}"
    return f"{statistics.median(values):.4g} [{low:.4g}, {high:.4g}]"
