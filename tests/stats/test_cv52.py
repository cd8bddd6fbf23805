"""Dietterich's 5x2cv t-test and Alpaydin's combined F-test, by hand."""

import math

import numpy as np
import pytest
from scipy import stats

from bench.errors import StatsError
from bench.stats import alpaydin_5x2cv_f, dietterich_5x2cv_t

# diffs[i][j]: repeat i, fold j
DIFFS = [
    [0.03, 0.01],
    [0.02, 0.04],
    [0.00, 0.02],
    [0.05, 0.01],
    [0.02, 0.02],
]


def sum_of_variances():
    # s_i^2 = (p_i1 - mean_i)^2 + (p_i2 - mean_i)^2 = (p_i1 - p_i2)^2 / 2
    # repeat 1: 0.02^2/2 = 0.0002; 2: 0.0002; 3: 0.0002; 4: 0.04^2/2 = 0.0008; 5: 0
    return 0.0002 + 0.0002 + 0.0002 + 0.0008 + 0.0


def test_dietterich_by_hand():
    t = 0.03 / math.sqrt(sum_of_variances() / 5)
    result = dietterich_5x2cv_t(DIFFS)
    assert result.statistic == pytest.approx(t, rel=1e-12)
    assert result.df == 5
    assert result.p == pytest.approx(2 * stats.t.sf(t, 5), rel=1e-10)
    assert result.estimate == pytest.approx(0.022, rel=1e-12)
    assert result.test == "Dietterich 5x2cv paired t-test"


def test_alpaydin_by_hand():
    squares = 0.03**2 + 0.01**2 + 0.02**2 + 0.04**2 + 0 + 0.02**2 + 0.05**2 + 0.01**2 + 0.02**2 * 2
    f = squares / (2 * sum_of_variances())
    result = alpaydin_5x2cv_f(DIFFS)
    assert result.statistic == pytest.approx(f, rel=1e-12)
    assert result.p == pytest.approx(stats.f.sf(f, 10, 5), rel=1e-10)
    assert result.test == "Alpaydin combined 5x2cv F-test"


def test_sign_of_first_fold_decides_dietterich_only():
    flipped = -np.array(DIFFS)
    assert dietterich_5x2cv_t(flipped).statistic == pytest.approx(
        -dietterich_5x2cv_t(DIFFS).statistic
    )
    assert alpaydin_5x2cv_f(flipped).statistic == pytest.approx(alpaydin_5x2cv_f(DIFFS).statistic)


@pytest.mark.parametrize("test", [dietterich_5x2cv_t, alpaydin_5x2cv_f])
def test_design_must_be_five_by_two(test):
    with pytest.raises(StatsError, match=r"exactly 5 repeats x 2 folds.*got 3 x 5"):
        test(np.zeros((3, 5)))
    with pytest.raises(StatsError, match="variance is 0"):
        test(np.ones((5, 2)))
    # differences equal up to rounding (0.8 - 0.7 vs 0.9 - 0.8) are equal too: t = 1e15 otherwise
    rounded = np.column_stack([np.full(5, 0.8 - 0.7), np.full(5, 0.9 - 0.8)])
    assert np.ptp(rounded) > 0
    with pytest.raises(StatsError, match="variance is 0"):
        test(rounded)


def test_from_a_five_by_two_scores_table():
    import pandas as pd

    from bench.stats import fold_differences

    rows = []
    for (i, j), d in np.ndenumerate(DIFFS):
        rows.append({"cell": "b", "repeat": i, "fold": j, "accuracy": 0.8})
        rows.append({"cell": "a", "repeat": i, "fold": j, "accuracy": 0.8 + d})
    fd = fold_differences(pd.DataFrame(rows[::-1]), metric="accuracy", a="a", b="b")
    result = dietterich_5x2cv_t(fd.matrix())
    assert fd.matrix() == pytest.approx(np.array(DIFFS), abs=1e-15)
    assert result.statistic == pytest.approx(dietterich_5x2cv_t(DIFFS).statistic, rel=1e-12)
