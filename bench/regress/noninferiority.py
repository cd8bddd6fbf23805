"""One-sided non-inferiority t-tests: is the new score no worse than the old one by ``margin``?

Both tests work on the *gain* (now - baseline for higher-is-better metrics, baseline - now for
loss and brier), so a positive gain is always an improvement, and test

    H0: mean gain <= -margin   (the pipeline got worse by at least the margin)
    H1: mean gain >  -margin   (non-inferior)

A small p rejects H0: the scores are shown to be no worse than the margin allows. The gate
asks for that evidence, so it fails when p >= alpha — including when the folds are too noisy
to tell, which is why margins must exceed the fold-to-fold noise of the suite.

Pure functions on arrays; no TensorFlow.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from bench.stats.samples import as_sample, is_constant, paired_differences


@dataclass(frozen=True)
class NonInferiority:
    """One non-inferiority test: the mean gain, its t statistic, df and one-sided p."""

    test: str  # "paired t" or "Welch t"
    gain: float  # mean gain in the metric's units (positive = better)
    margin: float
    t: float
    df: float
    p: float


def paired_noninferiority(
    now: ArrayLike, baseline: ArrayLike, *, margin: float, higher_is_better: bool = True
) -> NonInferiority:
    """Paired one-sided t-test on per-fold gains, for two runs scored on the same folds.

    t = (mean(g) + margin) / (sd(g) / sqrt(n)), df = n - 1, p = P(T_{n-1} >= t); this is
    ``scipy.stats.ttest_1samp(now - baseline, -margin, alternative="greater")`` (``popmean
    = +margin, alternative="less"`` for lower-is-better metrics). When every gain is the same
    (a bit-identical rerun gives all zeros) sd is 0 and t is infinite: p is 0 when that gain
    clears the margin and 1 otherwise.

    The Nadeau-Bengio correction does not apply. It widens the variance of a cross-validated
    difference between two learners for the correlation that overlapping training sets
    induce, so that the claim carries over to new training sets drawn from the population.
    The gate's claim is conditional on this fixed suite: the same folds, the same training
    and test images, scored before and after a code change. Each fold is a matched pair, and
    the per-fold gains carry the noise that is left (round-off, changed code paths); the
    correction's factor 1 + J * n_test / n_train would add a term for resampling the
    training sets, which does not happen between the two runs, and only make honest reruns
    fail more often.
    """
    gains = paired_differences(now, baseline)
    gains = gains if higher_is_better else -gains
    return _one_sample(gains, margin=margin, test="paired t")


def welch_noninferiority(
    now: ArrayLike, baseline: ArrayLike, *, margin: float, higher_is_better: bool = True
) -> NonInferiority:
    """Welch's one-sided t-test on two unpaired samples of fold scores.

    The fallback when the folds differ (the suite's data or splits changed since the
    baseline), so no fold is a pair. t = (mean(now) - mean(base) + margin) / sqrt(v1/n1 +
    v2/n2) with the Welch-Satterthwaite df; this is ``scipy.stats.ttest_ind(now + margin,
    baseline, equal_var=False, alternative="greater")`` for higher-is-better metrics.
    """
    a = as_sample(now, name="current fold scores", min_size=2)
    b = as_sample(baseline, name="baseline fold scores", min_size=2)
    a, b = (a, b) if higher_is_better else (-a, -b)
    va, vb = a.var(ddof=1) / a.size, b.var(ddof=1) / b.size
    gain = float(a.mean() - b.mean())
    if va + vb == 0:
        return _degenerate(gain, margin=margin, test="Welch t")
    df = (va + vb) ** 2 / (va**2 / (a.size - 1) + vb**2 / (b.size - 1))
    t = (gain + margin) / math.sqrt(va + vb)
    return NonInferiority("Welch t", gain, margin, t, float(df), _upper_p(t, df))


def _one_sample(gains: np.ndarray, *, margin: float, test: str) -> NonInferiority:
    gain = float(gains.mean())
    if is_constant(gains):
        return _degenerate(gain, margin=margin, test=test, df=gains.size - 1)
    se = float(gains.std(ddof=1)) / math.sqrt(gains.size)
    t = (gain + margin) / se
    return NonInferiority(test, gain, margin, t, float(gains.size - 1), _upper_p(t, gains.size - 1))


def _degenerate(gain: float, *, margin: float, test: str, df: float = math.nan) -> NonInferiority:
    """No spread: the gain is known exactly, so it either clears the margin or it does not."""
    clears = gain > -margin
    return NonInferiority(
        test, gain, margin, math.inf if clears else -math.inf, df, 0.0 if clears else 1.0
    )


def _upper_p(t: float, df: float) -> float:
    from scipy import stats

    return float(stats.t.sf(t, df))
