"""bench.metrics against scikit-learn, the independent reference, plus edge cases."""

import subprocess
import sys

import numpy as np
import pytest
from sklearn import metrics as skm

from bench.metrics import (
    LOWER_IS_BETTER,
    METRIC_LABELS,
    METRICS,
    REGISTRY,
    WEIGHTED_METRICS,
    compute_metrics,
    confusion_matrix,
    predict_labels,
    youden_threshold,
)

SEEDS = range(5)


def informative_proba(rng, y, n_classes):
    """Probabilities that lean towards the true class, never below 0.1 / K (no clipping)."""
    raw = rng.dirichlet(np.ones(n_classes), size=y.size) + 1.5 * np.eye(n_classes)[y]
    raw /= raw.sum(axis=1, keepdims=True)
    return 0.9 * raw + 0.1 / n_classes


def labels_with_every_class(rng, n, n_classes):
    y = rng.integers(0, n_classes, size=n)
    y[:n_classes] = np.arange(n_classes)
    return y


def tied_proba(rng, y, n_classes):
    """Each row copied from one of six prototypes: every column is full of tied scores."""
    prototypes = informative_proba(rng, np.arange(6) % n_classes, n_classes)
    return prototypes[(y + rng.integers(0, 2, size=y.size) * n_classes) % 6]


def binary_case(seed, *, ties=False):
    rng = np.random.default_rng(seed)
    y = labels_with_every_class(rng, 60, 2)
    if ties:
        p1 = np.round(0.1 + 0.4 * rng.uniform(size=y.size) + 0.4 * y, 1)  # 0.1 .. 0.9
    else:
        p1 = informative_proba(rng, y, 2)[:, 1]
    return y, np.column_stack([1 - p1, p1])


def multiclass_case(seed, n_classes, *, ties=False):
    rng = np.random.default_rng(seed)
    y = labels_with_every_class(rng, 80, n_classes)
    make = tied_proba if ties else informative_proba
    return y, make(rng, y, n_classes)


def sklearn_binary(y, proba, threshold):
    pred = (proba[:, 1] >= threshold).astype(int)
    return {
        "accuracy": skm.accuracy_score(y, pred),
        "precision": skm.precision_score(y, pred, zero_division=0),
        "recall": skm.recall_score(y, pred, zero_division=0),
        "specificity": skm.recall_score(y, pred, pos_label=0, zero_division=0),
        "f1": skm.f1_score(y, pred, zero_division=0),
        "auc": skm.roc_auc_score(y, proba[:, 1]),
        "loss": skm.log_loss(y, proba),
        "balanced_accuracy": skm.balanced_accuracy_score(y, pred),
        "mcc": skm.matthews_corrcoef(y, pred),
        "brier": skm.brier_score_loss(y, proba[:, 1]),
    }


def sklearn_multiclass(y, proba):
    pred = proba.argmax(axis=1)
    per_class = skm.multilabel_confusion_matrix(y, pred)
    tn, fp = per_class[:, 0, 0], per_class[:, 0, 1]
    expected = {
        "accuracy": skm.accuracy_score(y, pred),
        "specificity": np.mean(tn / (tn + fp)),
        "auc": skm.roc_auc_score(y, proba, multi_class="ovr", average="macro"),
        "loss": skm.log_loss(y, proba),
        "balanced_accuracy": skm.balanced_accuracy_score(y, pred),
        "mcc": skm.matthews_corrcoef(y, pred),
        "brier": skm.brier_score_loss(y, proba),
    }
    for name, score in [
        ("precision", skm.precision_score),
        ("recall", skm.recall_score),
        ("f1", skm.f1_score),
    ]:
        expected[name] = score(y, pred, average="macro", zero_division=0)
        expected[f"{name}_weighted"] = score(y, pred, average="weighted", zero_division=0)
    return expected


def assert_scores(actual, expected):
    assert set(actual) == set(expected)
    for name, value in expected.items():
        assert actual[name] == pytest.approx(value, rel=1e-12, abs=1e-12), name


