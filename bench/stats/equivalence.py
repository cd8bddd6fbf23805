"""Is a reproduced score the published one? Equivalence (TOST) of fold scores to a fixed value.

A reproduction of a published cell is J = folds x repeats scores; the published value is a
constant. With ``d = mean - published`` and the equivalence band ``[-margin, +margin]``,
Schuirmann's two one-sided tests (1987) reject both ``d <= -margin`` and ``d >= +margin``::

    t_lower = (d + margin) / se,  p_lower = P(T >= t_lower)
    t_upper = (d - margin) / se,  p_upper = P(T <= t_upper),   df = J - 1

Cross-validation folds share training data, so their scores are positively correlated and
the plain ``s / sqrt(J)`` understates the uncertainty of their mean. With fold sizes, the
standard error is Nadeau & Bengio's corrected one, as in :func:`bench.stats.corrected_t`:
``se = sqrt((1/J + n_test/n_train) * s^2)``; without them, the plain one (independent
replicates only).

The verdict reads the ``1 - 2 alpha`` interval of ``d`` (the interval that matches the
TOST at level alpha):

- ``reproduced``: the interval lies inside the band (the TOST rejects non-equivalence);
- ``differs``: the interval lies wholly outside the band, i.e. the one-sided test that the
  difference exceeds the margin rejects at alpha (the minimal-effect test of Murphy & Myors,
  as paired with the TOST in Lakens, Scheel & Isager 2018, Adv. Meth. Pract. Psych. Sci.);
- ``inconclusive``: the interval straddles a bound: too few or too noisy folds to tell.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from bench.errors import StatsError
from bench.stats.corrected import fold_size_ratio
from bench.stats.samples import as_sample, check_nonconstant

VERDICTS = ("reproduced", "differs", "inconclusive")


@dataclass(frozen=True)
class Equivalence:
    """The TOST of ``mean`` (over ``n`` fold scores) against ``reference`` at ``margin``.

    ``ci_low``/``ci_high`` bound ``difference = mean - reference`` at ``confidence`` =
    1 - 2 alpha. ``p_lower`` tests ``difference <= -margin``, ``p_upper`` tests
    ``difference >= +margin``; ``p`` (their maximum) is the TOST p-value.
    """

    n: int
    mean: float
    reference: float
    margin: float
    difference: float
    se: float
    df: float
    t_lower: float
    p_lower: float
    t_upper: float
    p_upper: float
    ci_low: float
    ci_high: float
    confidence: float
    alpha: float
    method: str

    @property
    def p(self) -> float:
        return max(self.p_lower, self.p_upper)

    @property
    def verdict(self) -> str:
        """``reproduced``, ``differs`` or ``inconclusive`` (see the module docstring)."""
        if self.p < self.alpha:
            return "reproduced"
        if self.ci_low > self.margin or self.ci_high < -self.margin:
            return "differs"
        return "inconclusive"


def equivalence_to_value(
    scores: ArrayLike,
    *,
    reference: float,
    margin: float,
    alpha: float = 0.05,
    n_train: ArrayLike | None = None,
    n_test: ArrayLike | None = None,
) -> Equivalence:
    """TOST of mean(``scores``) = ``reference`` within ``margin`` (see the module docstring).

    ``n_train``/``n_test`` (scalars or one per fold) switch on the Nadeau-Bengio corrected
    standard error; leave them out only for scores of independent replicates.
    """
    from scipy import stats

    x = as_sample(scores, name="fold scores", min_size=2)
    if not (math.isfinite(margin) and margin > 0):
        raise StatsError(f"margin={margin} must be a positive number, e.g. 0.02")
    if not 0.0 < alpha < 0.5:
        raise StatsError(f"alpha={alpha} must lie strictly between 0 and 0.5, e.g. 0.05")
    J = x.size
    variance = check_nonconstant(x, what="fold scores")
    corrected = n_train is not None or n_test is not None
    ratio = fold_size_ratio(_sizes(n_train), _sizes(n_test)) if corrected else 0.0
    se = math.sqrt((1.0 / J + ratio) * variance)
    mean, df = float(x.mean()), J - 1
    difference = mean - reference
    t_lower, t_upper = (difference + margin) / se, (difference - margin) / se
    half = float(stats.t.ppf(1.0 - alpha, df)) * se
    return Equivalence(
        n=J,
        mean=mean,
        reference=float(reference),
        margin=float(margin),
        difference=difference,
        se=se,
        df=float(df),
        t_lower=t_lower,
        p_lower=float(stats.t.sf(t_lower, df)),
        t_upper=t_upper,
        p_upper=float(stats.t.cdf(t_upper, df)),
        ci_low=difference - half,
        ci_high=difference + half,
        confidence=1.0 - 2.0 * alpha,
        alpha=alpha,
        method=(
            f"Nadeau-Bengio corrected SE, variance factor 1/{J} + {ratio:.6g}"
            if corrected
            else "plain SE s/sqrt(n)"
        ),
    )


def _sizes(values: ArrayLike | None) -> np.ndarray:
    return np.asarray([] if values is None else values, dtype=float)
