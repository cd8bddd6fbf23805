"""Pick the cell to export from a suite's stored scores, and summarise its cross-validation.

Pure functions on the scores table of :func:`bench.store.scores.load_scores` (one row per
cell, repeat and fold; one column per metric), so the choice is testable without training.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

from bench.config.schema import suggest
from bench.config.spec import Cell
from bench.errors import BenchError
from bench.metrics import LOWER_IS_BETTER
from bench.stats.table import metric_columns


def match_cell(cells: Sequence[Cell], text: str) -> Cell:
    """The one cell that ``text`` names: its full id, or ``key=value`` pairs joined by
    ``|`` or ``,`` (``strategy=ctl,optimizer=adam``) that single it out."""
    exact = [c for c in cells if c.id == text]
    if exact:
        return exact[0]
    wanted = _pairs(text)
    found = [c for c in cells if wanted and wanted.items() <= dict(c.factors).items()]
    if len(found) == 1:
        return found[0]
    ids = [c.id for c in cells]
    if not found:
        raise BenchError(
            f"--cell {text!r} matches no cell{suggest(text, ids)} (cells: {'; '.join(ids)})"
        )
    raise BenchError(
        f"--cell {text!r} matches {len(found)} cells ({'; '.join(c.id for c in found)}); "
        "add key=value pairs until one is left"
    )


def best_cell(cells: Sequence[Cell], scores, *, metric: str) -> Cell:
    """The cell with the best mean ``metric`` over its stored folds (lowest for loss and
    brier); ties go to the first cell of the grid."""
    known = metric_columns(scores)
    if metric not in known:
        raise BenchError(
            f"--best {metric!r}: no such metric in the store{suggest(metric, known)} "
            f"(stored: {', '.join(known)})"
        )
    means = scores.groupby("cell")[metric].mean()
    sign = 1.0 if metric in LOWER_IS_BETTER else -1.0
    ranked = [
        (sign * means[c.id], index, c)
        for index, c in enumerate(cells)
        if c.id in means.index and not math.isnan(means[c.id])
    ]
    if not ranked:
        raise BenchError(f"--best {metric!r}: no cell of the suite has a stored {metric}")
    return min(ranked, key=lambda item: item[:2])[2]


def cv_summary(scores, *, cell: str) -> dict[str, dict[str, float | None]]:
    """Mean, sample sd (None from one fold) and number of folds of each metric of ``cell``."""
    rows = scores[scores["cell"] == cell]
    summary = {}
    for metric in metric_columns(scores):
        values = rows[metric].dropna()
        if values.empty:
            continue
        sd = float(values.std(ddof=1)) if len(values) > 1 else None
        summary[metric] = {"mean": float(values.mean()), "sd": sd, "n": len(values)}
    return summary


def _pairs(text: str) -> dict[str, str]:
    parts = [p.strip() for p in re.split(r"[|,]", text) if p.strip()]
    if not all("=" in p for p in parts):
        return {}
    return dict(p.split("=", 1) for p in parts)
