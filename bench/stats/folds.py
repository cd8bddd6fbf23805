"""Fold-by-fold score differences, the input of the resampling-aware tests.

Two cells are compared on the same outer folds: the difference ``a - b`` is taken within each
(repeat, fold), so the tests in :mod:`bench.stats.corrected`, :mod:`bench.stats.bayesian` and
:mod:`bench.stats.cv52` see one difference per fold together with the fold sizes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from bench.errors import StatsError
from bench.stats.matching import match_levels, require_pairs
from bench.stats.table import (
    check_finite,
    check_metric,
    check_unique_folds,
    levels_of,
    listing,
)

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class FoldDifferences:
    """One ``a - b`` score difference per (repeat, fold), sorted by repeat then fold.

    ``a``/``b`` are two cell ids, or two levels of a factor for a grid-level claim, where
    ``diffs`` are averages over ``n_pairs`` matched cell pairs and ``unmatched`` lists the
    cells left out. ``n_train``/``n_test`` are the fold sizes of each difference (NaN when the
    table has none); pass them on to :func:`bench.stats.corrected_t` as they are.
    """

    metric: str
    a: str
    b: str
    repeats: tuple[int, ...]
    folds: tuple[int, ...]
    diffs: tuple[float, ...]
    n_train: tuple[float, ...]
    n_test: tuple[float, ...]
    n_pairs: int = 1
    unmatched: tuple[str, ...] = ()

    def matrix(self) -> np.ndarray:
        """The differences as a repeats x folds array; raises unless every cell is filled."""
        repeats = sorted(set(self.repeats))
        folds = sorted(set(self.folds))
        if len(self.diffs) != len(repeats) * len(folds):
            raise StatsError(
                f"the fold differences of {self.a} vs {self.b} do not fill a repeats x folds "
                "grid; give every repeat the same folds"
            )
        grid = np.empty((len(repeats), len(folds)))
        for r, f, d in zip(self.repeats, self.folds, self.diffs, strict=True):
            grid[repeats.index(r), folds.index(f)] = d
        return grid


def fold_differences(scores: pd.DataFrame, *, metric: str, a: str, b: str) -> FoldDifferences:
    """Differences ``a - b`` of two cells' ``metric`` scores, matched by (repeat, fold).

    Fold sizes are the mean of the two cells' ``n_train``/``n_test`` on that fold (the same
    numbers when both cells used the same split, as bench's planner does).
    """
    _check_fold_table(scores, metric)
    _check_cells(scores, (a, b))
    frame = _pair_frame(scores, metric, a, b)
    return _to_differences(frame, metric=metric, a=a, b=b)


def grid_fold_differences(
    scores: pd.DataFrame,
    *,
    metric: str,
    factor: str,
    a: str,
    b: str,
    factors: Sequence[str] | None = None,
) -> FoldDifferences:
    """Grid-level differences: level ``a`` minus level ``b`` of ``factor``, fold by fold.

    Cells are matched on the other factors; within each (repeat, fold) the ``a - b``
    differences of all matched pairs are averaged. The result is one difference per fold, to be
    tested with :func:`bench.stats.corrected_t` (the folds, not the cells, are the resampling
    units that overlap). Every pair must cover the same (repeat, fold)s.
    """
    import pandas as pd

    _check_fold_table(scores, metric)
    matched = match_levels(scores, factor=factor, a=a, b=b, factors=factors)
    require_pairs(matched, at_least=1)
    frames = [_pair_frame(scores, metric, ca, cb) for ca, cb in matched.pairs]
    _check_same_folds(frames, matched.pairs)
    # Average over pairs within each fold; fold sizes likewise (equal when splits are shared).
    stacked = np.stack([frame.to_numpy(dtype=float) for frame in frames])
    mean = pd.DataFrame(stacked.mean(axis=0), index=frames[0].index, columns=frames[0].columns)
    return _to_differences(
        mean,
        metric=metric,
        a=a,
        b=b,
        n_pairs=len(frames),
        unmatched=matched.unmatched,
    )


def _check_fold_table(scores: pd.DataFrame, metric: str) -> None:
    check_metric(scores, metric)
    check_finite(scores, metric)
    check_unique_folds(scores)


def _check_cells(scores: pd.DataFrame, cells: Sequence[str]) -> None:
    known = levels_of(scores, "cell")
    unknown = [c for c in cells if c not in known]
    if unknown:
        raise StatsError(
            f"unknown cell(s) {listing(unknown)}; the table's cells are: {listing(known)}"
        )


def _cell_rows(scores: pd.DataFrame, cell: str, metric: str) -> pd.DataFrame:
    import pandas as pd

    rows = scores[scores["cell"].astype(str) == cell]
    index = pd.MultiIndex.from_arrays(
        [rows["repeat"].astype(int), rows["fold"].astype(int)], names=["repeat", "fold"]
    )
    columns = {
        "score": rows[metric].to_numpy(dtype=float),
        "n_train": _sizes(rows, "n_train"),
        "n_test": _sizes(rows, "n_test"),
    }
    return pd.DataFrame(columns, index=index).sort_index()


def _sizes(rows: pd.DataFrame, column: str) -> np.ndarray:
    if column not in rows.columns:
        return np.full(len(rows), np.nan)
    return rows[column].to_numpy(dtype=float)


def _pair_frame(scores: pd.DataFrame, metric: str, a: str, b: str) -> pd.DataFrame:
    """Per (repeat, fold): diff = a - b and the two cells' mean fold sizes."""
    import pandas as pd

    rows_a, rows_b = _cell_rows(scores, a, metric), _cell_rows(scores, b, metric)
    missing = rows_a.index.symmetric_difference(rows_b.index)
    if len(missing):
        raise StatsError(
            f"cells {a} and {b} do not share (repeat, fold) {listing(missing)}; "
            "rerun the missing folds or drop them from both cells"
        )
    rows_b = rows_b.loc[rows_a.index]
    return pd.DataFrame(
        {
            "diff": rows_a["score"] - rows_b["score"],
            "n_train": (rows_a["n_train"] + rows_b["n_train"]) / 2.0,
            "n_test": (rows_a["n_test"] + rows_b["n_test"]) / 2.0,
        }
    )


def _check_same_folds(frames: Sequence[pd.DataFrame], pairs: Sequence[tuple[str, str]]) -> None:
    reference = frames[0].index
    differing = [
        pair for frame, pair in zip(frames, pairs, strict=True) if not frame.index.equals(reference)
    ]
    if differing:
        cells = [cell for pair in differing for cell in pair]
        raise StatsError(
            f"cells {listing(cells)} cover other (repeat, fold)s than {listing(pairs[0])}; "
            "a grid-level test needs every matched pair on the same folds: rerun or drop them"
        )


def _to_differences(frame: pd.DataFrame, **fields: Any) -> FoldDifferences:
    return FoldDifferences(
        repeats=tuple(int(r) for r in frame.index.get_level_values(0)),
        folds=tuple(int(f) for f in frame.index.get_level_values(1)),
        diffs=tuple(float(x) for x in frame["diff"]),
        n_train=tuple(float(x) for x in frame["n_train"]),
        n_test=tuple(float(x) for x in frame["n_test"]),
        **fields,
    )
