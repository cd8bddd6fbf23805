"""The scores-table contract: factor lookup, metric names, NaN and duplicate checks."""

import numpy as np
import pytest

from bench.errors import StatsError
from bench.stats import LOWER_IS_BETTER, METRICS, higher_is_better, summarize_cells
from bench.stats.table import cell_levels, check_unique_folds, resolve_factors

from .conftest import FACTORS


def test_lower_is_better_metrics():
    assert {"loss", "brier"} == LOWER_IS_BETTER
    assert set(METRICS) >= LOWER_IS_BETTER
    assert not higher_is_better("loss")
    assert higher_is_better("auc")


def test_factors_come_from_attrs_or_argument(scores):
    assert resolve_factors(scores) == FACTORS
    assert resolve_factors(scores, factors=["strategy"]) == ("strategy",)
    scores.attrs.clear()
    with pytest.raises(StatsError, match=r"does not name its grid factors; pass factors="):
        resolve_factors(scores)


def test_missing_factor_column_is_named(scores):
    with pytest.raises(StatsError, match="no column augment"):
        resolve_factors(scores, factors=["backbone", "augment"])


def test_unknown_metric_lists_the_available_ones(scores):
    with pytest.raises(StatsError, match=r"unknown metric 'acc'.*accuracy, auc, loss$"):
        summarize_cells(scores, metric="acc")


def test_nan_scores_name_their_cells(scores):
    scores.loc[[3, 4], "auc"] = np.nan
    with pytest.raises(
        StatsError,
        match=r"auc is NaN .* cell\(s\) backbone=small_cnn\|optimizer=adam\|strategy=ctl;",
    ):
        summarize_cells(scores, metric="auc")


def test_duplicate_folds_are_refused(scores):
    doubled = scores.iloc[[0, 0]]
    with pytest.raises(StatsError, match="several rows for the same"):
        check_unique_folds(doubled)


def test_cell_levels_refuse_ambiguous_cells(scores):
    assert cell_levels(scores, FACTORS)[scores.cell[0]] == ("small_cnn", "adam", "ctl")
    scores.loc[0, "optimizer"] = "sgd"
    with pytest.raises(StatsError, match="rows with different factor levels"):
        cell_levels(scores, FACTORS)
