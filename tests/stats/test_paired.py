"""Paired t-test and Wilcoxon signed-rank against scipy and hand computations; level matching."""

import math

import numpy as np
import pytest
from scipy import stats

from bench.errors import StatsError
from bench.stats import match_levels, paired_levels, paired_t, wilcoxon_signed_rank

from .conftest import make_scores

A = np.array([0.81, 0.77, 0.92, 0.68, 0.85, 0.74, 0.88])
B = np.array([0.79, 0.78, 0.86, 0.61, 0.84, 0.70, 0.80])


def test_paired_t_matches_scipy_ttest_rel():
    result = paired_t(A, B, confidence=0.9)
    reference = stats.ttest_rel(A, B)
    assert result.test == "paired t-test"
    assert result.statistic == pytest.approx(reference.statistic, rel=1e-12)
    assert result.p == pytest.approx(reference.pvalue, rel=1e-10)
    assert result.df == reference.df == 6
    interval = reference.confidence_interval(0.9)
    assert (result.ci_low, result.ci_high) == pytest.approx(
        (interval.low, interval.high), rel=1e-12
    )
    assert result.estimate == pytest.approx(np.mean(A - B), rel=1e-13)


def test_paired_t_by_hand():
    d = [0.02, -0.01, 0.06, 0.07, 0.01]
    mean = 0.03
    sd = math.sqrt((0.01**2 + 0.04**2 + 0.03**2 + 0.04**2 + 0.02**2) / 4)
    t = mean / (sd / math.sqrt(5))
    result = paired_t(d, [0.0] * 5)
    assert result.statistic == pytest.approx(t, rel=1e-12)
    assert result.p == pytest.approx(2 * stats.t.sf(t, 4), rel=1e-10)


def test_paired_t_refuses_constant_differences_and_single_pairs():
    with pytest.raises(StatsError, match="sd is 0"):
        paired_t([0.5, 0.6, 0.7], [0.4, 0.5, 0.6])
    # These differences are all 0.1 up to the last bit: scipy reports t = 3.6e15 and
    # p = 4.7e-47 for them; bench refuses them as equal.
    a, b = [0.8, 0.9, 0.7, 0.3], [0.7, 0.8, 0.6, 0.2]
    assert np.ptp(np.subtract(a, b)) > 0
    with pytest.raises(StatsError, match=r"all equal \(0\.1\), so their sd is 0"):
        paired_t(a, b)
    with pytest.raises(StatsError, match="needs at least 2"):
        paired_t([0.5], [0.4])
    with pytest.raises(StatsError, match="differ in length"):
        paired_t([0.5, 0.6], [0.4, 0.5, 0.6])


def test_wilcoxon_exact_by_hand():
    # Five positive differences: W- = 0, and only 1 of the 2**5 sign patterns is as extreme
    # on each side, so the two-sided exact p is 2/32.
    result = wilcoxon_signed_rank([0.3, 0.5, 0.2, 0.6, 0.9], [0.1, 0.2, 0.15, 0.2, 0.3])
    assert result.statistic == 0.0
    assert result.p == pytest.approx(2 / 32, abs=1e-15)
    assert result.method == "exact null distribution"
    assert result.test == "Wilcoxon signed-rank"


def test_wilcoxon_matches_scipy_without_ties():
    result = wilcoxon_signed_rank(A, B)
    reference = stats.wilcoxon(A, B)
    assert result.statistic == reference.statistic
    assert result.p == pytest.approx(reference.pvalue, rel=1e-12)


def test_wilcoxon_with_ties_uses_the_permutation_distribution():
    a = np.array([3.0, 5.0, 2.0, 6.0, 1.0, 4.0])
    b = np.array([2.0, 4.0, 4.0, 3.0, 2.0, 4.0])  # |d| = 1, 1, 2, 3, 1, 0: ties and a zero
    result = wilcoxon_signed_rank(a, b)
    assert result.method.startswith("exact permutation distribution")
    assert result.method.endswith("1 zero difference(s) dropped")
    # By hand: d = 1, 1, -2, 3, -1 (zero dropped), |d| midranks 2, 2, 4, 5, 2, so W- = 4 + 2
    # = 6 and W+ = 9. Under H0 each of the 2**5 sign patterns is equally likely; the two-sided
    # p is twice the smaller tail of W+ at the observed 9.
    ranks = np.array([2.0, 2.0, 4.0, 5.0, 2.0])
    signs = np.array(np.meshgrid(*[[0, 1]] * 5)).reshape(5, -1).T
    w_plus = signs @ ranks
    p = 2 * min(np.mean(w_plus >= 9), np.mean(w_plus <= 9))
    assert result.statistic == 6.0
    assert result.p == pytest.approx(p, rel=1e-12)
    assert result.p == pytest.approx(stats.wilcoxon(a, b).pvalue, rel=1e-12)


