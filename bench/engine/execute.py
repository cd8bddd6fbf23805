"""Run one job in a worker: fit its stages, then (for a fold) predict the test fold once.

A :class:`Worker` holds what survives between jobs of one process: the compiled-model pool
and preprocessed datasets. Jobs read their inputs from the suite and the artifact cache,
and return records; only the coordinator writes the results database.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bench.config.spec import StageSpec, Suite
from bench.data.sources import load_dataset
from bench.data.splits import holdout
from bench.engine.plan import FoldJob, Hyper, StageJob, stage_classes
from bench.hashing import derive_seed
from bench.metrics import compute_metrics, youden_threshold
from bench.models.build import backbone_weights
from bench.models.preprocess import preprocess
from bench.models.registry import BACKBONES
from bench.store.db import FoldRecord
from bench.train.fit import (
    Arrays,
    FitResult,
    FitSpec,
    ModelKey,
    ModelPool,
    fit_stage,
    predict_proba,
)


@dataclass
class Worker:
    suite: Suite
    pool: ModelPool
    artifacts: Path
    _inputs: dict = field(default_factory=dict)
    models_built: int = 0
    models_reused: int = 0

    def inputs(self, dataset: str, backbone: str) -> np.ndarray:
        """Preprocessed images of a dataset for a backbone, computed once per process."""
        mode = BACKBONES[backbone].preprocessing
        if (dataset, mode) not in self._inputs:
            images = load_dataset(self.suite.datasets[dataset], image_size=self.suite.image_size)
            self._inputs[(dataset, mode)] = preprocess(images.images, mode)
        return self._inputs[(dataset, mode)]

    def fit(self, spec: FitSpec, data: Arrays, start: list | None) -> FitResult:
        result = fit_stage(spec, data, pool=self.pool, backbone_start=start)
        if result.built:
            self.models_built += 1
        else:
            self.models_reused += 1
        return result


def run_stage_job(job: StageJob, worker: Worker) -> tuple[str, dict]:
    """Train a fold-independent stage; return its weights file and history."""
    start = load_weights(worker.artifacts, job.parent) if job.parent else None
    x, y = _stage_data(worker, job.stage, job.backbone)
    fit, val = holdout(
        y, np.arange(len(y)).astype(str), fraction=worker.suite.protocol.validation, seed=job.seed
    )
    spec = _fit_spec(
        worker.suite,
        job.backbone,
        job.backbone_options,
        job.stage,
        job.hyper,
        weights=job.weights if start is None else "none",
        seed=job.seed,
    )
    result = worker.fit(spec, Arrays(x[fit], y[fit], x[val], y[val]), start)
    path = save_weights(worker.artifacts, job.hash, backbone_weights(result.model))
    return str(path), result.history


def run_fold_job(job: FoldJob, worker: Worker) -> FoldRecord:
    """Train the target stages on the fold's training part and score its test part once."""
    suite, cell, fold = worker.suite, job.cell, job.fold
    target = load_dataset(suite.datasets[suite.target], image_size=suite.image_size)
    x = worker.inputs(suite.target, cell.backbone)
    y = target.labels
    start = load_weights(worker.artifacts, job.parent) if job.parent else None
    histories, data = {}, Arrays(x[fold.train], y[fold.train], x[fold.val], y[fold.val])
    for index, (stage, hyper) in enumerate(job.stages):
        spec = _fit_spec(
            suite,
            cell.backbone,
            cell.backbone_options,
            stage,
            hyper,
            weights=job.weights if start is None else "none",
            seed=derive_seed(job.seed, index),
        )
        result = worker.fit(spec, data, start)
        start = backbone_weights(result.model)
        histories[stage.name] = result.history
    threshold = _threshold(suite, predict_proba(result.model, data.x_val), data.y_val)
    proba = predict_proba(result.model, x[fold.test])
    return FoldRecord(
        job=job.hash,
        cell=cell.id,
        factors=dict(cell.factors),
        repeat=job.repeat,
        fold=fold.fold,
        n_train=len(fold.train) + len(fold.val),
        n_val=len(fold.val),
        n_test=len(fold.test),
        threshold=threshold,
        params={},
        scores=compute_metrics(y[fold.test], proba, threshold=threshold),
        samples=target.ids[fold.test].tolist(),
        y_true=y[fold.test].tolist(),
        proba=proba.tolist(),
        history=histories,
    )


def _threshold(suite: Suite, proba_val: np.ndarray, y_val: np.ndarray) -> float:
    """The decision threshold, chosen on the inner validation split only."""
    if proba_val.shape[1] != 2:
        return 0.5
    if suite.protocol.threshold == "youden":
        return youden_threshold(y_val, proba_val[:, 1]) if len(np.unique(y_val)) == 2 else 0.5
    return float(suite.protocol.threshold)


def _stage_data(worker: Worker, stage: StageSpec, backbone: str) -> tuple[np.ndarray, np.ndarray]:
    """Inputs and labels of a stage; with several datasets the label is the dataset index."""
    suite = worker.suite
    xs, ys = [], []
    for index, name in enumerate(stage.data):
        images = load_dataset(suite.datasets[name], image_size=suite.image_size)
        xs.append(worker.inputs(name, backbone))
        ys.append(images.labels if len(stage.data) == 1 else np.full(len(images.labels), index))
    return np.concatenate(xs), np.concatenate(ys)


def _fit_spec(
    suite: Suite,
    backbone: str,
    options: tuple,
    stage: StageSpec,
    hyper: Hyper,
    *,
    weights: str,
    seed: int,
) -> FitSpec:
    key = ModelKey(
        backbone=backbone,
        options=options,
        image_size=suite.image_size,
        n_classes=len(stage_classes(suite, stage)),
        head=stage.head,
        trainable=stage.trainable,
        optimizer=hyper.optimizer,
        optimizer_options=hyper.optimizer_options,
    )
    return FitSpec(
        key=key,
        weights=weights,
        learning_rate=hyper.learning_rate,
        lr_decay=hyper.lr_decay,
        epochs=hyper.epochs,
        batch_size=hyper.batch_size,
        patience=hyper.patience,
        seed=seed,
    )


def save_weights(directory: Path, job: str, weights: list[np.ndarray]) -> Path:
    """Write weights atomically: a partial file is never taken for a complete one."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{job}.npz"
    handle, tmp = tempfile.mkstemp(dir=directory, suffix=".tmp")
    with os.fdopen(handle, "wb") as file:
        np.savez(file, *weights)
    os.replace(tmp, path)
    return path


def load_weights(directory: Path, job: str) -> list[np.ndarray]:
    with np.load(directory / f"{job}.npz") as data:
        return [data[f"arr_{i}"] for i in range(len(data.files))]
