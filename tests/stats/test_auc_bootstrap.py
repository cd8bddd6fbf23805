"""Stratified bootstrap AUC interval, replayed step by step with sklearn's roc_auc_score."""

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from bench.errors import StatsError
from bench.stats import bootstrap_auc_ci


def sample(seed=0, n=60):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, size=n)
    return y, np.round(y + rng.normal(0, 1.2, size=n), 1)  # rounded: tied scores


def test_replays_the_documented_draws():
    y, s = sample()
    pos, neg = s[y == 1], s[y == 0]
    rng = np.random.default_rng(11)
    aucs = []
    for _ in range(300):
        xb = pos[rng.integers(0, pos.size, pos.size)]
        yb = neg[rng.integers(0, neg.size, neg.size)]
        labels = np.r_[np.ones(xb.size), np.zeros(yb.size)]
        aucs.append(roc_auc_score(labels, np.r_[xb, yb]))
    low, high = np.quantile(aucs, [0.05, 0.95])
    result = bootstrap_auc_ci(y, s, n_boot=300, seed=11, confidence=0.9)
    assert result.auc == pytest.approx(roc_auc_score(y, s), rel=1e-13)
    assert (result.ci_low, result.ci_high) == pytest.approx((low, high), rel=1e-13)
    assert (result.n_boot, result.seed, result.method) == (
        300,
        11,
        "stratified percentile bootstrap",
    )
    assert (result.n_positive, result.n_negative) == (pos.size, neg.size)


def test_seeded_and_batched_results_are_reproducible(monkeypatch):
    y, s = sample(1)
    first = bootstrap_auc_ci(y, s, n_boot=500, seed=3)
    assert bootstrap_auc_ci(y, s, n_boot=500, seed=3) == first
    assert bootstrap_auc_ci(y, s, n_boot=500, seed=4) != first
    # Batching (memory) does not change the draws or the result.
    monkeypatch.setattr("bench.stats.auc_bootstrap._BATCH_VALUES", 7 * y.size)
    assert bootstrap_auc_ci(y, s, n_boot=500, seed=3) == first
    assert first.ci_low < first.auc < first.ci_high


def test_bootstrap_errors():
    y, s = sample()
    with pytest.raises(StatsError, match="n_boot=10 is too few"):
        bootstrap_auc_ci(y, s, n_boot=10)
    with pytest.raises(StatsError, match="59 scores for 60 labels"):
        bootstrap_auc_ci(y, s[1:])
