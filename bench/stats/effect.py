"""Effect sizes that go next to a p-value: Cohen's d_z for pairs, Cliff's delta for two samples."""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

from bench.stats.samples import as_sample, check_nonconstant


def cohens_dz(diffs: ArrayLike) -> float:
    """Cohen's d_z of paired differences ``a - b``: mean(d) / sd(d), sd with ddof=1.

    The standardised mean of the differences; it is the paired t statistic divided by sqrt(n),
    so it does not grow with the number of pairs the way t does.
    """
    d = as_sample(diffs, name="paired differences", min_size=2)
    return float(d.mean() / math.sqrt(check_nonconstant(d, what="paired differences")))


def cliffs_delta(x: ArrayLike, y: ArrayLike) -> float:
    """Cliff's delta = P(X > Y) - P(X < Y) over all pairs of one x and one y, in [-1, 1].

    A rank effect size for two independent samples (no pairing, no normality): +1 when every
    x exceeds every y, 0 when they interleave evenly. Computed by sorting, O((n + m) log m).
    """
    x = as_sample(x, name="x")
    y = np.sort(as_sample(y, name="y"))
    greater = np.searchsorted(y, x, side="left").sum()
    less = (y.size - np.searchsorted(y, x, side="right")).sum()
    return float((greater - less) / (x.size * y.size))