@pytest.mark.parametrize("threshold", [0.5, 0.3, 0.62])
@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("seed", SEEDS)
def test_binary_metrics_match_sklearn(seed, ties, threshold):
    y, proba = binary_case(seed, ties=ties)
    expected = sklearn_binary(y, proba, threshold)
    assert_scores(compute_metrics(y, proba, threshold=threshold), expected)


@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("n_classes", [3, 4])
@pytest.mark.parametrize("seed", SEEDS)
def test_multiclass_metrics_match_sklearn(seed, n_classes, ties):
    y, proba = multiclass_case(seed, n_classes, ties=ties)
    assert_scores(compute_metrics(y, proba), sklearn_multiclass(y, proba))


def test_tied_cases_really_have_ties():
    _, binary = binary_case(0, ties=True)
    _, multi = multiclass_case(0, 3, ties=True)
    assert np.unique(binary[:, 1]).size < 15
    assert all(np.unique(column).size <= 6 for column in multi.T)


def test_keys_are_metrics_in_order_and_weighted_only_for_multiclass():
    y, proba = binary_case(0)
    assert tuple(compute_metrics(y, proba)) == METRICS
    y, proba = multiclass_case(0, 3)
    assert tuple(compute_metrics(y, proba)) == METRICS + WEIGHTED_METRICS
    assert {"loss", "brier"} == LOWER_IS_BETTER


def test_every_computed_metric_is_registered_and_read_by_the_other_layers():
    """A metric added to compute_metrics reaches the stats tables, the schema and the report."""
    import pandas as pd

    from bench.config.schema import METRIC
    from bench.stats.table import metric_columns

    computed = list(compute_metrics(*multiclass_case(0, 3)))
    assert computed == list(REGISTRY)
    scores = pd.DataFrame([dict.fromkeys(["cell", *computed], 0.0)])
    assert list(metric_columns(scores)) == computed
    assert all(METRIC.admits(name) for name in computed)
    assert set(METRIC_LABELS) == set(computed)
    assert {m.name for m in REGISTRY.values() if m.lower_is_better} == LOWER_IS_BETTER


@pytest.mark.parametrize("n_classes", [2, 3, 4])
@pytest.mark.parametrize("seed", SEEDS)
def test_confusion_matrix_matches_sklearn(seed, n_classes):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, n_classes, size=50)
    pred = rng.integers(0, n_classes - 1, size=50)  # the last class is never predicted
    expected = skm.confusion_matrix(y, pred, labels=range(n_classes))
    np.testing.assert_array_equal(confusion_matrix(y, pred, n_classes=n_classes), expected)


def test_confusion_matrix_keeps_classes_absent_from_both():
    cm = confusion_matrix(np.array([0, 0, 1]), np.array([0, 1, 1]), n_classes=3)
    np.testing.assert_array_equal(cm, [[1, 1, 0], [0, 1, 0], [0, 0, 0]])


def test_macro_average_skips_a_class_neither_true_nor_predicted():
    # class 2 never occurs: scikit-learn's macro average ignores it, and so do we.
    y = np.array([0, 0, 1, 1, 1, 0])
    proba = np.array(
        [
            [0.8, 0.1, 0.1],
            [0.3, 0.6, 0.1],
            [0.2, 0.7, 0.1],
            [0.1, 0.8, 0.1],
            [0.5, 0.4, 0.1],
            [0.9, 0.05, 0.05],
        ]
    )
    pred = proba.argmax(axis=1)
    scores = compute_metrics(y, proba)
    for name, score in [
        ("precision", skm.precision_score),
        ("recall", skm.recall_score),
        ("f1", skm.f1_score),
    ]:
        assert scores[name] == pytest.approx(score(y, pred, average="macro"))
        assert scores[f"{name}_weighted"] == pytest.approx(score(y, pred, average="weighted"))
    assert scores["balanced_accuracy"] == pytest.approx(skm.balanced_accuracy_score(y, pred))
    assert np.isnan(scores["auc"])  # class 2 absent from y_true


