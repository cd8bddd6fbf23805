"""Student-t inference from an estimate, its standard error and degrees of freedom.

Shared by the paired t-test, the corrected resampled t-test and the per-cell summaries so that
they compute p-values and intervals the same way.
"""

from __future__ import annotations


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
