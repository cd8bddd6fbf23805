"""The scores table: the columns bench.stats reads and the checks made on them.

A scores table is a pandas DataFrame with one row per (cell, repeat, fold): ``cell`` (str id),
one string column per grid factor (names in ``df.attrs["factors"]`` or passed as ``factors=``),
``repeat``, ``fold``, ``n_train``, ``n_test`` and one float column per metric. A table copied
from a publication has one row per cell with ``repeat = fold = 0`` and no fold sizes (NaN).
Every check here raises :class:`bench.errors.StatsError` with one line naming the fix.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from bench.errors import StatsError
from bench.metrics import ALL_METRICS

if TYPE_CHECKING:
    import pandas as pd


def listing(values: Iterable[object]) -> str:
    """Comma-separated ``values`` for an error message."""
    return ", ".join(str(v) for v in values) or "(none)"


def require_columns(scores: pd.DataFrame, columns: Sequence[str], *, why: str) -> None:
    """Raise when ``scores`` lacks any of ``columns`` (``why`` says what needs them)."""
    missing = [c for c in columns if c not in scores.columns]
    if missing:
        raise StatsError(
            f"the scores table has no column {listing(missing)}, which {why} needs; "
            f"its columns are: {listing(scores.columns)}"
        )


def resolve_factors(
    scores: pd.DataFrame, *, factors: Sequence[str] | None = None
) -> tuple[str, ...]:
    """The grid factor names: ``factors`` when given, else ``scores.attrs["factors"]``."""
    if factors is None:
        factors = scores.attrs.get("factors")
    if factors is None:
        raise StatsError(
            "the scores table does not name its grid factors; "
            "pass factors=[...] or set scores.attrs['factors']"
        )
    factors = (factors,) if isinstance(factors, str) else tuple(factors)
    require_columns(scores, factors, why="the list of grid factors")
    return factors


def metric_columns(scores: pd.DataFrame) -> tuple[str, ...]:
    """The known metrics (see :data:`bench.metrics.REGISTRY`) that ``scores`` has a column for."""
    return tuple(m for m in ALL_METRICS if m in scores.columns)


def check_metric(scores: pd.DataFrame, metric: str) -> None:
    """Raise unless ``metric`` is a known metric with a column in ``scores``."""
    if metric not in metric_columns(scores):
        raise StatsError(
            f"unknown metric {metric!r}; pass metric= one of the table's metrics: "
            f"{listing(metric_columns(scores))}"
        )


def check_factor(factor: str, factors: Sequence[str]) -> None:
    """Raise unless ``factor`` is one of the grid ``factors``."""
    if factor not in factors:
        raise StatsError(f"unknown factor {factor!r}; pass factor= one of: {listing(factors)}")


def check_finite(scores: pd.DataFrame, metric: str) -> None:
    """Raise when a ``metric`` score is NaN or infinite, naming the cells that hold one."""
    values = scores[metric].to_numpy(dtype=float)
    bad = ~np.isfinite(values)
    if bad.any():
        cells = list(dict.fromkeys(scores.loc[bad, "cell"].astype(str)))
        raise StatsError(
            f"{metric} is NaN or infinite in cell(s) {listing(cells)}; "
            "rerun or drop those cells before testing"
        )


def check_unique_folds(scores: pd.DataFrame) -> None:
    """Raise when a (cell, repeat, fold) appears on more than one row."""
    require_columns(scores, ("cell", "repeat", "fold"), why="matching scores fold by fold")
    duplicated = scores.duplicated(["cell", "repeat", "fold"], keep=False)
    if duplicated.any():
        cells = list(dict.fromkeys(scores.loc[duplicated, "cell"].astype(str)))
        raise StatsError(
            f"cell(s) {listing(cells)} have several rows for the same (repeat, fold); "
            "keep one row per (cell, repeat, fold)"
        )


def levels_of(scores: pd.DataFrame, factor: str) -> tuple[str, ...]:
    """The levels of ``factor`` as strings, in order of first appearance."""
    return tuple(dict.fromkeys(scores[factor].astype(str)))


def cell_levels(scores: pd.DataFrame, factors: Sequence[str]) -> dict[str, tuple[str, ...]]:
    """Map each cell id to its factor levels (as strings, in ``factors`` order).

    Raises when one cell has rows with different levels, or two cells share the same levels
    (matching on factors would then be ambiguous).
    """
    require_columns(scores, ("cell", *factors), why="matching cells on factors")
    frame = scores[["cell", *factors]].astype(str).drop_duplicates()
    split = frame[frame.duplicated("cell", keep=False)]["cell"]
    if len(split):
        raise StatsError(
            f"cell(s) {listing(dict.fromkeys(split))} have rows with different factor levels; "
            "give each factor combination its own cell id"
        )
    shared = frame[frame.duplicated(list(factors), keep=False)]["cell"]
    if len(shared):
        raise StatsError(
            f"cells {listing(shared)} have the same factor levels; "
            "merge them or add the factor that tells them apart to factors="
        )
    return {row[0]: tuple(row[1:]) for row in frame.itertuples(index=False)}
