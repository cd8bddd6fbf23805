"""DeLong's fast (Sun & Xu) covariance against the O(n^2) structural-components definition."""

import math

import numpy as np
import pytest
from scipy import stats
from sklearn.metrics import roc_auc_score

from bench.errors import StatsError
from bench.stats import delong_ci, delong_covariance, delong_test


def naive_delong(y, *models):
    """DeLong et al. (1988) written out: psi(x, y) = 1 if x > y, 1/2 if equal, 0 otherwise;
    V10(X_i) = mean_j psi(X_i, Y_j), V01(Y_j) = mean_i psi(X_i, Y_j);
    S10[r, s] = sum_i (V10_r(X_i) - AUC_r)(V10_s(X_i) - AUC_s) / (m - 1), S01 likewise;
    S = S10 / m + S01 / n."""
    positives = [i for i in range(len(y)) if y[i] == 1]
    negatives = [j for j in range(len(y)) if y[j] == 0]
    m, n = len(positives), len(negatives)
    v10, v01, aucs = [], [], []
    for s in models:
        psi = [
            [1.0 if s[i] > s[j] else 0.5 if s[i] == s[j] else 0.0 for j in negatives]
            for i in positives
        ]
        v10.append([sum(row) / n for row in psi])
        v01.append([sum(psi[i][j] for i in range(m)) / m for j in range(n)])
        aucs.append(sum(map(sum, psi)) / (m * n))
    k = len(models)
    s10 = [
        [
            sum((v10[r][i] - aucs[r]) * (v10[q][i] - aucs[q]) for i in range(m)) / (m - 1)
            for q in range(k)
        ]
        for r in range(k)
    ]
    s01 = [
        [
            sum((v01[r][j] - aucs[r]) * (v01[q][j] - aucs[q]) for j in range(n)) / (n - 1)
            for q in range(k)
        ]
        for r in range(k)
    ]
    return np.array(aucs), np.array(s10) / m + np.array(s01) / n


def correlated_models(seed, n=80, ties=False):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, size=n)
    signal = y + rng.normal(0, 1.0, size=n)
    a = signal + rng.normal(0, 0.5, size=n)
    b = 0.6 * signal + rng.normal(0, 0.9, size=n)
    if ties:  # coarse scores, as from a thresholded or low-precision model
        a, b = np.round(a, 1), np.round(b, 0)
    return y, a, b


@pytest.mark.parametrize("ties", [False, True])
def test_fast_covariance_matches_the_definition(ties):
    y, a, b = correlated_models(0, ties=ties)
    aucs, cov = delong_covariance(y, a, b)
    naive_aucs, naive_cov = naive_delong(y, a, b)
    assert aucs == pytest.approx(naive_aucs, rel=1e-13)
    assert aucs == pytest.approx([roc_auc_score(y, a), roc_auc_score(y, b)], rel=1e-13)
    np.testing.assert_allclose(cov, naive_cov, rtol=1e-11)


def test_delong_test_from_the_definition():
    y, a, b = correlated_models(1)
    aucs, cov = naive_delong(y, a, b)
    se = math.sqrt(cov[0, 0] + cov[1, 1] - 2 * cov[0, 1])
    z = (aucs[0] - aucs[1]) / se
    result = delong_test(y, a, b)
    assert result.test == "DeLong test"
    assert result.statistic == pytest.approx(z, rel=1e-11)
    assert result.p == pytest.approx(2 * stats.norm.sf(abs(z)), rel=1e-10)
    assert result.estimate == pytest.approx(roc_auc_score(y, a) - roc_auc_score(y, b), rel=1e-12)
    half = stats.norm.ppf(0.975) * se
    assert (result.ci_low, result.ci_high) == pytest.approx(
        (z * se - half, z * se + half), rel=1e-10
    )


def test_swapping_models_flips_z_only():
    y, a, b = correlated_models(2)
    ab, ba = delong_test(y, a, b), delong_test(y, b, a)
    assert ab.statistic == pytest.approx(-ba.statistic, rel=1e-12)
    assert ab.p == pytest.approx(ba.p, rel=1e-12)


def test_delong_ci_from_the_definition():
    y, a, _ = correlated_models(3)
    aucs, cov = naive_delong(y, a)
    result = delong_ci(y, a, confidence=0.9)
    half = stats.norm.ppf(0.95) * math.sqrt(cov[0, 0])
    assert result.auc == pytest.approx(roc_auc_score(y, a), rel=1e-13)
    assert result.se == pytest.approx(math.sqrt(cov[0, 0]), rel=1e-11)
    assert (result.ci_low, result.ci_high) == pytest.approx(
        (aucs[0] - half, aucs[0] + half), rel=1e-11
    )
    assert result.method == "DeLong"


def test_delong_ci_is_clipped_to_the_unit_interval():
    y = np.array([0, 0, 0, 1, 1, 1, 0, 1])
    s = np.array([0.1, 0.2, 0.3, 0.9, 0.8, 0.35, 0.4, 0.7])  # AUC = 15/16
    result = delong_ci(y, s)
    assert result.auc == pytest.approx(15 / 16)
    assert result.ci_high == 1.0


def test_delong_errors():
    y, a, _ = correlated_models(4)
    with pytest.raises(StatsError, match="rank the samples identically"):
        delong_test(y, a, 2 * a + 1)
    with pytest.raises(StatsError, match="0/1 labels"):
        delong_ci(y + 1, a)
    with pytest.raises(StatsError, match="at least 2 positives and 2 negatives; got 1 and 3"):
        delong_ci([0, 0, 1, 0], [0.1, 0.2, 0.3, 0.4])
    with pytest.raises(StatsError, match="79 scores for 80 labels"):
        delong_test(y, a, a[1:])
