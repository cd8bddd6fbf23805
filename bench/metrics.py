"""Scores of a classifier from its out-of-fold class probabilities.

Pure numpy (plus scipy's ``rankdata``, imported on first use): every score comes from one
confusion matrix and one ranking per class, so rescoring thousands of stored folds is cheap
and never needs the model. Conventions, each checked against scikit-learn in
``tests/test_metrics.py``:

- ``proba`` is (N, K), K >= 2, rows summing to 1; labels are the integers 0..K-1.
- Binary (K = 2): class 1 is positive. precision, recall (sensitivity) and f1 are those of
  class 1, specificity is the recall of class 0, auc is the ROC AUC of ``proba[:, 1]``,
  brier is mean((p1 - y)^2) (scikit-learn's binary Brier score).
- Multi-class (K > 2): precision, recall, specificity and f1 are macro averages over the
  classes present in y_true or y_pred (scikit-learn's default label set: a class neither
  true nor predicted says nothing about the classifier). Only multi-class results also hold
  ``precision_weighted``, ``recall_weighted`` and ``f1_weighted`` (averages weighted by
  support); in the binary case the class-1 scores already are the answer. auc is the
  one-vs-rest macro ROC AUC; brier is the mean over samples of the sum over classes of
  (p - onehot)^2 (Brier's original score, in [0, 2]); mcc is Gorodkin's R_K, which equals
  scikit-learn's ``matthews_corrcoef``.
- Zero denominators: precision, recall, specificity and f1 give 0.0 (scikit-learn's
  ``zero_division=0``), mcc gives 0.0 (as scikit-learn). auc is NaN when undefined, that is
  when a class is absent from y_true.
- loss is the mean categorical cross-entropy with probabilities clipped to
  [1e-7, 1 - 1e-7], as Keras computes it, so one confident mistake costs about 16 instead
  of infinity. scikit-learn's ``log_loss`` clips at the dtype's eps, so the two differ only
  for probabilities below 1e-7.
- accuracy, balanced_accuracy, mcc, precision, recall, specificity and f1 depend on the
  predicted labels (``threshold`` for binary, argmax otherwise); auc, loss and brier use the
  probabilities only.
"""

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np


@dataclass(frozen=True)
class Fold:
    """One fold's labels and probabilities with what several scores share."""

    y: np.ndarray
    proba: np.ndarray
    cm: np.ndarray  # confusion matrix at the fold's threshold
    onehot: np.ndarray
    averaged: dict[str, float]  # see _averaged_scores


@dataclass(frozen=True)
class Metric:
    """A fold score: its name, how tables head it, which way is better, how it is computed and
    the range its values can take."""

    name: str
    label: str
    compute: Callable[[Fold], float]
    lower_is_better: bool = False
    weighted: bool = False  # a support-weighted average, held by multi-class results only
    bounds: tuple[float, float] = (0.0, 1.0)


def _averaged(name: str) -> Callable[[Fold], float]:
    return lambda fold: fold.averaged[name]


# Every score bench computes, in the order of result tables. The rest of the package reads
# names, directions and labels from here.
REGISTRY: Mapping[str, Metric] = MappingProxyType(
    {
        metric.name: metric
        for metric in (
            Metric("accuracy", "Accuracy", lambda f: np.trace(f.cm) / f.y.size),
            Metric("precision", "Precision", _averaged("precision")),
            Metric("recall", "Recall (sens.)", _averaged("recall")),
            Metric("specificity", "Specificity", _averaged("specificity")),
            Metric("f1", "F1", _averaged("f1")),
            Metric("auc", "AUC", lambda f: _auc(f.onehot, f.proba)),
            Metric(
                "loss",
                "Loss",
                lambda f: _cross_entropy(f.y, f.proba),
                lower_is_better=True,
                bounds=(0.0, math.inf),
            ),
            Metric("balanced_accuracy", "Balanced acc.", lambda f: _balanced_accuracy(f.cm)),
            Metric("mcc", "MCC", lambda f: _mcc(f.cm), bounds=(-1.0, 1.0)),
            Metric(
                "brier",
                "Brier",
                lambda f: _brier(f.onehot, f.proba),
                lower_is_better=True,
                bounds=(0.0, 2.0),  # multi-class: a sum over the classes
            ),
            Metric(
                "precision_weighted",
                "Precision (weighted)",
                _averaged("precision_weighted"),
                weighted=True,
            ),
            Metric(
                "recall_weighted", "Recall (weighted)", _averaged("recall_weighted"), weighted=True
            ),
            Metric("f1_weighted", "F1 (weighted)", _averaged("f1_weighted"), weighted=True),
        )
    }
)
METRICS: tuple[str, ...] = tuple(m.name for m in REGISTRY.values() if not m.weighted)
WEIGHTED_METRICS: tuple[str, ...] = tuple(m.name for m in REGISTRY.values() if m.weighted)
ALL_METRICS: tuple[str, ...] = tuple(REGISTRY)
LOWER_IS_BETTER: frozenset[str] = frozenset(m.name for m in REGISTRY.values() if m.lower_is_better)
METRIC_LABELS: Mapping[str, str] = MappingProxyType({m.name: m.label for m in REGISTRY.values()})


