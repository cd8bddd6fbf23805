"""Holm, Bonferroni and Benjamini-Hochberg against statsmodels' multipletests."""

import numpy as np
import pytest
from statsmodels.stats.multitest import multipletests

from bench.errors import StatsError
from bench.stats import adjust_pvalues

STATSMODELS = {"holm": "holm", "bonferroni": "bonferroni", "bh": "fdr_bh"}
FAMILIES = [
    [0.01, 0.04, 0.03, 0.005, 0.20],
    [0.04, 0.04, 0.04, 0.001],  # ties
    [0.5],
    list(np.random.default_rng(3).uniform(0, 0.2, size=25)),
    [0.0, 1.0, 0.3, 0.3],
]


@pytest.mark.parametrize("method", STATSMODELS)
@pytest.mark.parametrize("pvalues", FAMILIES)
def test_matches_statsmodels(method, pvalues):
    expected = multipletests(pvalues, method=STATSMODELS[method])[1]
    assert adjust_pvalues(pvalues, method=method) == pytest.approx(expected, rel=1e-14, abs=0)


@pytest.mark.parametrize("method", STATSMODELS)
def test_invariants(method):
    p = np.random.default_rng(7).uniform(size=40) ** 3
    adjusted = adjust_pvalues(p, method=method)
    assert (adjusted >= p).all() and (adjusted <= 1).all()
    order = np.argsort(p)
    assert (np.diff(adjusted[order]) >= 0).all()  # monotone in the raw p-values


def test_holm_by_hand():
    # sorted: 0.005 (x4 = 0.02), 0.01 (x3 = 0.03), 0.03 (x2 = 0.06), 0.04 (x1 = 0.04 -> 0.06)
    assert adjust_pvalues([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])


def test_bh_by_hand():
    # sorted: 0.005*4/1 = 0.02, 0.01*4/2 = 0.02, 0.03*4/3 = 0.04, 0.04*4/4 = 0.04
    assert adjust_pvalues([0.01, 0.04, 0.03, 0.005], method="bh") == pytest.approx(
        [0.02, 0.04, 0.04, 0.02]
    )


def test_empty_family():
    assert adjust_pvalues([]).size == 0


def test_errors():
    with pytest.raises(
        StatsError, match="unknown adjustment 'fdr'; use one of: holm, bonferroni, bh"
    ):
        adjust_pvalues([0.1], method="fdr")
    with pytest.raises(StatsError, match=r"must lie in \[0, 1\] with no NaN"):
        adjust_pvalues([0.1, float("nan")])
    with pytest.raises(StatsError, match=r"must lie in \[0, 1\]"):
        adjust_pvalues([1.2])
