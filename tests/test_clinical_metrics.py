"""The clinical-table scores of bench.metrics against scikit-learn or a computation written here."""

import numpy as np
import pytest
from sklearn import metrics as skm

from bench.metrics import (
    average_precision,
    brier_decomposition,
    cohen_kappa,
    confusion_matrix,
    expected_calibration_error,
    multiclass_auc,
    per_class_scores,
    predict_labels,
    reliability_bins,
)
from bench.stats.cluster_bootstrap import cluster_bootstrap_ci


def _problem(k: int, n: int = 120, seed: int = 0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    logits = rng.normal(size=(n, k)) + 1.5 * np.eye(k)[y]
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return y, proba


@pytest.mark.parametrize("k", [2, 3, 4])
def test_per_class_scores_match_scikit_learn(k):
    y, proba = _problem(k)
    pred = predict_labels(proba, threshold=0.4 if k == 2 else 0.5)
    got = per_class_scores(confusion_matrix(y, pred, n_classes=k))
    p, r, f, s = skm.precision_recall_fscore_support(y, pred, labels=range(k), zero_division=0)
    np.testing.assert_allclose(got["precision"], p)
    np.testing.assert_allclose(got["recall"], r)
    np.testing.assert_allclose(got["f1"], f)
    np.testing.assert_array_equal(got["support"], s)


@pytest.mark.parametrize("k", [2, 3])
def test_cohen_kappa_matches_scikit_learn(k):
    y, proba = _problem(k, seed=3)
    pred = predict_labels(proba)
    cm = confusion_matrix(y, pred, n_classes=k)
    assert cohen_kappa(cm) == pytest.approx(skm.cohen_kappa_score(y, pred), abs=1e-12)


def test_cohen_kappa_of_one_constant_class_is_zero():
    assert cohen_kappa(np.array([[5, 0], [0, 0]])) == 0.0


@pytest.mark.parametrize("k", [2, 3, 4])
def test_average_precision_matches_scikit_learn(k):
    y, proba = _problem(k, seed=1)
    proba = np.round(proba, 1)  # ties: scikit-learn counts a tied run as one threshold too
    proba /= proba.sum(axis=1, keepdims=True)
    if k == 2:
        expected = skm.average_precision_score(y, proba[:, 1])
    else:
        expected = skm.average_precision_score(np.eye(k)[y], proba, average="macro")
    assert average_precision(y, proba) == pytest.approx(expected, abs=1e-12)


def test_average_precision_without_positives_is_nan():
    assert np.isnan(average_precision(np.zeros(4, dtype=int), np.full((4, 2), 0.5)))


@pytest.mark.parametrize("k", [3, 4])
def test_multiclass_auc_matches_scikit_learn(k):
    y, proba = _problem(k, seed=2)
    got = multiclass_auc(y, proba)
    assert got["auc_macro"] == pytest.approx(skm.roc_auc_score(y, proba, multi_class="ovr"))
    assert got["auc_weighted"] == pytest.approx(
        skm.roc_auc_score(y, proba, multi_class="ovr", average="weighted")
    )
    assert got["auc_ovo"] == pytest.approx(skm.roc_auc_score(y, proba, multi_class="ovo"))


def test_binary_auc_variants_are_the_binary_auc():
    y, proba = _problem(2, seed=4)
    got = multiclass_auc(y, proba)
    expected = skm.roc_auc_score(y, proba[:, 1])
    assert list(got.values()) == pytest.approx([expected] * 3)


def test_reliability_bins_and_ece_by_hand():
    # Top-label confidences 0.95, 0.95, 0.65, 0.55 (bins 10, 10, 7, 6); correct: yes, no, yes, no.
    proba = np.array([[0.05, 0.95], [0.95, 0.05], [0.35, 0.65], [0.55, 0.45]])
    y = np.array([1, 1, 1, 1])
    table = reliability_bins(y, proba)
    assert table["count"].tolist() == [0, 0, 0, 0, 0, 1, 1, 0, 0, 2]
    assert table["confidence"][9] == pytest.approx(0.95)
    assert table["accuracy"][9] == 0.5
    assert table["accuracy"][6] == 1.0 and table["accuracy"][5] == 0.0
    expected = (2 * abs(0.5 - 0.95) + abs(1 - 0.65) + abs(0 - 0.55)) / 4
    assert expected_calibration_error(y, proba) == pytest.approx(expected)


def test_brier_decomposition_is_exact_for_binned_forecasts():
    rng = np.random.default_rng(5)
    p1 = rng.choice([0.15, 0.45, 0.75, 0.95], 400)  # one forecast value per bin
    y = (rng.uniform(size=400) < p1 * 0.9).astype(int)
    parts = brier_decomposition(y, np.c_[1 - p1, p1])
    assert parts["brier"] == pytest.approx(skm.brier_score_loss(y, p1))
    assert parts["reliability"] - parts["resolution"] + parts["uncertainty"] == pytest.approx(
        parts["brier"], abs=1e-12
    )
    base = y.mean()
    assert parts["uncertainty"] == pytest.approx(base * (1 - base))
    reliability = sum(np.mean(p1 == v) * (v - y[p1 == v].mean()) ** 2 for v in np.unique(p1))
    assert parts["reliability"] == pytest.approx(reliability)


def test_multiclass_brier_decomposition_sums_over_classes():
    y, proba = _problem(3, seed=6)
    parts = brier_decomposition(y, proba)
    per_class = [
        brier_decomposition((y == k).astype(int), np.c_[1 - proba[:, k], proba[:, k]])
        for k in range(3)
    ]
    assert parts["reliability"] == pytest.approx(sum(p["reliability"] for p in per_class))
    assert parts["uncertainty"] == pytest.approx(sum(p["uncertainty"] for p in per_class))
    onehot = np.eye(3)[y]
    assert parts["brier"] == pytest.approx(np.mean(np.sum((proba - onehot) ** 2, axis=1)))


def test_cluster_bootstrap_draws_whole_patients():
    values = np.array([1.0, 1.0, 5.0, 5.0, 9.0, 9.0])
    patients = np.array(["a", "a", "b", "b", "c", "c"])
    seen = []

    def mean(indices):
        seen.append(sorted(patients[indices].tolist()))
        return float(values[indices].mean())

    interval = cluster_bootstrap_ci({"mean": mean}, patients, n_boot=200, seed=1)["mean"]
    # Every replicate holds each drawn patient with both of its images.
    assert all(draw.count(p) % 2 == 0 for draw in seen for p in "abc")
    assert interval.estimate == 5.0 and interval.n_clusters == 3
    assert 1.0 <= interval.ci_low < 5.0 < interval.ci_high <= 9.0
    # Reproduce the percentile interval with the documented draws.
    rng = np.random.default_rng(1)
    names = np.array([1.0, 5.0, 9.0])  # the patients' values, sorted as np.unique sorts them
    means = [names[rng.integers(0, 3, 3)].mean() for _ in range(200)]
    assert (interval.ci_low, interval.ci_high) == pytest.approx(
        tuple(np.quantile(means, [0.025, 0.975]))
    )


def test_cluster_bootstrap_leaves_out_undefined_replicates():
    statistic = {"x": lambda idx: float("nan") if 0 in idx else 1.0}
    interval = cluster_bootstrap_ci(statistic, np.arange(10), n_boot=100, seed=0)["x"]
    assert 0 < interval.n_undefined < 100