def test_zero_division_gives_zero_like_sklearn():
    y = np.array([0, 1, 0, 1])
    proba = np.array([[0.9, 0.1], [0.8, 0.2], [0.7, 0.3], [0.6, 0.4]])  # nothing predicted 1
    scores = compute_metrics(y, proba)
    assert scores["precision"] == 0.0 == skm.precision_score(y, [0] * 4, zero_division=0)
    assert scores["f1"] == 0.0
    assert scores["recall"] == 0.0
    assert scores["specificity"] == 1.0
    assert scores["mcc"] == 0.0 == skm.matthews_corrcoef(y, [0] * 4)
    assert scores["auc"] == 0.75


def test_multiclass_precision_of_a_never_predicted_class_is_zero():
    y = np.array([0, 1, 2, 2])
    proba = np.array([[0.8, 0.1, 0.1], [0.1, 0.8, 0.1], [0.6, 0.3, 0.1], [0.3, 0.6, 0.1]])
    expected = skm.precision_score(y, proba.argmax(axis=1), average="macro", zero_division=0)
    assert compute_metrics(y, proba)["precision"] == pytest.approx(expected)


@pytest.mark.parametrize(
    "proba",
    [
        np.array([[0.3, 0.7], [0.2, 0.8], [0.6, 0.4]]),
        np.array([[0.3, 0.6, 0.1], [0.2, 0.7, 0.1], [0.8, 0.1, 0.1]]),
    ],
    ids=["binary", "3-class"],
)
def test_single_class_present_gives_nan_auc_and_finite_rest(proba):
    y = np.array([1, 1, 1])
    scores = compute_metrics(y, proba)
    assert np.isnan(scores["auc"])
    assert all(np.isfinite(value) for name, value in scores.items() if name != "auc")
    average = "binary" if proba.shape[1] == 2 else "macro"
    expected = skm.recall_score(y, predict_labels(proba), average=average, zero_division=0)
    assert scores["recall"] == pytest.approx(expected)


@pytest.mark.parametrize("n_classes", [2, 3, 4])
def test_perfect_predictions(n_classes):
    y = np.arange(12) % n_classes
    scores = compute_metrics(y, np.eye(n_classes)[y])
    for name in (
        "accuracy",
        "precision",
        "recall",
        "specificity",
        "f1",
        "auc",
        "balanced_accuracy",
        "mcc",
    ):
        assert scores[name] == 1.0, name
    assert scores["brier"] == 0.0
    assert scores["loss"] == pytest.approx(-np.log(1 - 1e-7))


def test_loss_clips_confident_mistakes_at_1e_minus_7():
    scores = compute_metrics(np.array([1, 0]), np.array([[1.0, 0.0], [1.0, 0.0]]))
    assert scores["loss"] == pytest.approx((-np.log(1e-7) - np.log(1 - 1e-7)) / 2)


def test_threshold_changes_binary_labels_but_not_probability_scores():
    y = np.array([0, 0, 1, 1, 1])
    proba = np.column_stack([1 - (p := np.array([0.2, 0.45, 0.4, 0.6, 0.9])), p])
    np.testing.assert_array_equal(predict_labels(proba), [0, 0, 0, 1, 1])
    np.testing.assert_array_equal(predict_labels(proba, threshold=0.4), [0, 1, 1, 1, 1])
    np.testing.assert_array_equal(predict_labels(proba, threshold=0.6), [0, 0, 0, 1, 1])
    default, low = compute_metrics(y, proba), compute_metrics(y, proba, threshold=0.4)
    assert (default["recall"], low["recall"]) == (pytest.approx(2 / 3), 1.0)
    assert (default["specificity"], low["specificity"]) == (1.0, 0.5)
    for name in ("auc", "loss", "brier"):
        assert default[name] == low[name]


def test_multiclass_labels_are_argmax_and_refuse_a_threshold():
    proba = np.array([[0.2, 0.5, 0.3], [0.6, 0.1, 0.3]])
    np.testing.assert_array_equal(predict_labels(proba), [1, 0])
    with pytest.raises(ValueError, match="threshold applies to binary problems only"):
        predict_labels(proba, threshold=0.3)


