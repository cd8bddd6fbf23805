"""Adjusted p-values for a family of tests: Holm, Bonferroni, Benjamini-Hochberg.

Which to use: Holm controls the family-wise error rate (the chance of any false claim) and is
uniformly more powerful than Bonferroni, so it is bench's default whenever several comparisons
support one conclusion. Bonferroni is there for readers who expect it. Benjamini-Hochberg
controls the false discovery rate (the expected share of false claims among the claims made),
for screening many comparisons where a few false leads are acceptable.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from bench.errors import StatsError
from bench.stats.table import listing

ADJUSTMENTS = {"holm": "Holm", "bonferroni": "Bonferroni", "bh": "Benjamini-Hochberg"}


def adjust_pvalues(pvalues: ArrayLike, *, method: str = "holm") -> np.ndarray:
    """Adjusted p-values in the order given; ``method`` is one of :data:`ADJUSTMENTS`.

    With m p-values sorted ascending, p_(1) <= ... <= p_(m):

    - ``bonferroni``: min(1, m p_i);
    - ``holm`` (step-down): adj_(i) = max_{j <= i} min(1, (m - j + 1) p_(j));
    - ``bh`` (step-up): adj_(i) = min_{j >= i} min(1, m p_(j) / j).

    An adjusted p-value is never below its raw p-value. A claim is made at level alpha when the
    adjusted p-value is <= alpha.
    """
    if method not in ADJUSTMENTS:
        raise StatsError(f"unknown adjustment {method!r}; use one of: {listing(ADJUSTMENTS)}")
    p = _check_pvalues(pvalues)
    if p.size == 0:
        return p
    if method == "bonferroni":
        return np.minimum(1.0, p * p.size)
    order = np.argsort(p, kind="stable")
    ranked = p[order]
    if method == "holm":
        adjusted = np.maximum.accumulate((p.size - np.arange(p.size)) * ranked)
    else:
        adjusted = np.minimum.accumulate((ranked * p.size / np.arange(1, p.size + 1))[::-1])[::-1]
    out = np.empty_like(p)
    out[order] = np.minimum(1.0, adjusted)
    return out


def _check_pvalues(pvalues: ArrayLike) -> np.ndarray:
    p = np.asarray(pvalues, dtype=float)
    if p.ndim != 1:
        raise StatsError(f"p-values must be one-dimensional; got shape {p.shape}")
    if np.isnan(p).any() or (p < 0).any() or (p > 1).any():
        raise StatsError("p-values must lie in [0, 1] with no NaN; fix the tests that made them")
    return p