def test_wilcoxon_keeps_decimal_ties():
    # In floating point these five differences are 0.1 (three ways) and 0.3 - 0.3 = 0, but
    # not exactly; rounded, four of them tie and one is dropped as zero.
    a = [0.8, 0.9, 0.7, 0.3, 0.1 + 0.2, 0.5]
    b = [0.7, 0.8, 0.6, 0.2, 0.3, 0.2]
    raw = np.subtract(a, b)
    assert len(set(raw[:4])) > 1 and raw[4] != 0
    result = wilcoxon_signed_rank(a, b)
    assert result.method.startswith("exact permutation distribution")
    assert result.method.endswith("1 zero difference(s) dropped")
    reference = stats.wilcoxon([0.1, 0.1, 0.1, 0.1, 0.3])
    assert result.p == pytest.approx(reference.pvalue, rel=1e-12)
    assert result.statistic == reference.statistic == 0.0


def test_wilcoxon_large_sample_uses_the_normal_approximation():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=60), rng.normal(size=60)
    result = wilcoxon_signed_rank(a, b)
    reference = stats.wilcoxon(a, b, method="asymptotic")
    assert result.method.startswith("normal approximation")
    assert result.p == pytest.approx(reference.pvalue, rel=1e-12)


def test_wilcoxon_refuses_identical_samples():
    with pytest.raises(StatsError, match="all paired differences are zero"):
        wilcoxon_signed_rank(A, A)


def test_matching_lists_unmatched_cells():
    table = make_scores(drop=[("resnet50", "sgd", "dtl")])
    matched = match_levels(table, factor="strategy", a="dtl", b="ctl")
    assert len(matched.pairs) == 5
    assert matched.unmatched == ("backbone=resnet50|optimizer=sgd|strategy=ctl",)
    for cell_a, cell_b in matched.pairs:
        assert cell_a.replace("strategy=dtl", "strategy=ctl") == cell_b


def test_paired_levels_on_per_cell_means():
    table = make_scores(drop=[("small_cnn", "adam", "ctl")])
    result = paired_levels(table, metric="accuracy", factor="strategy", a="mstl", b="ctl")
    means = table.groupby(["backbone", "optimizer", "strategy"]).accuracy.mean().unstack()
    means = means.dropna()
    assert len(result.cells) == 5
    assert result.unmatched == ("backbone=small_cnn|optimizer=adam|strategy=mstl",)
    assert sorted(result.a_means) == pytest.approx(sorted(means["mstl"]), rel=1e-13)
    reference = stats.ttest_rel(means["mstl"], means["ctl"])
    assert result.t_test.p == pytest.approx(reference.pvalue, rel=1e-10)
    assert result.wilcoxon.p == pytest.approx(stats.wilcoxon(means["mstl"], means["ctl"]).pvalue)
    assert result.mean_diff == pytest.approx((means["mstl"] - means["ctl"]).mean(), rel=1e-12)


def test_paired_levels_errors(scores):
    with pytest.raises(
        StatsError, match=r"strategy has no level 'tl'; its levels are: ctl, mstl, dtl"
    ):
        paired_levels(scores, metric="accuracy", factor="strategy", a="tl", b="ctl")
    with pytest.raises(StatsError, match="unknown factor 'lr'; pass factor= one of: backbone"):
        paired_levels(scores, metric="accuracy", factor="lr", a="x", b="y")
    with pytest.raises(StatsError, match="both levels are 'ctl'"):
        paired_levels(scores, metric="accuracy", factor="strategy", a="ctl", b="ctl")
