"""Friedman / Iman-Davenport, Nemenyi and Holm vs control, on Demsar's (2006) worked example."""

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests

from bench.errors import StatsError
from bench.stats import (
    average_ranks,
    friedman_test,
    holm_versus_control,
    iman_davenport,
    nemenyi_cd,
    nemenyi_q,
    rank_methods,
)

# Demsar (2006), Table 6: AUC of four C4.5 variants on 14 UCI datasets.
METHODS = ["C4.5", "C4.5+m", "C4.5+cf", "C4.5+m+cf"]
DEMSAR = pd.DataFrame(
    [
        [0.763, 0.768, 0.771, 0.798],
        [0.599, 0.591, 0.590, 0.569],
        [0.954, 0.971, 0.968, 0.967],
        [0.628, 0.661, 0.654, 0.657],
        [0.882, 0.888, 0.886, 0.898],
        [0.936, 0.931, 0.916, 0.931],
        [0.661, 0.668, 0.609, 0.685],
        [0.583, 0.583, 0.563, 0.625],
        [0.775, 0.838, 0.866, 0.875],
        [1.000, 1.000, 1.000, 1.000],
        [0.940, 0.962, 0.965, 0.962],
        [0.619, 0.666, 0.614, 0.669],
        [0.972, 0.981, 0.975, 0.975],
        [0.957, 0.978, 0.946, 0.970],
    ],
    columns=METHODS,
)
# The paper's average ranks. The printed 3-decimal table gives 41/14 and 27/14 for the last
# two instead (2.929, 1.929): one tie at 3 decimals is not a tie in the paper's ranking.
PAPER_RANKS = {"C4.5": 3.143, "C4.5+m": 2.000, "C4.5+cf": 2.893, "C4.5+m+cf": 1.964}
TABLE_RANKS = {"C4.5": 44 / 14, "C4.5+m": 28 / 14, "C4.5+cf": 41 / 14, "C4.5+m+cf": 27 / 14}


def test_average_ranks_of_the_printed_table():
    assert average_ranks(DEMSAR) == pytest.approx(TABLE_RANKS, rel=1e-14)


def test_lower_is_better_reverses_ranks():
    lower = average_ranks(DEMSAR, lower_is_better=True)
    assert lower == pytest.approx({m: 5 - r for m, r in TABLE_RANKS.items()}, rel=1e-14)


def test_friedman_by_hand_on_the_printed_table():
    # chi2 = 12N/(k(k+1)) (sum R_j^2 - k(k+1)^2/4) = 8.4 (5130/196 - 25) = 69/7
    result = friedman_test(DEMSAR, tie_correction=False)
    assert result.chi2 == pytest.approx(69 / 7, rel=1e-13)
    assert result.chi2_p == pytest.approx(stats.chi2.sf(69 / 7, 3), rel=1e-12)
    f = 13 * (69 / 7) / (42 - 69 / 7)
    assert (result.f, result.f_df1, result.f_df2) == (pytest.approx(f, rel=1e-13), 3, 39)
    assert result.p == pytest.approx(stats.f.sf(f, 3, 39), rel=1e-12)


def test_friedman_tie_correction_matches_scipy():
    # Ties: four pairs (t = 2: 6 each) and one block of four (t = 4: 60); C = 1 - 84/840 = 0.9.
    result = friedman_test(DEMSAR)
    assert result.tie_correction == pytest.approx(0.9, rel=1e-15)
    reference = stats.friedmanchisquare(*DEMSAR.to_numpy().T)
    assert result.chi2 == pytest.approx(reference.statistic, rel=1e-13)
    assert result.chi2_p == pytest.approx(reference.pvalue, rel=1e-12)


def test_friedman_matches_scipy_on_random_scores():
    table = pd.DataFrame(np.random.default_rng(0).normal(size=(9, 5)), columns=list("abcde"))
    reference = stats.friedmanchisquare(*table.to_numpy().T)
    result = friedman_test(table)
    assert result.chi2 == pytest.approx(reference.statistic, rel=1e-13)
    assert result.tie_correction == 1.0


def test_iman_davenport_reproduces_the_paper():
    # Demsar: chi2_F = 9.28, F_F = 3.69 from the paper's average ranks; F(3, 39) at 5% = 2.85.
    chi2 = 12 * 14 / (4 * 5) * (sum(r**2 for r in PAPER_RANKS.values()) - 4 * 25 / 4)
    assert round(chi2, 2) == 9.28
    f, p = iman_davenport(chi2, n_blocks=14, n_methods=4)
    assert round(f, 2) == 3.69
    assert round(stats.f.ppf(0.95, 3, 39), 2) == 2.85
    assert p < 0.05