def within_range(metric: str, low: float, high: float) -> tuple[float, float]:
    """An interval for a score of ``metric`` cut to the values the metric can take (a
    t-interval around an AUC of 0.95 may reach past 1); other names are left as they are."""
    if metric not in REGISTRY:
        return low, high
    floor, ceiling = REGISTRY[metric].bounds
    return max(low, floor), min(high, ceiling)


def higher_is_better(metric: str) -> bool:
    """True unless ``metric`` is one where lower is better (``loss``, ``brier``)."""
    return metric not in LOWER_IS_BETTER


CLIP = 1e-7  # Keras' epsilon for the cross-entropy
PROBA_TOLERANCE = 1e-6  # float32 softmax outputs may stray this far outside [0, 1]


def predict_labels(proba: np.ndarray, *, threshold: float = 0.5) -> np.ndarray:
    """Predicted labels: binary ``proba[:, 1] >= threshold``, multi-class the argmax.

    A threshold other than 0.5 is refused for multi-class problems, where it has no meaning,
    rather than silently ignored.
    """
    proba = _as_proba(proba)
    if proba.shape[1] == 2:
        return (proba[:, 1] >= threshold).astype(np.intp)
    if threshold != 0.5:
        raise ValueError(
            f"threshold applies to binary problems only; got threshold={threshold} "
            f"for {proba.shape[1]} classes"
        )
    return proba.argmax(axis=1)


def youden_threshold(y_true: np.ndarray, p_pos: np.ndarray) -> float:
    """The threshold on ``p_pos`` that maximises Youden's J = sensitivity + specificity - 1.

    Candidates are the distinct scores, i.e. the ROC points (``p >= t`` is positive, as in
    :func:`predict_labels`). A flat stretch of the ROC curve gives several thresholds with the
    same J; we take the one closest to 0.5, the default, so a tie never moves the threshold
    further than the data asks (equally close: the higher one). J is compared exactly, as the
    integer tp * N - fp * P, so ties are not broken by rounding.
    """
    y = _as_labels(y_true, n_classes=2)
    p = np.asarray(p_pos, dtype=float)
    _check_same_length(y, p)
    if not np.isfinite(p).all():
        raise ValueError(
            f"youden_threshold needs finite scores; p_pos[{np.flatnonzero(~np.isfinite(p))[0]}]"
            " is not (a NaN or infinite prediction: the model diverged)"
        )
    n_pos, n_neg = int(y.sum()), int(y.size - y.sum())
    if n_pos == 0 or n_neg == 0:
        raise ValueError(
            f"youden_threshold needs both classes in y_true; got {n_pos} positives "
            f"and {n_neg} negatives"
        )
    thresholds, tp, fp = _roc_points(y, p)
    j = tp * n_neg - fp * n_pos
    best = thresholds[j == j.max()]
    return float(best[np.lexsort((-best, np.abs(best - 0.5)))[0]])


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, *, n_classes: int) -> np.ndarray:
    """Counts ``C[i, j]`` of samples of class i predicted as class j (scikit-learn's layout)."""
    t = _as_labels(y_true, n_classes=n_classes)
    p = _as_labels(y_pred, n_classes=n_classes)
    _check_same_length(t, p)
    counts = np.bincount(t * n_classes + p, minlength=n_classes * n_classes)
    return counts.reshape(n_classes, n_classes)


def compute_metrics(
    y_true: np.ndarray, proba: np.ndarray, *, threshold: float = 0.5
) -> dict[str, float]:
    """All of :data:`METRICS` (and, multi-class, :data:`WEIGHTED_METRICS`) for one fold."""
    proba = _as_proba(proba)
    n_classes = proba.shape[1]
    y = _as_labels(y_true, n_classes=n_classes)
    _check_same_length(y, proba)
    if y.size == 0:
        raise ValueError("compute_metrics needs at least one sample; got none")
    cm = confusion_matrix(y, predict_labels(proba, threshold=threshold), n_classes=n_classes)
    fold = Fold(y=y, proba=proba, cm=cm, onehot=np.eye(n_classes)[y], averaged=_averaged_scores(cm))
    return {name: float(REGISTRY[name].compute(fold)) for name in _metric_names(n_classes)}


