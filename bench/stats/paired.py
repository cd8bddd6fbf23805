"""Paired tests on matched scores: the paired t-test and the Wilcoxon signed-rank test.

Use them on one score per *independent* unit, such as the per-cell means of two levels of a
factor matched on the other factors (as the published MSTL vs CTL comparison does). Do not use
them on fold scores of one cell: folds share training data, so the naive test overstates
significance; use :func:`bench.stats.corrected_t` there.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike

from bench.errors import StatsError
from bench.stats.matching import match_levels, matched_means, require_pairs
from bench.stats.results import SignificanceResult
from bench.stats.samples import check_confidence, check_nonconstant, paired_differences
from bench.stats.table import check_finite, check_metric, check_unique_folds
from bench.stats.tdist import t_test

if TYPE_CHECKING:
    import pandas as pd

# scipy's own limits for the Wilcoxon null distribution: the exact distribution is tabulated
# up to 50 pairs; with ties or zeros the permutation distribution is enumerated exactly while
# 2**n sign flips fit in its default 9999 resamples, i.e. up to 13 pairs.
_EXACT_MAX_PAIRS = 50
_PERMUTATION_MAX_PAIRS = 13
_DECIMALS = 12


def paired_t(a: ArrayLike, b: ArrayLike, *, confidence: float = 0.95) -> SignificanceResult:
    """Paired t-test of mean(a - b) = 0, two-sided, with the t-interval of the mean difference.

    t = mean(d) / (sd(d) / sqrt(n)) with sd using ddof=1 and n - 1 degrees of freedom. Assumes
    the n differences are independent and roughly normal; with few pairs or skewed differences
    read it next to :func:`wilcoxon_signed_rank`.
    """
    check_confidence(confidence)
    d = paired_differences(a, b)
    n = d.size
    se = math.sqrt(check_nonconstant(d, what="paired differences") / n)
    return t_test(test="paired t-test", mean=float(d.mean()), se=se, n=n, confidence=confidence)


def wilcoxon_signed_rank(a: ArrayLike, b: ArrayLike) -> SignificanceResult:
    """Wilcoxon signed-rank test of a symmetric distribution of a - b about 0, two-sided.

    Differences are rounded to 12 decimals, so that differences equal in decimal tie exactly,
    and zero differences are dropped (Wilcoxon's convention). The null distribution of the
    remaining n differences follows scipy 1.17's rule and is named in ``method``: exact when
    n <= 50 and no absolute differences tie; with ties, an exact enumeration of the 2**n sign
    flips when n <= 13; otherwise the normal approximation with the tie-corrected variance and
    no continuity correction. The statistic is scipy's min(W+, W-); ``n`` counts all pairs
    given. ``estimate`` is the mean difference; no interval is given, since a t-interval
    would not be the one this rank test implies.
    """
    from scipy import stats

    raw = paired_differences(a, b)
    # Ranks need exact ties: 0.8 - 0.7 and 0.9 - 0.8 differ in the last bit, and 0.3 - 0.3
    # computed two ways may not be 0. Rounding to 12 decimals restores the decimal ties.
    d = np.round(raw, _DECIMALS)
    nonzero = d[d != 0.0]
    if nonzero.size == 0:
        raise StatsError(
            "all paired differences are zero, so the Wilcoxon signed-rank test has nothing to "
            "rank; the two samples are identical"
        )
    method, label = _wilcoxon_method(nonzero)
    result = stats.wilcoxon(nonzero, method=method)
    dropped = d.size - nonzero.size
    if dropped:
        label += f"; {dropped} zero difference(s) dropped"
    return SignificanceResult(
        test="Wilcoxon signed-rank",
        statistic_name="W",
        statistic=float(result.statistic),
        df=None,
        p=float(result.pvalue),
        n=int(d.size),
        estimate=float(raw.mean()),
        method=label,
    )


def _wilcoxon_method(nonzero: np.ndarray) -> tuple[object, str]:
    from scipy import stats

    n = nonzero.size
    ties = np.unique(np.abs(nonzero)).size < n
    if n <= _EXACT_MAX_PAIRS and not ties:
        return "exact", "exact null distribution"
    if n <= _PERMUTATION_MAX_PAIRS:
        return stats.PermutationMethod(), "exact permutation distribution (tied ranks)"
    return "asymptotic", "normal approximation, tie-corrected, no continuity correction"


@dataclass(frozen=True)
class PairedLevels:
    """Two levels of a factor compared over matched cells on per-cell means.

    ``cells[i]`` is the (cell at a, cell at b) pair whose means are ``a_means[i]`` and
    ``b_means[i]``; ``unmatched`` lists the cells left out because they have no partner.
    """

    metric: str
    factor: str
    a: str
    b: str
    cells: tuple[tuple[str, str], ...]
    a_means: tuple[float, ...]
    b_means: tuple[float, ...]
    t_test: SignificanceResult
    wilcoxon: SignificanceResult
    unmatched: tuple[str, ...]

    @property
    def mean_diff(self) -> float:
        """Mean over pairs of (a mean - b mean)."""
        return self.t_test.estimate


def paired_levels(
    scores: pd.DataFrame,
    *,
    metric: str,
    factor: str,
    a: str,
    b: str,
    factors: Sequence[str] | None = None,
    confidence: float = 0.95,
) -> PairedLevels:
    """Compare level ``a`` of ``factor`` with level ``b`` on per-cell means of ``metric``.

    Each cell is reduced to its mean over folds x repeats; cells are paired on the levels of
    every other factor; the paired t-test and the Wilcoxon signed-rank test run on the pairs.
    Works on published tables (one score per cell). Needs at least two pairs.
    """
    check_metric(scores, metric)
    check_finite(scores, metric)
    check_unique_folds(scores)
    matched = match_levels(scores, factor=factor, a=a, b=b, factors=factors)
    require_pairs(matched, at_least=2)
    a_means, b_means = matched_means(scores, matched, metric=metric)
    return PairedLevels(
        metric=metric,
        factor=factor,
        a=a,
        b=b,
        cells=matched.pairs,
        a_means=tuple(float(x) for x in a_means),
        b_means=tuple(float(x) for x in b_means),
        t_test=paired_t(a_means, b_means, confidence=confidence),
        wilcoxon=wilcoxon_signed_rank(a_means, b_means),
        unmatched=matched.unmatched,
    )
