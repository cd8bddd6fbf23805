"""Per-cell summaries checked against statistics/scipy computations written out here."""

import math
import statistics

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from bench.errors import StatsError
from bench.stats import summarize_cells


def test_summary_matches_a_hand_computation(scores):
    summaries = summarize_cells(scores, metric="auc")
    assert len(summaries) == scores.cell.nunique()
    first = summaries[0]
    values = scores.loc[scores.cell == first.cell, "auc"].tolist()
    mean = statistics.fmean(values)
    sd = statistics.stdev(values)
    half = stats.t.ppf(0.975, len(values) - 1) * sd / math.sqrt(len(values))
    assert first.n == 6
    assert first.mean == pytest.approx(mean, rel=1e-13)
    assert first.sd == pytest.approx(sd, rel=1e-12)
    assert (first.ci_low, first.ci_high) == pytest.approx((mean - half, mean + half), rel=1e-12)
    low, high = stats.t.interval(0.95, len(values) - 1, loc=mean, scale=stats.sem(values))
    assert (first.ci_low, first.ci_high) == pytest.approx((low, high), rel=1e-12)


def test_repeat_means_spread():
    table = pd.DataFrame(
        {
            "cell": ["c"] * 6,
            "repeat": [0, 0, 1, 1, 2, 2],
            "fold": [0, 1] * 3,
            "accuracy": [0.70, 0.80, 0.60, 0.64, 0.90, 0.86],
        }
    )
    (summary,) = summarize_cells(table, metric="accuracy", confidence=0.9)
    assert summary.n_repeats == 3
    assert summary.repeat_mean_min == pytest.approx(0.62)
    assert summary.repeat_mean_max == pytest.approx(0.88)
    assert summary.confidence == 0.9
    half = stats.t.ppf(0.95, 5) * np.std(table.accuracy, ddof=1) / math.sqrt(6)
    assert summary.ci_high - summary.mean == pytest.approx(half, rel=1e-12)


def test_the_interval_stays_within_the_metric_range():
    table = pd.DataFrame(
        {"cell": "c", "repeat": 0, "fold": [0, 1, 2], "accuracy": [1.0, 0.8, 0.96]}
    )
    (summary,) = summarize_cells(table, metric="accuracy")
    low, high = stats.t.interval(0.95, 2, loc=summary.mean, scale=stats.sem(table.accuracy))
    assert high > 1 and summary.ci_high == 1.0
    assert summary.ci_low == pytest.approx(low, rel=1e-12)


def test_published_table_has_no_spread():
    table = pd.DataFrame({"cell": ["a", "b"], "repeat": 0, "fold": 0, "accuracy": [0.8, 0.9]})
    summary = summarize_cells(table, metric="accuracy")[1]
    assert (summary.n, summary.mean) == (1, 0.9)
    assert math.isnan(summary.sd) and math.isnan(summary.ci_low) and math.isnan(summary.ci_high)
    assert summary.repeat_mean_min == summary.repeat_mean_max == 0.9


def test_duplicated_rows_are_refused(scores):
    with pytest.raises(StatsError, match="several rows for the same"):
        summarize_cells(pd.concat([scores, scores.iloc[:1]]), metric="auc")
