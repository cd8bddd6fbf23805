"""The Bayesian correlated t-test (Corani & Benavoli 2015) with a region of practical equivalence.

Instead of a p-value it answers the question users ask: how probable is it that ``a`` is
practically worse than, equivalent to, or better than ``b``? Practical equivalence is a
difference within +-``rope`` (same units as the metric, e.g. 0.01 = one accuracy point).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from numpy.typing import ArrayLike

from bench.errors import StatsError
from bench.stats.corrected import fold_size_ratio
from bench.stats.samples import as_sample, check_confidence, check_nonconstant


@dataclass(frozen=True)
class BayesianResult:
    """Posterior of the mean difference ``a - b``: Student t(df, location, scale).

    ``p_left`` = P(diff < -rope), ``p_rope`` = P(-rope <= diff <= rope), ``p_right`` =
    P(diff > rope); they sum to 1. ``ci_low``/``ci_high`` is the central credible interval.
    """

    n: int
    df: float
    location: float
    scale: float
    rho: float
    rope: float
    p_left: float
    p_rope: float
    p_right: float
    ci_low: float
    ci_high: float
    confidence: float
    test: str = "Bayesian correlated t-test"


def bayes_correlated_t(
    diffs: ArrayLike,
    *,
    n_train: ArrayLike,
    n_test: ArrayLike,
    rope: float,
    confidence: float = 0.95,
) -> BayesianResult:
    """Bayesian correlated t-test on J fold differences ``a - b``.

    The correlation between fold scores is set to rho = n_test / (n_test + n_train) (its value
    for k-fold, 1/k); with mean(d), sample variance s^2 (ddof=1) and n = J the posterior of
    the mean difference is Student t with df = n - 1, location mean(d) and
    scale = sqrt((1/n + rho/(1 - rho)) * s^2) (Corani & Benavoli 2015). Since
    rho/(1 - rho) = n_test/n_train, the scale is the corrected t-test's standard error, and
    with rope = 0, p_left equals that test's one-sided p-value for a > b. Unequal fold sizes
    use mean sizes, as :func:`bench.stats.fold_size_ratio` documents.
    """
    from scipy import stats

    check_confidence(confidence)
    if not (math.isfinite(rope) and rope >= 0.0):
        raise StatsError(f"rope={rope} must be a finite number >= 0, e.g. 0.01")
    d = as_sample(diffs, name="fold differences", min_size=2)
    ratio = fold_size_ratio(n_train, n_test)
    n = d.size
    scale = math.sqrt((1.0 / n + ratio) * check_nonconstant(d, what="fold differences"))
    posterior = stats.t(n - 1, loc=float(d.mean()), scale=scale)
    low, high = posterior.interval(confidence)
    return BayesianResult(
        n=n,
        df=float(n - 1),
        location=float(d.mean()),
        scale=scale,
        rho=ratio / (1.0 + ratio),
        rope=float(rope),
        p_left=float(posterior.cdf(-rope)),
        p_rope=float(posterior.cdf(rope) - posterior.cdf(-rope)),
        p_right=float(posterior.sf(rope)),
        ci_low=float(low),
        ci_high=float(high),
        confidence=confidence,
    )
