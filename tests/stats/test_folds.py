"""Fold-by-fold differences of two cells and the grid-level fold means."""

import numpy as np
import pandas as pd
import pytest

from bench.errors import StatsError
from bench.stats import fold_differences, grid_fold_differences

from .conftest import cell_id, make_scores


def small_table():
    # Two cells, 2 repeats x 2 folds, rows deliberately out of order.
    return pd.DataFrame(
        {
            "cell": ["a", "b", "a", "b", "a", "b", "b", "a"],
            "repeat": [1, 0, 0, 1, 0, 1, 0, 1],
            "fold": [1, 1, 0, 0, 1, 1, 0, 0],
            "n_train": [60, 61, 60, 60, 61, 61, 60, 60],
            "n_test": [40, 39, 40, 40, 39, 39, 40, 40],
            "auc": [0.90, 0.70, 0.80, 0.75, 0.85, 0.80, 0.78, 0.88],
        }
    )


def test_differences_are_matched_by_repeat_and_fold():
    fd = fold_differences(small_table(), metric="auc", a="a", b="b")
    assert fd.repeats == (0, 0, 1, 1)
    assert fd.folds == (0, 1, 0, 1)
    assert fd.diffs == pytest.approx((0.80 - 0.78, 0.85 - 0.70, 0.88 - 0.75, 0.90 - 0.80))
    assert fd.n_train == (60.0, 61.0, 60.0, 60.5)
    assert fd.n_test == (40.0, 39.0, 40.0, 39.5)
    assert fd.matrix() == pytest.approx(np.array([[0.02, 0.15], [0.13, 0.10]]))


def test_missing_fold_is_refused():
    table = small_table().iloc[1:]
    with pytest.raises(StatsError, match=r"cells a and b do not share \(repeat, fold\) \(1, 1\)"):
        fold_differences(table, metric="auc", a="a", b="b")


def test_unknown_cell_is_named():
    with pytest.raises(StatsError, match=r"unknown cell\(s\) c; the table's cells are: a, b"):
        fold_differences(small_table(), metric="auc", a="c", b="b")


def test_grid_differences_average_over_matched_cells():
    table = make_scores(drop=[("resnet50", "sgd", "mstl")])
    fd = grid_fold_differences(table, metric="auc", factor="strategy", a="mstl", b="ctl")
    assert fd.n_pairs == 5
    assert fd.unmatched == (cell_id("resnet50", "sgd", "ctl"),)
    # Independent computation: pivot to one column per strategy, difference, mean per fold.
    wide = table.pivot_table(
        index=["repeat", "fold", "backbone", "optimizer"], columns="strategy", values="auc"
    )
    expected = (wide["mstl"] - wide["ctl"]).dropna().groupby(["repeat", "fold"]).mean()
    assert fd.diffs == pytest.approx(tuple(expected), rel=1e-12)
    assert fd.n_test == (34.0, 33.0, 33.0) * 2


def test_grid_differences_need_the_same_folds_in_every_pair():
    table = make_scores()
    table = table.drop(
        table.index[(table.cell == cell_id("resnet50", "sgd", "mstl")) & (table.fold == 2)]
    )
    table = table.drop(
        table.index[(table.cell == cell_id("resnet50", "sgd", "ctl")) & (table.fold == 2)]
    )
    with pytest.raises(StatsError, match="cover other \\(repeat, fold\\)s"):
        grid_fold_differences(table, metric="auc", factor="strategy", a="mstl", b="ctl")


def test_matrix_needs_a_full_grid():
    table = small_table().query("not (repeat == 0 and fold == 1)")
    fd = fold_differences(table, metric="auc", a="a", b="b")
    assert fd.repeats == (0, 1, 1)
    with pytest.raises(StatsError, match="do not fill a repeats x folds grid"):
        fd.matrix()
