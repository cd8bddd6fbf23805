"""Student-t inference from an estimate, its standard error and degrees of freedom.

Shared by the paired t-test, the corrected resampled t-test and the per-cell summaries so that
they compute p-values and intervals the same way.
"""

from __future__ import annotations

from bench.stats.results import SignificanceResult


def two_sided_p(t: float, df: float) -> float:
    """P(|T| >= |t|) for T ~ Student t with ``df`` degrees of freedom."""
    from scipy import stats

    # sf of |t|, doubled: exact in the tail, where 1 - cdf would lose digits.
    return float(min(1.0, 2.0 * stats.t.sf(abs(t), df)))


def t_interval(estimate: float, se: float, df: float, confidence: float) -> tuple[float, float]:
    """Two-sided ``confidence`` interval ``estimate +- t_{(1+c)/2, df} * se``."""
    from scipy import stats

    half = float(stats.t.ppf(0.5 + confidence / 2.0, df)) * se
    return estimate - half, estimate + half


def t_test(
    *, test: str, mean: float, se: float, n: int, confidence: float, method: str | None = None
) -> SignificanceResult:
    """The two-sided t-test of ``mean`` (standard error ``se``, n - 1 degrees of freedom) with
    its ``confidence`` interval."""
    t = mean / se
    low, high = t_interval(mean, se, n - 1, confidence)
    return SignificanceResult(
        test=test,
        statistic_name="t",
        statistic=t,
        df=float(n - 1),
        p=two_sided_p(t, n - 1),
        n=n,
        estimate=mean,
        ci_low=low,
        ci_high=high,
        confidence=confidence,
        method=method,
    )