def _metric_names(n_classes: int) -> tuple[str, ...]:
    return METRICS if n_classes == 2 else ALL_METRICS


def _class_scores(cm: np.ndarray) -> dict[str, np.ndarray]:
    """Per-class precision, recall, specificity and f1 (one-vs-rest), 0.0 where undefined."""
    n, tp, true, pred = cm.sum(), np.diag(cm), cm.sum(axis=1), cm.sum(axis=0)
    return {
        "precision": _ratio(tp, pred),
        "recall": _ratio(tp, true),
        "specificity": _ratio(n - true - pred + tp, n - true),
        "f1": _ratio(2 * tp, true + pred),
    }


def _averaged_scores(cm: np.ndarray) -> dict[str, float]:
    """Class-1 scores for binary problems; macro and support-weighted averages otherwise.

    For K = 2 the one-vs-rest specificity of class 1 is exactly the recall of class 0.
    """
    per_class = _class_scores(cm)
    if cm.shape[0] == 2:
        return {name: values[1] for name, values in per_class.items()}
    true = cm.sum(axis=1)
    present = (true + cm.sum(axis=0)) > 0
    macro = {name: values[present].mean() for name, values in per_class.items()}
    weighted = {
        f"{name}_weighted": np.average(per_class[name], weights=true)
        for name in ("precision", "recall", "f1")
    }
    return macro | weighted


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    return np.divide(num, den, out=np.zeros(num.shape), where=den > 0)


def _balanced_accuracy(cm: np.ndarray) -> float:
    """Mean recall over the classes present in y_true (scikit-learn drops the others)."""
    true = cm.sum(axis=1)
    return float(np.mean(np.diag(cm)[true > 0] / true[true > 0]))


def _mcc(cm: np.ndarray) -> float:
    """Gorodkin's R_K (Matthews' coefficient for K classes); 0.0 when a marginal is constant."""
    cm = cm.astype(float)
    s, c, t, p = cm.sum(), np.trace(cm), cm.sum(axis=1), cm.sum(axis=0)
    den = np.sqrt((s * s - p @ p) * (s * s - t @ t))
    return float((c * s - p @ t) / den) if den > 0 else 0.0


def _auc(onehot: np.ndarray, proba: np.ndarray) -> float:
    """Binary: ROC AUC of class 1; multi-class: one-vs-rest macro AUC; NaN if a class is absent.

    Each class's AUC is the Mann-Whitney U of its column over n_pos * n_neg, with average
    ranks so that tied scores count one half, as the trapezoidal ROC area does.
    """
    from scipy.stats import rankdata

    n_pos = onehot.sum(axis=0)
    if np.any(n_pos == 0):
        return float("nan")
    n_neg = onehot.shape[0] - n_pos
    u = (rankdata(proba, axis=0) * onehot).sum(axis=0) - n_pos * (n_pos + 1) / 2
    per_class = u / (n_pos * n_neg)
    return float(per_class[1] if proba.shape[1] == 2 else per_class.mean())


def _cross_entropy(y: np.ndarray, proba: np.ndarray) -> float:
    """Mean -log p(true class), with p clipped to [CLIP, 1 - CLIP] as Keras does."""
    p_true = proba[np.arange(y.size), y]
    return float(-np.mean(np.log(np.clip(p_true, CLIP, 1 - CLIP))))


def _brier(onehot: np.ndarray, proba: np.ndarray) -> float:
    """Binary mean((p1 - y)^2); multi-class mean of the per-sample sum over classes."""
    if proba.shape[1] == 2:
        return float(np.mean((proba[:, 1] - onehot[:, 1]) ** 2))
    return float(np.mean(np.sum((proba - onehot) ** 2, axis=1)))


