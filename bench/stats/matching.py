"""Pairing the cells of two levels of one factor on the levels of all other factors."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from bench.errors import StatsError
from bench.stats.table import cell_levels, check_factor, levels_of, listing, resolve_factors

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class MatchedCells:
    """Cells at level ``a`` of ``factor`` paired with cells at level ``b`` of it.

    Two cells pair when every other factor has the same level in both (e.g. ``strategy=mstl``
    and ``strategy=ctl`` with the same backbone and optimizer). ``pairs`` holds
    ``(cell_at_a, cell_at_b)`` in order of first appearance; ``unmatched`` lists the cells of
    either level with no partner, so a reader can see what the comparison left out.
    """

    factor: str
    a: str
    b: str
    pairs: tuple[tuple[str, str], ...]
    unmatched: tuple[str, ...]


def match_levels(
    scores: pd.DataFrame,
    *,
    factor: str,
    a: str,
    b: str,
    factors: Sequence[str] | None = None,
) -> MatchedCells:
    """Pair the cells at level ``a`` of ``factor`` with those at level ``b``."""
    factors = resolve_factors(scores, factors=factors)
    check_factor(factor, factors)
    check_level(scores, factor=factor, level=a)
    check_level(scores, factor=factor, level=b)
    if a == b:
        raise StatsError(f"both levels are {a!r}; compare two different levels of {factor}")
    position = factors.index(factor)
    at_a, at_b = {}, {}
    for cell, levels in cell_levels(scores, factors).items():
        others = levels[:position] + levels[position + 1 :]
        if levels[position] == a:
            at_a[others] = cell
        elif levels[position] == b:
            at_b[others] = cell
    pairs = tuple((cell, at_b[key]) for key, cell in at_a.items() if key in at_b)
    unmatched = tuple(
        [cell for key, cell in at_a.items() if key not in at_b]
        + [cell for key, cell in at_b.items() if key not in at_a]
    )
    return MatchedCells(factor=factor, a=a, b=b, pairs=pairs, unmatched=unmatched)


def check_level(scores: pd.DataFrame, *, factor: str, level: str) -> None:
    """Raise unless ``level`` is a level of ``factor`` in ``scores``."""
    levels = levels_of(scores, factor)
    if level not in levels:
        raise StatsError(f"{factor} has no level {level!r}; its levels are: {listing(levels)}")


def require_pairs(matched: MatchedCells, *, at_least: int) -> None:
    """Raise when ``matched`` has fewer than ``at_least`` pairs, saying what was unmatched."""
    n = len(matched.pairs)
    if n >= at_least:
        return
    where = f"{matched.factor}={matched.a} vs {matched.factor}={matched.b}"
    if n == 0:
        raise StatsError(
            f"no matched cells for {where} (unmatched: {listing(matched.unmatched)}); "
            "run both levels with the same other factors"
        )
    raise StatsError(
        f"only {n} matched cell pair(s) for {where}; this test needs at least {at_least}: "
        "add cells to the grid or use test='corrected_t' on fold scores"
    )


def matched_means(
    scores: pd.DataFrame, matched: MatchedCells, *, metric: str
) -> tuple[np.ndarray, np.ndarray]:
    """Per-cell means of ``metric`` (over folds x repeats) for each pair, as (a, b) arrays."""
    means = scores.groupby("cell", sort=False)[metric].mean()
    means.index = means.index.astype(str)
    a = means.loc[[pair[0] for pair in matched.pairs]].to_numpy(dtype=float)
    b = means.loc[[pair[1] for pair in matched.pairs]].to_numpy(dtype=float)
    return a, b