def test_perfect_agreement_gives_infinite_f():
    table = pd.DataFrame([[3.0, 2.0, 1.0]] * 5, columns=list("abc"))
    result = friedman_test(table)
    assert result.chi2 == pytest.approx(10.0)  # N (k - 1)
    assert (result.f, result.p) == (math.inf, 0.0)


# Demsar (2006), Table 5(a): critical values q_alpha of the two-tailed Nemenyi test, k = 2..10.
Q_05 = [1.960, 2.343, 2.569, 2.728, 2.850, 2.949, 3.031, 3.102, 3.164]
Q_10 = [1.645, 2.052, 2.291, 2.459, 2.589, 2.693, 2.780, 2.855, 2.920]


@pytest.mark.parametrize(("alpha", "table"), [(0.05, Q_05), (0.10, Q_10)])
def test_nemenyi_q_matches_demsar_table(alpha, table):
    for k, q in zip(range(2, 11), table, strict=True):
        assert nemenyi_q(k, alpha=alpha) == pytest.approx(q, abs=1e-3)


def test_nemenyi_q_for_two_methods_is_the_normal_quantile():
    # The range of two standard normals over sqrt(2) is |N(0, 1)|.
    assert nemenyi_q(2) == pytest.approx(stats.norm.ppf(0.975), rel=1e-9)


def test_critical_differences_of_the_paper():
    # Demsar: CD = 2.569 sqrt(4*5 / (6*14)) = 1.25 at alpha 0.05, 1.12 at alpha 0.10.
    assert nemenyi_cd(4, 14) == pytest.approx(nemenyi_q(4) * math.sqrt(20 / 84), rel=1e-14)
    assert round(nemenyi_cd(4, 14), 2) == 1.25
    assert round(nemenyi_cd(4, 14, alpha=0.10), 2) == 1.12


def test_cliques_of_the_paper_example():
    at_05 = rank_methods(DEMSAR, alpha=0.05)
    # Even best vs worst (3.143 - 1.929 = 1.214) is below CD = 1.25: one clique.
    assert at_05.cliques == (("C4.5+m+cf", "C4.5+m", "C4.5+cf", "C4.5"),)
    at_10 = rank_methods(DEMSAR, alpha=0.10)
    # CD = 1.12: C4.5 is worse than C4.5+m and C4.5+m+cf; C4.5+cf sits in both groups.
    assert at_10.cliques == (("C4.5+m+cf", "C4.5+m", "C4.5+cf"), ("C4.5+cf", "C4.5"))
    assert at_10.order == ("C4.5+m+cf", "C4.5+m", "C4.5+cf", "C4.5")


def test_holm_versus_control_by_hand():
    comparisons = holm_versus_control(TABLE_RANKS, control="C4.5", n_blocks=14)
    se = math.sqrt(4 * 5 / (6 * 14))
    z = [(TABLE_RANKS[m] - TABLE_RANKS["C4.5"]) / se for m in METHODS[1:]]
    p = [2 * stats.norm.cdf(-abs(zi)) for zi in z]
    reject, adjusted, _, _ = multipletests(p, alpha=0.05, method="holm")
    assert [c.method for c in comparisons] == METHODS[1:]
    assert [c.z for c in comparisons] == pytest.approx(z, rel=1e-13)
    assert [c.p for c in comparisons] == pytest.approx(p, rel=1e-12)
    assert [c.p_adjusted for c in comparisons] == pytest.approx(adjusted, rel=1e-12)
    assert [c.rejected for c in comparisons] == list(reject) == [True, False, True]


def test_rank_methods_result_is_immutable_and_complete():
    result = rank_methods(DEMSAR, control="C4.5")
    assert result.methods == tuple(METHODS)
    assert result.average_ranks == pytest.approx(tuple(TABLE_RANKS.values()))
    assert result.rank_of("C4.5") == pytest.approx(44 / 14)
    assert result.n_blocks == 14 and result.friedman.n_methods == 4
    assert len(result.versus_control) == 3
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.cd = 0.0


def test_ranking_errors():
    with pytest.raises(StatsError, match="at least 2 methods"):
        friedman_test(DEMSAR[["C4.5"]])
    bad = DEMSAR.copy()
    bad.iloc[3, 1] = np.nan
    with pytest.raises(StatsError, match=r"NaN or infinite for dataset\(s\) 3;"):
        rank_methods(bad)
    with pytest.raises(StatsError, match=r"unknown control 'J48'; pass one of the methods: C4\.5"):
        rank_methods(DEMSAR, control="J48")
    with pytest.raises(StatsError, match="every dataset ties all methods"):
        friedman_test(pd.DataFrame(np.ones((3, 3)), columns=list("abc")))
