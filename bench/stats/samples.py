"""Checks on the plain arrays the pure test functions take (samples, paired differences)."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from bench.errors import StatsError


def as_sample(values: ArrayLike, *, name: str, min_size: int = 1) -> np.ndarray:
    """``values`` as a 1-D float array of finite numbers with at least ``min_size`` entries."""
    array = np.asarray(values, dtype=float)
    if array.ndim != 1:
        raise StatsError(f"{name} must be one-dimensional; got shape {array.shape}")
    if not np.isfinite(array).all():
        raise StatsError(f"{name} holds NaN or infinite values; drop or fix them before testing")
    if array.size < min_size:
        raise StatsError(f"{name} has {array.size} value(s); this test needs at least {min_size}")
    return array


def paired_differences(a: ArrayLike, b: ArrayLike, *, min_size: int = 2) -> np.ndarray:
    """``a - b`` for two equally long samples of paired scores."""
    a = as_sample(a, name="a")
    b = as_sample(b, name="b")
    if a.size != b.size:
        raise StatsError(
            f"paired samples differ in length ({a.size} vs {b.size}); pass one score per pair"
        )
    if a.size < min_size:
        raise StatsError(f"{a.size} pair(s) given; a paired test needs at least {min_size}")
    return a - b


def check_confidence(confidence: float) -> float:
    """Raise unless ``0 < confidence < 1``."""
    if not 0.0 < confidence < 1.0:
        raise StatsError(f"confidence={confidence} must lie strictly between 0 and 1, e.g. 0.95")
    return float(confidence)


def is_constant(diffs: np.ndarray) -> bool:
    """True when all ``diffs`` agree to 12 decimals (relative to max(1, max |d|))."""
    # 0.8 - 0.7 and 0.9 - 0.8 differ in the last bit, so "equal" differences keep a
    # rounding-sized variance and give t ~ 1e15, p ~ 1e-47 (scipy's ttest_rel does just that).
    # Real score differences (ratios of counts) never spread by less than 1e-12.
    return bool(np.ptp(diffs) <= 1e-12 * max(1.0, float(np.max(np.abs(diffs)))))


def check_nonconstant(diffs: np.ndarray, *, what: str) -> float:
    """The sample variance (ddof=1) of ``diffs``; raise when they are constant (t undefined)."""
    if is_constant(diffs):
        raise StatsError(
            f"the {what} are all equal ({diffs[0]:.6g}), so their sd is 0 and a t statistic is "
            "undefined; check that the scores are not copies of each other"
        )
    return float(np.var(diffs, ddof=1))
