"""Stratified percentile-bootstrap interval for one AUC."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from bench.errors import StatsError
from bench.stats.delong import AucInterval, binary_labels
from bench.stats.samples import as_sample, check_confidence

# Replicates ranked per batch, so memory stays near 8 * _BATCH_VALUES bytes for any n_boot.
_BATCH_VALUES = 2**22


def bootstrap_auc_ci(
    y_true: ArrayLike,
    scores: ArrayLike,
    *,
    n_boot: int = 2000,
    seed: int = 0,
    confidence: float = 0.95,
) -> AucInterval:
    """Stratified percentile bootstrap interval for the AUC of ``scores``.

    Each replicate resamples the m positives and the n negatives separately, with replacement,
    so every replicate keeps the class balance and has an AUC. Draws come from
    ``numpy.random.default_rng(seed)``: for each replicate in turn, m indices into the
    positives, then n indices into the negatives (in their order in ``y_true``). The interval
    is the (1-c)/2 and (1+c)/2 quantiles of the replicate AUCs (numpy's default linear
    interpolation). ``auc`` is the AUC of the original sample. Use it rather than
    :func:`bench.stats.delong_ci` near AUC = 1 or with few positives.
    """
    check_confidence(confidence)
    if int(n_boot) != n_boot or n_boot < 100:
        raise StatsError(f"n_boot={n_boot} is too few replicates; use an integer >= 100, e.g. 2000")
    positive = binary_labels(y_true)
    values = as_sample(scores, name="scores")
    if values.size != positive.size:
        raise StatsError(
            f"{values.size} scores for {positive.size} labels; pass one score per sample"
        )
    x, y = values[positive], values[~positive]
    rng = np.random.default_rng(seed)
    aucs = _replicate_aucs(x, y, rng, int(n_boot))
    low, high = np.quantile(aucs, [0.5 - confidence / 2.0, 0.5 + confidence / 2.0])
    return AucInterval(
        auc=float(_aucs(x[None, :], y[None, :])[0]),
        ci_low=float(low),
        ci_high=float(high),
        confidence=confidence,
        method="stratified percentile bootstrap",
        n_positive=x.size,
        n_negative=y.size,
        n_boot=int(n_boot),
        seed=seed,
    )


def _replicate_aucs(
    x: np.ndarray, y: np.ndarray, rng: np.random.Generator, n_boot: int
) -> np.ndarray:
    batch = max(1, _BATCH_VALUES // (x.size + y.size))
    out = np.empty(n_boot)
    for start in range(0, n_boot, batch):
        size = min(batch, n_boot - start)
        draws = [
            (rng.integers(0, x.size, x.size), rng.integers(0, y.size, y.size)) for _ in range(size)
        ]
        xs = np.stack([x[i] for i, _ in draws])
        ys = np.stack([y[j] for _, j in draws])
        out[start : start + size] = _aucs(xs, ys)
    return out


def _aucs(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Row-wise AUC (Mann-Whitney, ties one half) of positives ``x`` against negatives ``y``."""
    from scipy import stats

    m, n = x.shape[1], y.shape[1]
    ranks = stats.rankdata(np.concatenate([x, y], axis=1), axis=1)
    return (ranks[:, :m].sum(axis=1) - m * (m + 1) / 2.0) / (m * n)
