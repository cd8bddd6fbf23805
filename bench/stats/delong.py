"""DeLong's test for two correlated AUCs and DeLong's interval for one AUC.

Two models scored on the *same* test samples have correlated AUCs; DeLong, DeLong &
Clarke-Pearson (1988) estimate their covariance from the structural components (each
positive's share of negatives ranked below it, each negative's share of positives ranked
above it). The components are computed with the midrank algorithm of Sun & Xu (2014), in
O(n log n) instead of O(n^2). Labels are 0/1 with 1 the positive class; a higher score means
more likely positive; tied scores count one half.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from bench.errors import StatsError
from bench.stats.results import SignificanceResult
from bench.stats.samples import as_sample, check_confidence


@dataclass(frozen=True)
class AucInterval:
    """An AUC with its ``confidence`` interval and the ``method`` that made it."""

    auc: float
    ci_low: float
    ci_high: float
    confidence: float
    method: str
    n_positive: int
    n_negative: int
    se: float | None = None
    n_boot: int | None = None
    seed: int | None = None


def delong_covariance(y_true: ArrayLike, *scores: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """AUCs of each score vector and their DeLong covariance matrix (Sun & Xu midranks).

    With m positives X and n negatives Y, and midranks T_X within positives, T_Y within
    negatives and T_Z within all samples: AUC = (sum T_Z[X] - m(m+1)/2) / (m n),
    V10 = (T_Z[X] - T_X) / n, V01 = 1 - (T_Z[Y] - T_Y) / m and
    cov = cov(V10) / m + cov(V01) / n, with sample covariances (ddof=1).
    """
    from scipy import stats

    positive = binary_labels(y_true)
    matrix = np.stack([_scores(s, positive.size) for s in scores])
    x, y = matrix[:, positive], matrix[:, ~positive]
    m, n = x.shape[1], y.shape[1]
    tx, ty = stats.rankdata(x, axis=1), stats.rankdata(y, axis=1)
    tz = stats.rankdata(np.concatenate([x, y], axis=1), axis=1)
    aucs = (tz[:, :m].sum(axis=1) - m * (m + 1) / 2.0) / (m * n)
    v10 = (tz[:, :m] - tx) / n
    v01 = 1.0 - (tz[:, m:] - ty) / m
    covariance = np.atleast_2d(np.cov(v10)) / m + np.atleast_2d(np.cov(v01)) / n
    return aucs, covariance


def delong_test(
    y_true: ArrayLike, scores_a: ArrayLike, scores_b: ArrayLike, *, confidence: float = 0.95
) -> SignificanceResult:
    """DeLong's test of AUC(a) = AUC(b) for two models scored on the same samples, two-sided.

    z = (AUC_a - AUC_b) / sqrt(var_a + var_b - 2 cov_ab); p = 2 (1 - Phi(|z|)). ``estimate`` is
    AUC_a - AUC_b with its Wald interval. For models tested on different samples this test
    does not apply (the AUCs are then independent).
    """
    from scipy import stats

    check_confidence(confidence)
    aucs, cov = delong_covariance(y_true, scores_a, scores_b)
    variance = cov[0, 0] + cov[1, 1] - 2.0 * cov[0, 1]
    if not variance > 0.0:
        raise StatsError(
            "the two models rank the samples identically (DeLong variance of the AUC "
            "difference is 0), so the test is undefined; the AUCs are equal"
        )
    se = math.sqrt(variance)
    diff = float(aucs[0] - aucs[1])
    z = diff / se
    half = float(stats.norm.ppf(0.5 + confidence / 2.0)) * se
    return SignificanceResult(
        test="DeLong test",
        statistic_name="z",
        statistic=z,
        df=None,
        p=float(min(1.0, 2.0 * stats.norm.sf(abs(z)))),
        n=int(np.asarray(y_true).size),
        estimate=diff,
        ci_low=diff - half,
        ci_high=diff + half,
        confidence=confidence,
        method="Sun & Xu midrank algorithm",
    )


def delong_ci(y_true: ArrayLike, scores: ArrayLike, *, confidence: float = 0.95) -> AucInterval:
    """DeLong (Wald) interval AUC +- z_{(1+c)/2} se, clipped to [0, 1].

    Fast and fine for moderate AUCs and samples; near AUC = 1 or with few positives prefer
    :func:`bench.stats.bootstrap_auc_ci`, whose interval respects the [0, 1] range by itself.
    """
    from scipy import stats

    check_confidence(confidence)
    positive = binary_labels(y_true)
    aucs, cov = delong_covariance(positive, scores)
    auc, se = float(aucs[0]), math.sqrt(max(float(cov[0, 0]), 0.0))
    half = float(stats.norm.ppf(0.5 + confidence / 2.0)) * se
    return AucInterval(
        auc=auc,
        ci_low=max(0.0, auc - half),
        ci_high=min(1.0, auc + half),
        confidence=confidence,
        method="DeLong",
        n_positive=int(positive.sum()),
        n_negative=int((~positive).sum()),
        se=se,
    )


def binary_labels(y_true: ArrayLike) -> np.ndarray:
    """``y_true`` as a boolean mask of positives; needs 0/1 labels with two of each class."""
    labels = as_sample(y_true, name="y_true")
    if not np.isin(labels, (0.0, 1.0)).all():
        raise StatsError("y_true must hold 0/1 labels (1 = positive class); recode the labels")
    positive = labels == 1.0
    n_positive, n_negative = int(positive.sum()), int((~positive).sum())
    if min(n_positive, n_negative) < 2:
        raise StatsError(
            f"AUC inference needs at least 2 positives and 2 negatives; got {n_positive} and "
            f"{n_negative}"
        )
    return positive


def _scores(values: ArrayLike, n: int) -> np.ndarray:
    scores = as_sample(values, name="scores")
    if scores.size != n:
        raise StatsError(f"{scores.size} scores for {n} labels; pass one score per sample")
    return scores
