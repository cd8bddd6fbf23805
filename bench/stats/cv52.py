"""The 5x2cv tests: Dietterich's paired t-test and Alpaydin's combined F-test.

Both need five repetitions of 2-fold cross-validation (each half trains once and tests once).
Dietterich (1998) showed the 5x2cv t-test keeps its type I error where the naive resampled
t-test does not; Alpaydin (1999) combined all ten differences into an F-test that is more
robust to which fold happens to be first. Use them only for this design; for k-fold use
:func:`bench.stats.corrected_t`.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

from bench.errors import StatsError
from bench.stats.results import SignificanceResult
from bench.stats.samples import is_constant


def dietterich_5x2cv_t(diffs: ArrayLike) -> SignificanceResult:
    """Dietterich's 5x2cv paired t-test, two-sided, df = 5.

    ``diffs[i, j]`` is the difference ``a - b`` in fold j of repeat i (5 x 2; see
    :meth:`bench.stats.FoldDifferences.matrix`, repeats and folds in ascending order). With
    s_i^2 = sum_j (diffs[i, j] - mean_j diffs[i, j])^2::

        t = diffs[0, 0] / sqrt(sum_i s_i^2 / 5)

    The numerator is the first fold of the first repeat, as in the paper; ``estimate`` is
    nevertheless the mean of all ten differences.
    """
    from scipy import stats

    p = _five_by_two(diffs)
    t = p[0, 0] / math.sqrt(_sum_of_variances(p) / 5.0)
    return SignificanceResult(
        test="Dietterich 5x2cv paired t-test",
        statistic_name="t",
        statistic=float(t),
        df=5.0,
        p=float(min(1.0, 2.0 * stats.t.sf(abs(t), 5))),
        n=10,
        estimate=float(p.mean()),
    )


def alpaydin_5x2cv_f(diffs: ArrayLike) -> SignificanceResult:
    """Alpaydin's combined 5x2cv F-test of equal performance, F(10, 5).

    ``diffs`` as for :func:`dietterich_5x2cv_t`. f = sum_ij diffs[i, j]^2 / (2 sum_i s_i^2);
    p is the upper tail of F with (10, 5) degrees of freedom. Large f means a difference in
    either direction, so the alternative is two-sided; ``df`` holds the numerator df (10), the
    denominator df is 5.
    """
    from scipy import stats

    p = _five_by_two(diffs)
    f = float(np.sum(p**2) / (2.0 * _sum_of_variances(p)))
    return SignificanceResult(
        test="Alpaydin combined 5x2cv F-test",
        statistic_name="F(10, 5)",
        statistic=f,
        df=10.0,
        p=float(stats.f.sf(f, 10, 5)),
        n=10,
        estimate=float(p.mean()),
    )


def _five_by_two(diffs: ArrayLike) -> np.ndarray:
    p = np.asarray(diffs, dtype=float)
    if p.shape != (5, 2):
        shape = " x ".join(str(s) for s in p.shape) or "a scalar"
        raise StatsError(
            f"the 5x2cv tests need exactly 5 repeats x 2 folds of differences; got {shape}; "
            "use corrected_t for other designs"
        )
    if not np.isfinite(p).all():
        raise StatsError("the 5x2cv differences hold NaN or infinite values; fix the scores")
    return p


def _sum_of_variances(p: np.ndarray) -> float:
    """sum_i s_i^2, where s_i^2 is the variance estimate of repeat i (not divided by n - 1)."""
    s2 = np.sum((p - p.mean(axis=1, keepdims=True)) ** 2)
    if all(is_constant(row) for row in p):  # equal up to rounding: s2 is rounding noise
        raise StatsError(
            "in every repeat both folds have the same difference, so the 5x2cv variance is 0 "
            "and the statistic is undefined; check that the scores are not copies"
        )
    return float(s2)
