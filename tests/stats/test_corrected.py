"""The Nadeau-Bengio corrected resampled t-test, by hand on small fold tables."""

import math

import pytest
from scipy import stats

from bench.errors import StatsError
from bench.stats import corrected_t, fold_differences, fold_size_ratio

from .test_folds import small_table

DIFFS = [0.02, 0.01, 0.03, -0.01, 0.02]  # 5-fold CV, one repeat


def test_corrected_t_by_hand():
    # mean 0.014; deviations 0.006, -0.004, 0.016, -0.024, 0.006; squares sum 920e-6;
    # s^2 = 920e-6 / 4 = 230e-6; variance factor 1/5 + 20/80 = 0.45.
    se = math.sqrt(0.45 * 230e-6)
    t = 0.014 / se
    result = corrected_t(DIFFS, n_train=80, n_test=20)
    assert result.test == "Nadeau-Bengio corrected t-test"
    assert result.statistic == pytest.approx(t, rel=1e-12)
    assert result.df == 4
    assert result.n == 5
    assert result.p == pytest.approx(2 * stats.t.sf(t, 4), rel=1e-10)
    half = stats.t.ppf(0.975, 4) * se
    assert (result.ci_low, result.ci_high) == pytest.approx((0.014 - half, 0.014 + half), rel=1e-12)


def test_correction_is_wider_than_the_naive_t_test():
    naive = stats.ttest_1samp(DIFFS, 0.0)
    corrected = corrected_t(DIFFS, n_train=80, n_test=20)
    assert corrected.p > naive.pvalue
    # Without the n_test/n_train term the statistic is the naive one.
    assert naive.statistic == pytest.approx(0.014 / math.sqrt(230e-6 / 5), rel=1e-12)


def test_unequal_folds_use_mean_sizes():
    n_train = [80, 81, 79, 80, 80]
    n_test = [20, 19, 21, 20, 20]
    assert fold_size_ratio(n_train, n_test) == pytest.approx(20 / 80, rel=1e-15)
    assert corrected_t(DIFFS, n_train=n_train, n_test=n_test).statistic == pytest.approx(
        corrected_t(DIFFS, n_train=80, n_test=20).statistic, rel=1e-12
    )


def test_repeated_kfold_on_a_table_by_hand():
    fd = fold_differences(small_table(), metric="auc", a="a", b="b")
    result = corrected_t(fd.diffs, n_train=fd.n_train, n_test=fd.n_test)
    # J = 2 repeats x 2 folds; diffs 0.02, 0.15, 0.13, 0.10: mean 0.1, deviations -0.08,
    # 0.05, 0.03, 0; s^2 = (0.0064 + 0.0025 + 0.0009) / 3 = 0.0098 / 3.
    # Mean sizes: n_test = (40 + 39 + 40 + 39.5) / 4 = 39.625, n_train = 60.375.
    factor = 1 / 4 + 39.625 / 60.375
    t = 0.1 / math.sqrt(factor * 0.0098 / 3)
    assert result.statistic == pytest.approx(t, rel=1e-10)
    assert result.df == 3
    assert result.p == pytest.approx(2 * stats.t.sf(t, 3), rel=1e-9)


def test_corrected_t_errors():
    with pytest.raises(StatsError, match="fold sizes n_train and n_test, which are missing"):
        corrected_t(DIFFS, n_train=float("nan"), n_test=20)
    with pytest.raises(StatsError, match="must be positive"):
        corrected_t(DIFFS, n_train=0, n_test=20)
    with pytest.raises(StatsError, match="fold sizes do not pair: 3 n_train values but 2"):
        corrected_t(DIFFS, n_train=[80, 80, 80], n_test=[20, 20])
    with pytest.raises(StatsError, match="at least 2"):
        corrected_t([0.1], n_train=80, n_test=20)
    with pytest.raises(StatsError, match="sd is 0"):
        corrected_t([0.1, 0.1, 0.1], n_train=80, n_test=20)
