"""The selection-aware (nested) estimate of a grid's winner."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats as scipy_stats

from bench.errors import StatsError
from bench.stats.selection import nested_estimate


def identical_cells(*, cells=24, repeats=2, folds=5, true=0.80, seed=0) -> pd.DataFrame:
    """A grid of one recipe trained with different seeds: every cell's true score is ``true``;
    each (cell, fold) adds independent noise to its test and to its validation score."""
    rng = np.random.default_rng(seed)
    rows = []
    for repeat in range(repeats):
        for fold in range(folds):
            for cell in range(cells):
                rows.append(
                    {
                        "cell": f"c{cell:02d}",
                        "repeat": repeat,
                        "fold": fold,
                        "auc": true + rng.normal(0, 0.04),
                        "val_auc": true + rng.normal(0, 0.04),
                        "n_train": 80,
                        "n_test": 20,
                    }
                )
    return pd.DataFrame(rows)


def test_on_identical_cells_the_naive_winner_flatters_and_the_nested_estimate_does_not():
    scores = identical_cells()
    estimate = nested_estimate(scores, metric="auc")
    assert estimate.naive > 0.80 + 0.015  # the maximum of 24 noisy means
    assert estimate.ci_low <= 0.80 <= estimate.ci_high
    assert estimate.optimism == pytest.approx(estimate.naive - estimate.nested)
    assert estimate.optimism > 0 and estimate.folds == 10 and estimate.cells == 24


def test_over_many_grids_the_nested_estimate_is_unbiased_and_the_naive_one_is_not():
    naive, nested = [], []
    for seed in range(40):
        estimate = nested_estimate(identical_cells(seed=seed), metric="auc")
        naive.append(estimate.naive)
        nested.append(estimate.nested)
    assert np.mean(naive) - 0.80 > 0.015
    assert abs(np.mean(nested) - 0.80) < 0.005


def test_hand_computed_choice_score_and_interval():
    scores = pd.DataFrame(
        {
            "cell": ["a", "b"] * 3,
            "repeat": 0,
            "fold": [0, 0, 1, 1, 2, 2],
            "auc": [0.9, 0.7, 0.6, 0.8, 0.7, 0.75],
            "val_auc": [0.5, 0.6, 0.9, 0.4, 0.3, 0.8],
            "n_train": 40,
            "n_test": 10,
        }
    )
    estimate = nested_estimate(scores, metric="auc")
    # fold 0 chooses b (0.6 > 0.5) -> 0.7; fold 1 a -> 0.6; fold 2 b -> 0.75
    assert estimate.chosen == ((0, 0, "b"), (0, 1, "a"), (0, 2, "b"))
    values = np.array([0.7, 0.6, 0.75])
    assert estimate.nested == pytest.approx(values.mean())
    assert estimate.winner == "b" and estimate.naive == pytest.approx((0.7 + 0.8 + 0.75) / 3)
    se = math.sqrt((1 / 3 + 10 / 40) * values.var(ddof=1))
    half = scipy_stats.t.ppf(0.975, 2) * se
    assert (estimate.ci_low, estimate.ci_high) == pytest.approx(
        (values.mean() - half, values.mean() + half)
    )


def test_the_interval_ends_where_the_metric_does():
    scores = pd.DataFrame(
        {
            "cell": "a",
            "repeat": 0,
            "fold": [0, 1, 2],
            "auc": [1.0, 0.9, 0.98],
            "val_auc": 0.5,
            "n_train": 40,
            "n_test": 10,
        }
    )
    values = np.array([1.0, 0.9, 0.98])
    se = math.sqrt((1 / 3 + 10 / 40) * values.var(ddof=1))
    half = scipy_stats.t.ppf(0.975, 2) * se
    assert values.mean() + half > 1  # the raw t-interval passes the largest possible AUC
    estimate = nested_estimate(scores, metric="auc")
    assert estimate.ci_high == 1.0
    assert estimate.ci_low == pytest.approx(values.mean() - half)
    unbounded = nested_estimate(scores.rename(columns={"auc": "x", "val_auc": "val_x"}), metric="x")
    assert unbounded.ci_high == pytest.approx(values.mean() + half)  # not a registry metric


def test_lower_is_better_metrics_choose_the_lowest_validation_score():
    scores = pd.DataFrame(
        {
            "cell": ["a", "b"],
            "repeat": 0,
            "fold": 0,
            "loss": [0.3, 0.5],
            "val_loss": [0.6, 0.2],
            "n_train": 10,
            "n_test": 5,
        }
    )
    estimate = nested_estimate(scores, metric="loss", higher_is_better=False)
    assert estimate.chosen == ((0, 0, "b"),) and estimate.nested == 0.5
    assert estimate.winner == "a" and math.isnan(estimate.ci_low)


def test_results_without_validation_scores_are_refused_with_the_fix():
    scores = identical_cells().drop(columns="val_auc")
    with pytest.raises(StatsError, match="rerun the suite"):
        nested_estimate(scores, metric="auc")