def youden_by_hand(y, p):
    """Youden's rule written out on scikit-learn's ROC curve."""
    fpr, tpr, thresholds = skm.roc_curve(y, p, drop_intermediate=False)
    finite = np.isfinite(thresholds)
    j = (tpr - fpr)[finite]
    candidates = thresholds[finite][np.isclose(j, j.max(), rtol=0, atol=1e-12)]
    distance = np.abs(candidates - 0.5)
    closest = candidates[np.isclose(distance, distance.min(), rtol=0, atol=1e-12)]
    return closest.max()


@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("seed", SEEDS)
def test_youden_threshold_matches_roc_curve(seed, ties):
    y, proba = binary_case(seed, ties=ties)
    assert youden_threshold(y, proba[:, 1]) == youden_by_hand(y, proba[:, 1])


def test_youden_tie_goes_to_the_threshold_closest_to_one_half():
    y = np.array([0, 0, 0, 1, 1, 1])
    p = np.array([0.1, 0.2, 0.7, 0.3, 0.8, 0.9])
    # J = 1/3, 2/3, 1/3, 2/3, 1/3, 0 at t = 0.9, 0.8, 0.7, 0.3, 0.2, 0.1: 0.8 and 0.3 tie.
    assert youden_threshold(y, p) == 0.3


def test_youden_tie_at_equal_distance_takes_the_higher_threshold():
    y = np.array([1, 0, 1, 0])
    p = np.array([0.75, 0.5, 0.25, 0.1])
    # J = 1/2, 0, 1/2, 0 at t = 0.75, 0.5, 0.25, 0.1: 0.75 and 0.25 are both 0.25 from 0.5.
    assert youden_threshold(y, p) == 0.75


def test_youden_threshold_needs_both_classes():
    with pytest.raises(ValueError, match="both classes"):
        youden_threshold(np.array([1, 1]), np.array([0.2, 0.8]))


@pytest.mark.parametrize(
    ("y", "proba", "message"),
    [
        (np.array([0, 1]), np.array([0.2, 0.8]), r"\(N, K\) array"),
        (np.array([0, 1]), np.array([[0.2], [0.8]]), "K >= 2"),
        (np.array([0, 1]), np.array([[0.2, 0.2], [0.2, 0.8]]), "row 0 sums to 0.4"),
        (np.array([0, 2]), np.array([[0.2, 0.8], [0.2, 0.8]]), r"labels must lie in 0\.\.1"),
        (np.array([0.0, 1.0]), np.array([[0.2, 0.8], [0.2, 0.8]]), "integers"),
        (np.array([0, 1, 1]), np.array([[0.2, 0.8], [0.2, 0.8]]), "3 samples .* have 2"),
        (np.array([], dtype=int), np.empty((0, 2)), "at least one sample"),
        (np.array([0, 1]), np.array([[np.nan, np.nan], [0.2, 0.8]]), "finite; row 0"),
        (np.array([0, 1]), np.array([[0.5, 0.5], [np.inf, 0.0]]), "finite; row 1"),
        (np.array([0, 1]), np.array([[1.2, -0.2], [0.2, 0.8]]), r"lie in \[0, 1\]; row 0"),
    ],
)
def test_bad_input_is_refused_with_the_rule(y, proba, message):
    with pytest.raises(ValueError, match=message):
        compute_metrics(y, proba)


def test_youden_threshold_refuses_nan_scores():
    with pytest.raises(ValueError, match=r"finite scores; p_pos\[1\]"):
        youden_threshold(np.array([0, 1]), np.array([0.2, np.nan]))


def test_float32_softmax_rounding_is_accepted():
    proba = np.array([[1.0000001, -1e-8], [0.3, 0.7]])
    assert compute_metrics(np.array([0, 1]), proba)["accuracy"] == 1.0


def test_import_stays_light():
    heavy = "{'scipy', 'sklearn', 'pandas', 'tensorflow', 'keras'}"
    code = f"import sys, bench.metrics; print(sorted({heavy} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