def _roc_points(y: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct thresholds (descending) with the true and false positive counts at each."""
    order = np.argsort(-p, kind="stable")
    p_sorted = p[order]
    last_of_run = np.r_[np.flatnonzero(np.diff(p_sorted)), p.size - 1]
    tp = np.cumsum(y[order])[last_of_run]
    return p_sorted[last_of_run], tp, last_of_run + 1 - tp


def _as_proba(proba: np.ndarray) -> np.ndarray:
    proba = np.asarray(proba, dtype=float)
    if proba.ndim != 2 or proba.shape[1] < 2:
        raise ValueError(
            f"proba must be an (N, K) array of class probabilities with K >= 2; "
            f"got shape {proba.shape}"
        )
    invalid = np.flatnonzero(~np.isfinite(proba).all(axis=1))
    if invalid.size:
        raise ValueError(
            f"proba must be finite; row {invalid[0]} is {proba[invalid[0]].tolist()} "
            "(a NaN or infinite prediction: the model diverged)"
        )
    outside = np.flatnonzero(((proba < -PROBA_TOLERANCE) | (proba > 1 + PROBA_TOLERANCE)).any(1))
    if outside.size:
        raise ValueError(
            f"proba must lie in [0, 1]; row {outside[0]} is {proba[outside[0]].tolist()}"
        )
    bad = np.flatnonzero(np.abs(proba.sum(axis=1) - 1) > 1e-3)
    if bad.size:
        raise ValueError(
            f"each row of proba must sum to 1; row {bad[0]} sums to {proba[bad[0]].sum():.6g}"
        )
    return proba


def _as_labels(labels: np.ndarray, *, n_classes: int) -> np.ndarray:
    labels = np.asarray(labels)
    if labels.ndim != 1 or not (np.issubdtype(labels.dtype, np.integer) or labels.dtype == bool):
        raise ValueError(
            f"labels must be a 1-D array of integers; got dtype {labels.dtype}, "
            f"shape {labels.shape}"
        )
    if labels.size and (labels.min() < 0 or labels.max() >= n_classes):
        raise ValueError(
            f"labels must lie in 0..{n_classes - 1}; got values from {labels.min()} "
            f"to {labels.max()}"
        )
    return labels.astype(np.intp)


def _check_same_length(a: np.ndarray, b: np.ndarray) -> None:
    if len(a) != len(b):
        raise ValueError(f"y_true has {len(a)} samples but the predictions have {len(b)}")


# Clinical tables ------------------------------------------------------------------------
# Scores a paper reports beside the fold metrics, computed by the report from stored
# predictions (pooled over folds, or per fold); each is checked against scikit-learn or a
# computation written out in tests/test_clinical_metrics.py.

CALIBRATION_BINS = 10  # equal-width probability bins of the reliability diagram and ECE


def per_class_scores(cm: np.ndarray) -> dict[str, np.ndarray]:
    """Per class k of a confusion matrix (arrays of length K): precision, recall, f1 and
    support (the number of samples of class k); 0.0 where a denominator is zero."""
    scores = _class_scores(cm)
    return {
        "precision": scores["precision"],
        "recall": scores["recall"],
        "f1": scores["f1"],
        "support": cm.sum(axis=1),
    }


def cohen_kappa(cm: np.ndarray) -> float:
    """Cohen's kappa of a confusion matrix: (observed − chance agreement) / (1 − chance);
    0.0 when chance agreement is 1 (one class only, predicted always)."""
    cm = np.asarray(cm, dtype=float)
    n = cm.sum()
    observed = np.trace(cm) / n
    chance = cm.sum(axis=0) @ cm.sum(axis=1) / n**2
    return float((observed - chance) / (1 - chance)) if chance < 1 else 0.0


def average_precision(y_true: np.ndarray, proba: np.ndarray) -> float:
    """PR-AUC as average precision, sum_n (R_n - R_{n-1}) P_n over the distinct thresholds
    (no interpolation); binary: of class 1, multi-class: macro over one-vs-rest classes.
    NaN when a class has no positive sample."""
    proba = _as_proba(proba)
    y = _as_labels(y_true, n_classes=proba.shape[1])
    classes = [1] if proba.shape[1] == 2 else range(proba.shape[1])
    scores = [_average_precision((y == k).astype(np.intp), proba[:, k]) for k in classes]
    return float(np.mean(scores))


def multiclass_auc(y_true: np.ndarray, proba: np.ndarray) -> dict[str, float]:
    """One-vs-rest AUC macro and support-weighted, and Hand & Till's one-vs-one macro AUC
    (for K = 2 all three are the binary AUC); NaN when a class is absent from y_true."""
    from scipy.stats import rankdata

    proba = _as_proba(proba)
    k = proba.shape[1]
    y = _as_labels(y_true, n_classes=k)
    onehot = np.eye(k)[y]
    n_pos = onehot.sum(axis=0)
    if np.any(n_pos == 0):
        return dict.fromkeys(("auc_macro", "auc_weighted", "auc_ovo"), float("nan"))
    u = (rankdata(proba, axis=0) * onehot).sum(axis=0) - n_pos * (n_pos + 1) / 2
    per_class = u / (n_pos * (y.size - n_pos))
    if k == 2:
        return dict.fromkeys(("auc_macro", "auc_weighted", "auc_ovo"), float(per_class[1]))
    pairs = [
        (_pair_auc(y, proba, a, b) + _pair_auc(y, proba, b, a)) / 2
        for a in range(k)
        for b in range(a + 1, k)
    ]
    return {
        "auc_macro": float(per_class.mean()),
        "auc_weighted": float(np.average(per_class, weights=n_pos)),
        "auc_ovo": float(np.mean(pairs)),
    }


def reliability_bins(
    y_true: np.ndarray, proba: np.ndarray, *, bins: int = CALIBRATION_BINS
) -> dict[str, np.ndarray]:
    """Top-label reliability diagram (Guo et al. 2017): per equal-width bin of the predicted
    class's probability, its count, mean confidence and accuracy (NaN for empty bins)."""
    proba = _as_proba(proba)
    y = _as_labels(y_true, n_classes=proba.shape[1])
    confidence = proba.max(axis=1)
    correct = (proba.argmax(axis=1) == y).astype(float)
    index = _bin_index(confidence, bins)
    count = np.bincount(index, minlength=bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_confidence = np.bincount(index, confidence, minlength=bins) / count
        accuracy = np.bincount(index, correct, minlength=bins) / count
    return {"count": count, "confidence": mean_confidence, "accuracy": accuracy}


def expected_calibration_error(
    y_true: np.ndarray, proba: np.ndarray, *, bins: int = CALIBRATION_BINS
) -> float:
    """ECE: sum over bins of (bin count / N) × |accuracy − mean confidence|, top label."""
    table = reliability_bins(y_true, proba, bins=bins)
    filled = table["count"] > 0
    gaps = np.abs(table["accuracy"][filled] - table["confidence"][filled])
    return float(np.sum(table["count"][filled] * gaps) / table["count"].sum())


def brier_decomposition(
    y_true: np.ndarray, proba: np.ndarray, *, bins: int = CALIBRATION_BINS
) -> dict[str, float]:
    """Murphy's decomposition of the ``brier`` score, brier ≈ reliability − resolution +
    uncertainty, with forecasts grouped in equal-width bins (exact when every forecast in a
    bin is equal). Binary: of class 1's probability, as ``brier``; multi-class: summed over
    the classes, as the multi-class ``brier``."""
    proba = _as_proba(proba)
    k = proba.shape[1]
    onehot = np.eye(k)[_as_labels(y_true, n_classes=k)]
    classes = [1] if k == 2 else range(k)
    parts = np.array([_murphy(onehot[:, c], proba[:, c], bins) for c in classes]).sum(axis=0)
    return {
        "brier": _brier(onehot, proba),
        "reliability": float(parts[0]),
        "resolution": float(parts[1]),
        "uncertainty": float(parts[2]),
    }


def _average_precision(y: np.ndarray, p: np.ndarray) -> float:
    if y.sum() == 0:
        return float("nan")
    _, tp, fp = _roc_points(y, p)
    precision, recall = tp / (tp + fp), tp / y.sum()
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def _pair_auc(y: np.ndarray, proba: np.ndarray, a: int, b: int) -> float:
    """AUC of class a against class b on their samples only, scored by p(a)."""
    from scipy.stats import rankdata

    keep = (y == a) | (y == b)
    positive = y[keep] == a
    ranks = rankdata(proba[keep, a])
    n_pos, n_neg = positive.sum(), (~positive).sum()
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def _bin_index(p: np.ndarray, bins: int) -> np.ndarray:
    """Bin b holds (b/bins, (b+1)/bins]; 0 goes in the first bin."""
    return np.clip(np.ceil(p * bins).astype(np.intp) - 1, 0, bins - 1)


def _murphy(outcome: np.ndarray, forecast: np.ndarray, bins: int) -> tuple[float, float, float]:
    index = _bin_index(forecast, bins)
    count = np.bincount(index, minlength=bins)
    filled = count > 0
    mean_forecast = np.bincount(index, forecast, minlength=bins)[filled] / count[filled]
    mean_outcome = np.bincount(index, outcome, minlength=bins)[filled] / count[filled]
    base = outcome.mean()
    weights = count[filled] / outcome.size
    reliability = np.sum(weights * (mean_forecast - mean_outcome) ** 2)
    resolution = np.sum(weights * (mean_outcome - base) ** 2)
    return float(reliability), float(resolution), float(base * (1 - base))
