"""The Nadeau-Bengio corrected resampled t-test for (repeated) k-fold cross-validation.

The folds of a cross-validation share most of their training data, so their scores are
positively correlated and the naive t-test on them overstates significance (its type I error
grows with the number of folds). Nadeau & Bengio (2003) inflate the variance by the ratio of
test to training size; Bouckaert & Frank (2004) apply it to r times repeated k-fold with
J = k * r differences. This is the test bench uses for any claim made on fold scores.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

from bench.errors import StatsError
from bench.stats.results import SignificanceResult
from bench.stats.samples import as_sample, check_confidence, check_nonconstant
from bench.stats.tdist import t_test


def fold_size_ratio(n_train: ArrayLike, n_test: ArrayLike) -> float:
    """``mean(n_test) / mean(n_train)``: the correction term for folds of any sizes.

    Scalars give ``n_test / n_train``. When folds differ in size (k does not divide the data,
    grouped splits) the ratio of the mean sizes is used, the convention of Bouckaert & Frank.
    """
    train = np.asarray(n_train, dtype=float).ravel()
    test = np.asarray(n_test, dtype=float).ravel()
    if (
        train.size == 0
        or test.size == 0
        or not (np.isfinite(train).all() and np.isfinite(test).all())
    ):
        raise StatsError(
            "the corrected tests need the fold sizes n_train and n_test, which are missing "
            "(a published table with one row per cell has none); use the paired t-test over cells"
        )
    if train.size != test.size and train.size > 1 and test.size > 1:
        raise StatsError(
            f"fold sizes do not pair: {train.size} n_train values but {test.size} n_test "
            "values; give one of each per fold"
        )
    if (train <= 0).any() or (test <= 0).any():
        raise StatsError("fold sizes n_train and n_test must be positive; fix the scores table")
    return float(test.mean() / train.mean())


def corrected_t(
    diffs: ArrayLike,
    *,
    n_train: ArrayLike,
    n_test: ArrayLike,
    confidence: float = 0.95,
) -> SignificanceResult:
    """Nadeau-Bengio corrected resampled t-test of mean(diffs) = 0, two-sided.

    ``diffs`` are the J = folds x repeats differences ``a - b`` of two models scored on the same
    outer folds (see :func:`bench.stats.fold_differences`). With sample variance s^2 (ddof=1)::

        t = mean(diffs) / sqrt((1/J + n_test/n_train) * s^2),   df = J - 1

    ``n_train``/``n_test`` are scalars or one size per fold; for unequal folds the ratio is
    ``mean(n_test) / mean(n_train)`` (see :func:`fold_size_ratio`). The interval is the
    matching corrected t-interval of the mean difference.
    """
    check_confidence(confidence)
    d = as_sample(diffs, name="fold differences", min_size=2)
    ratio = fold_size_ratio(n_train, n_test)
    J = d.size
    variance = check_nonconstant(d, what="fold differences")
    se = math.sqrt((1.0 / J + ratio) * variance)
    return t_test(
        test="Nadeau-Bengio corrected t-test",
        mean=float(d.mean()),
        se=se,
        n=J,
        confidence=confidence,
        method=f"variance factor 1/J + n_test/n_train = 1/{J} + {ratio:.6g}",
    )
