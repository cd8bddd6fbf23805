"""The tables a clinical paper reports, from the stored out-of-fold predictions.

Each cell's predictions are pooled over its outer test folds (and repeats); each fold's
samples are labelled with that fold's own decision threshold (binary; a missing threshold
counts as 0.5) or the argmax. From the pooled predictions, per cell:

- AUC (multi-class: one-vs-rest macro and weighted, and one-vs-one), PR-AUC (average
  precision) and Cohen's kappa, each with a 95 % percentile interval from a bootstrap that
  resamples patients (all images of a drawn patient together; images when the store holds
  no patient ids), :data:`N_BOOT` replicates, seed 0, so the same store gives the same
  report;
- calibration: expected calibration error and Murphy's decomposition of the Brier score
  over :data:`~bench.metrics.CALIBRATION_BINS` equal-width bins;
- per-class precision, recall, F1 and support, pooled and per fold; and the confusion counts
  of the best cell.

The tables cover the best :data:`MAX_CELLS` cells of the leaderboard. When the figures'
predictions are a sample of a large store's folds, so are these tables, and the section says
so.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

from bench.metrics import (
    average_precision,
    brier_decomposition,
    cohen_kappa,
    confusion_matrix,
    expected_calibration_error,
    multiclass_auc,
    per_class_scores,
    predict_labels,
)
from bench.report.inputs import FoldPredictions, ReportInputs
from bench.report.leaderboard import Leaderboard, label_headers, row_labels
from bench.report.table import Table, number, text
from bench.stats.cluster_bootstrap import BootstrapInterval, cluster_bootstrap_ci

N_BOOT = 1000
CONFIDENCE = 0.95
MAX_CELLS = 12  # the best cells of the leaderboard get clinical tables (bootstraps cost)


@dataclass(frozen=True)
class Pooled:
    """One cell's out-of-fold predictions, pooled: labels, probabilities, predicted labels
    (each fold at its threshold) and the patient of each sample."""

    y_true: np.ndarray
    proba: np.ndarray
    predicted: np.ndarray
    patients: np.ndarray

    @property
    def n_classes(self) -> int:
        return self.proba.shape[1]

    def confusion(self, indices: np.ndarray | None = None) -> np.ndarray:
        pick = slice(None) if indices is None else indices
        return confusion_matrix(self.y_true[pick], self.predicted[pick], n_classes=self.n_classes)


@dataclass(frozen=True)
class CellClinical:
    """The pooled clinical scores of one cell (intervals by the patient bootstrap)."""

    cell: str
    intervals: Mapping[str, BootstrapInterval]  # auc..., pr_auc, kappa
    calibration: Mapping[str, float]  # ece, brier, reliability, resolution, uncertainty
    per_class: Mapping[str, np.ndarray]
    confusion: np.ndarray
    patients: bool  # whether the bootstrap resampled patients (else images)


def pooled_predictions(inputs: ReportInputs) -> dict[str, Pooled]:
    """Per cell with predictions, its folds pooled (labels at each fold's threshold)."""
    cells = dict(zip(inputs.folds["job"], inputs.folds["cell"].astype(str), strict=True))
    parts: dict[str, list[FoldPredictions]] = {}
    for job, fold in inputs.predictions.items():
        parts.setdefault(cells[job], []).append(fold)
    groups = inputs.groups
    return {
        cell: Pooled(
            y_true=np.concatenate([f.y_true for f in folds]),
            proba=np.concatenate([f.proba for f in folds]),
            predicted=np.concatenate([fold_labels(f) for f in folds]),
            patients=np.array([groups.get(s, s) for f in folds for s in f.samples]),
        )
        for cell, folds in parts.items()
    }


def fold_labels(fold: FoldPredictions) -> np.ndarray:
    """A fold's predicted labels: at its stored threshold (binary), else the argmax."""
    if fold.proba.shape[1] != 2:
        return predict_labels(fold.proba)
    threshold = 0.5 if math.isnan(fold.threshold) else fold.threshold
    return predict_labels(fold.proba, threshold=threshold)


def cell_clinical(cell: str, pooled: Pooled, *, patients: bool) -> CellClinical:
    """Everything the clinical tables show for one cell."""

    y, proba = pooled.y_true, pooled.proba
    aucs = {"auc": "auc_macro"} if pooled.n_classes == 2 else {n: n for n in _AUCS}
    statistics: dict[str, Callable[..., float]] = {
        name: (lambda i, key=key: multiclass_auc(y[i], proba[i])[key]) for name, key in aucs.items()
    }
    statistics["pr_auc"] = lambda i: average_precision(y[i], proba[i])
    statistics["kappa"] = lambda i: cohen_kappa(pooled.confusion(i))
    intervals = cluster_bootstrap_ci(
        statistics, pooled.patients, n_boot=N_BOOT, seed=0, confidence=CONFIDENCE
    )
    calibration = {"ece": expected_calibration_error(y, proba), **brier_decomposition(y, proba)}
    return CellClinical(
        cell=cell,
        intervals=MappingProxyType(intervals),
        calibration=MappingProxyType(calibration),
        per_class=MappingProxyType(per_class_scores(pooled.confusion())),
        confusion=pooled.confusion(),
        patients=patients,
    )


def clinical_scores(inputs: ReportInputs, board: Leaderboard) -> tuple[CellClinical, ...]:
    """Per cell with predictions, in leaderboard order, the best :data:`MAX_CELLS`."""
    pooled = pooled_predictions(inputs)
    patients = bool(inputs.groups)
    cells = [row.cell for row in board.rows if row.cell in pooled][:MAX_CELLS]
    return tuple(cell_clinical(cell, pooled[cell], patients=patients) for cell in cells)


_AUCS = ("auc_macro", "auc_weighted", "auc_ovo")
_LABELS = {
    "auc": "AUC",
    "auc_macro": "AUC (macro)",
    "auc_weighted": "AUC (weighted)",
    "auc_ovo": "AUC (OvO)",
    "pr_auc": "PR-AUC",
    "kappa": "Cohen's kappa",
}


def summary_table(scores: tuple[CellClinical, ...], board: Leaderboard) -> Table:
    """Per cell: pooled AUC(s), PR-AUC and kappa with patient-bootstrap intervals."""
    names = tuple(scores[0].intervals)
    rows = tuple(
        (*_levels(board, s.cell), *(number(_interval(s.intervals[n])) for n in names))
        for s in scores
    )
    unit = "patients" if scores[0].patients else "images (no patient ids stored)"
    labels = label_headers(board.factors)
    return Table(
        headers=(*labels, *(_LABELS[n] for n in names)),
        rows=rows,
        align="l" * len(labels) + "r" * len(names),
        caption="Pooled out-of-fold discrimination and agreement",
        note=f"estimate [{CONFIDENCE:.0%} bootstrap interval, {N_BOOT} replicates resampling "
        f"{unit}]",
    )


def calibration_table(scores: tuple[CellClinical, ...], board: Leaderboard) -> Table:
    """Per cell: ECE and the Brier score with its reliability, resolution and uncertainty."""
    names = ("ece", "brier", "reliability", "resolution", "uncertainty")
    rows = tuple(
        (*_levels(board, s.cell), *(number(f"{s.calibration[n]:.3f}") for n in names))
        for s in scores
    )
    labels = label_headers(board.factors)
    return Table(
        headers=(*labels, "ECE", "Brier", "Reliability", "Resolution", "Uncertainty"),
        rows=rows,
        align="l" * len(labels) + "r" * len(names),
        caption="Calibration of the pooled out-of-fold probabilities",
        note="ECE: top-label expected calibration error. Murphy's decomposition over 10 "
        "equal-width bins: Brier = reliability − resolution + uncertainty, up to the spread "
        "of the forecasts within each bin.",
    )


def per_class_table(
    scores: tuple[CellClinical, ...], board: Leaderboard, classes: tuple[str, ...]
) -> Table:
    """Per cell and class: pooled precision, recall, F1 and support."""
    rows = tuple(
        (*_levels(board, s.cell), text(name), *_class_entries(s.per_class, k))
        for s in scores
        for k, name in enumerate(classes)
    )
    labels = label_headers(board.factors)
    return Table(
        headers=(*labels, "Class", "Precision", "Recall", "F1", "Support"),
        rows=rows,
        align="l" * (len(labels) + 1) + "rrrr",
        caption="Per-class scores, pooled over the outer test folds",
    )


def per_fold_class_table(
    inputs: ReportInputs, board: Leaderboard, classes: tuple[str, ...]
) -> Table:
    """Per fold and class: precision, recall, F1 and support (appendix)."""
    folds = inputs.folds.set_index("job")
    order = {row.cell: index for index, row in enumerate(board.rows)}
    jobs = sorted(
        inputs.predictions,
        key=lambda j: (
            order.get(str(folds.at[j, "cell"]), len(order)),
            folds.at[j, "repeat"],
            folds.at[j, "fold"],
        ),
    )
    rows = []
    for job in jobs:
        fold = inputs.predictions[job]
        cm = confusion_matrix(fold.y_true, fold_labels(fold), n_classes=fold.proba.shape[1])
        per_class = per_class_scores(cm)
        place = (number(str(folds.at[job, "repeat"])), number(str(folds.at[job, "fold"])))
        rows += [
            (
                *_levels(board, str(folds.at[job, "cell"])),
                *place,
                text(name),
                *_class_entries(per_class, k),
            )
            for k, name in enumerate(classes)
        ]
    labels = label_headers(board.factors)
    return Table(
        headers=(*labels, "Repeat", "Fold", "Class", "Precision", "Recall", "F1", "Support"),
        rows=tuple(rows),
        align="l" * len(labels) + "rrl" + "rrrr",
        caption="Per-class scores of every outer test fold",
    )


def confusion_table(score: CellClinical, classes: tuple[str, ...], label: str) -> Table:
    """The pooled confusion counts of one cell: rows true class, columns predicted."""
    rows = tuple(
        (text(name), *(number(str(int(c))) for c in score.confusion[k]))
        for k, name in enumerate(classes)
    )
    return Table(
        headers=("True \\ predicted", *classes),
        rows=rows,
        align="l" + "r" * len(classes),
        caption=f"Confusion counts of {label}, pooled over its outer test folds",
    )


def class_names(inputs: ReportInputs, classes: tuple[str, ...] | None) -> tuple[str, ...]:
    k = next(iter(inputs.predictions.values())).proba.shape[1]
    return tuple(classes) if classes and len(classes) == k else tuple(map(str, range(k)))


def _levels(board: Leaderboard, cell: str):
    row = next(r for r in board.rows if r.cell == cell)
    return tuple(text(level) for level in row_labels(row))


def _class_entries(per_class: Mapping[str, np.ndarray], k: int):
    return (
        *(number(f"{per_class[m][k]:.3f}") for m in ("precision", "recall", "f1")),
        number(str(int(per_class["support"][k]))),
    )


def _interval(interval: BootstrapInterval) -> str:
    if math.isnan(interval.estimate):
        return "–"
    return f"{interval.estimate:.3f} [{interval.ci_low:.3f}, {interval.ci_high:.3f}]"
