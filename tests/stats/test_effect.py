"""Cohen's d_z and Cliff's delta against step-by-step definitions."""

import itertools
import math

import numpy as np
import pytest

from bench.errors import StatsError
from bench.stats import cliffs_delta, cohens_dz


def test_dz_by_hand():
    d = [0.02, -0.01, 0.06, 0.07, 0.01]
    sd = math.sqrt((0.01**2 + 0.04**2 + 0.03**2 + 0.04**2 + 0.02**2) / 4)
    assert cohens_dz(d) == pytest.approx(0.03 / sd, rel=1e-12)


def test_dz_is_t_over_sqrt_n():
    from scipy import stats

    d = np.random.default_rng(2).normal(0.1, 1.0, size=12)
    assert cohens_dz(d) == pytest.approx(stats.ttest_1samp(d, 0).statistic / math.sqrt(12))


def test_dz_refuses_constant_differences():
    with pytest.raises(StatsError, match="sd is 0"):
        cohens_dz([0.1, 0.1])


def brute_force_delta(x, y):
    signs = [np.sign(a - b) for a, b in itertools.product(x, y)]
    return sum(signs) / len(signs)


def test_cliffs_delta_known_values():
    assert cliffs_delta([4, 5, 6], [1, 2, 3]) == 1.0
    assert cliffs_delta([1, 2, 3], [4, 5, 6]) == -1.0
    # Of 9 pairs: x > y in 1, x < y in 6, ties 2 -> (1 - 6) / 9
    assert cliffs_delta([1, 2, 3], [2, 3, 4]) == pytest.approx(-5 / 9)


def test_cliffs_delta_matches_the_pairwise_definition_with_ties():
    rng = np.random.default_rng(5)
    x = rng.integers(0, 8, size=23).astype(float)
    y = rng.integers(0, 8, size=17).astype(float)
    assert cliffs_delta(x, y) == pytest.approx(brute_force_delta(x, y), abs=1e-15)
    assert cliffs_delta(y, x) == pytest.approx(-brute_force_delta(x, y), abs=1e-15)
