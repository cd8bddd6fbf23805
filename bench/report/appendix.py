"""The per-fold appendix: every (cell, repeat, fold) with its fold sizes and scores.

Documents list at most :data:`APPENDIX_ROWS` rows, the first in factor-level order, so that
a store with 100 000 folds still gives a report a reader can open and pdflatex can compile;
``folds.csv`` always holds every row, at full precision, with the fold's decision threshold
and tuned hyperparameters.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from bench.report.leaderboard import METRIC_LABELS, format_score, label_headers
from bench.report.table import Table, number, text

if TYPE_CHECKING:
    import pandas as pd

APPENDIX_ROWS = 2000


def ordered_folds(scores: pd.DataFrame, *, factors: Sequence[str]) -> pd.DataFrame:
    """The scores table in appendix order: factor levels, cell, repeat, fold."""
    return scores.sort_values([*factors, "cell", "repeat", "fold"], kind="stable")


def folds_table(
    scores: pd.DataFrame,
    *,
    metrics: Sequence[str],
    factors: Sequence[str],
    limit: int = APPENDIX_ROWS,
    decimals: int = 3,
) -> Table:
    """One row per cell × repeat × fold (the first ``limit``), labels then sizes then scores."""
    labels = label_headers(tuple(factors))
    shown = ordered_folds(scores, factors=factors).head(limit)
    columns = [*labels, "repeat", "fold", "n_train", "n_test", *metrics]
    rows = tuple(
        (
            *(text(value) for value in record[: len(labels)]),
            *(number(_count(value)) for value in record[len(labels) : len(labels) + 4]),
            *(number(format_score(float(value), decimals)) for value in record[len(labels) + 4 :]),
        )
        for record in shown[columns].itertuples(index=False, name=None)
    )
    note = ""
    if len(scores) > limit:
        note = f"The first {limit} of {len(scores)} fold results; folds.csv holds all of them."
    return Table(
        headers=(
            *labels,
            "Repeat",
            "Fold",
            "n train",
            "n test",
            *(METRIC_LABELS[m] for m in metrics),
        ),
        rows=rows,
        align="l" * len(labels) + "r" * (4 + len(metrics)),
        caption="Scores of every outer test fold",
        note=note,
    )


def folds_csv(
    scores: pd.DataFrame, folds: pd.DataFrame, *, metrics: Sequence[str], factors: Sequence[str]
) -> str:
    """Every fold result as CSV: labels, cell, repeat, fold, sizes, threshold, params, scores.

    ``folds`` holds the per-fold ``threshold`` and ``params`` (dicts) keyed by cell, repeat,
    fold; params are written as JSON with sorted keys so the file is byte-stable.
    """
    meta = folds[["cell", "repeat", "fold", "threshold", "params"]].copy()
    meta["params"] = [json.dumps(p, sort_keys=True) for p in meta["params"]]
    table = ordered_folds(scores, factors=factors).merge(
        meta, on=["cell", "repeat", "fold"], how="left"
    )
    columns = [*factors, "cell", "repeat", "fold", "n_train", "n_test", "threshold", "params"]
    return table[[*columns, *metrics]].to_csv(index=False, lineterminator="\n")


def _count(value: Any) -> str:
    """A fold size or index; missing (an imported table without sizes) as an en dash."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return str(int(value))
