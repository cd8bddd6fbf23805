"""The Bayesian correlated t-test: its posterior is a Student t evaluated here with scipy."""

import math

import pytest
from scipy import stats

from bench.errors import StatsError
from bench.stats import bayes_correlated_t, corrected_t

DIFFS = [0.02, 0.01, 0.03, -0.01, 0.02, 0.04, 0.00, 0.03, 0.01, 0.02]  # 10-fold CV


def posterior():
    # n = 10, mean 0.017, s^2 = sum of squared deviations / 9; rho = 10 / (10 + 90) = 0.1,
    # so the scale is sqrt((1/10 + 0.1/0.9) s^2) (Corani & Benavoli 2015).
    mean = sum(DIFFS) / 10
    s2 = sum((d - mean) ** 2 for d in DIFFS) / 9
    return stats.t(9, loc=mean, scale=math.sqrt((1 / 10 + 0.1 / 0.9) * s2))


def test_posterior_probabilities_by_hand():
    result = bayes_correlated_t(DIFFS, n_train=90, n_test=10, rope=0.01)
    reference = posterior()
    assert result.test == "Bayesian correlated t-test"
    assert result.rho == pytest.approx(0.1, rel=1e-15)
    assert result.df == 9
    assert result.location == pytest.approx(0.017, rel=1e-13)
    assert result.scale == pytest.approx(reference.std() * math.sqrt(7 / 9), rel=1e-12)
    assert result.p_left == pytest.approx(reference.cdf(-0.01), rel=1e-12)
    assert result.p_rope == pytest.approx(reference.cdf(0.01) - reference.cdf(-0.01), rel=1e-12)
    assert result.p_right == pytest.approx(reference.sf(0.01), rel=1e-12)
    assert result.p_left + result.p_rope + result.p_right == pytest.approx(1.0, abs=1e-15)
    low, high = reference.interval(0.95)
    assert (result.ci_low, result.ci_high) == pytest.approx((low, high), rel=1e-12)


def test_without_rope_left_is_the_one_sided_corrected_p():
    bayes = bayes_correlated_t(DIFFS, n_train=90, n_test=10, rope=0.0)
    frequentist = corrected_t(DIFFS, n_train=90, n_test=10)
    assert bayes.p_rope == 0.0
    assert bayes.p_left == pytest.approx(frequentist.p / 2, rel=1e-10)
    assert (bayes.ci_low, bayes.ci_high) == pytest.approx((frequentist.ci_low, frequentist.ci_high))


def test_wider_rope_moves_mass_into_it():
    narrow = bayes_correlated_t(DIFFS, n_train=90, n_test=10, rope=0.005)
    wide = bayes_correlated_t(DIFFS, n_train=90, n_test=10, rope=0.02)
    assert wide.p_rope > narrow.p_rope
    assert wide.p_right < narrow.p_right


def test_bayes_errors():
    with pytest.raises(StatsError, match=r"rope=-0\.01 must be a finite number >= 0"):
        bayes_correlated_t(DIFFS, n_train=90, n_test=10, rope=-0.01)
    with pytest.raises(StatsError, match="sd is 0"):
        bayes_correlated_t([0.0, 0.0], n_train=90, n_test=10, rope=0.01)
