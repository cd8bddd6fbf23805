"""Run one job in a worker: fit its stages, then (for a fold) predict the test fold once.

A :class:`Worker` holds what survives between jobs of one process: the compiled-model pool
and the datasets it maps. Jobs read their inputs from the suite and the artifact cache,
and return records; only the coordinator writes the results database.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from bench.config.axes import cell_suite
from bench.config.spec import Cell, StageSpec, Suite, TuningSpec
from bench.config.trainable import ALL
from bench.data.sources import load_dataset
from bench.data.splits import holdout, inner_folds
from bench.data.synthetic import ImageSet
from bench.engine import tuning
from bench.engine.artifacts import load_weights, save_stage
from bench.engine.catalog import stage_classes
from bench.engine.plan import FoldJob, StageJob, TrainingSettings, stage_augmentation
from bench.hashing import derive_seed
from bench.metrics import compute_metrics, youden_threshold
from bench.models.build import backbone_weights
from bench.models.cost import model_cost
from bench.models.registry import BACKBONES
from bench.report.stages import chance_accuracy
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
from bench.train.stacked import Stacked


@dataclass
class Worker:
    suite: Suite
    pool: ModelPool
    artifacts: Path
    _inputs: dict = field(default_factory=dict)
    _costs: dict = field(default_factory=dict)
    models_built: int = 0
    models_reused: int = 0

    def inputs(self, dataset: str, image_size: int | None = None) -> np.ndarray:
        """Raw uint8 pixels of a dataset as loaded (memory-mapped for file sources), at
        ``image_size`` (default the suite's): jobs index into them; conversion to model
        inputs happens per batch."""
        image_size = image_size or self.suite.image_size
        if (dataset, image_size) not in self._inputs:
            images = load_dataset(self.suite.datasets[dataset], image_size=image_size)
            self._inputs[dataset, image_size] = images.images
        return self._inputs[dataset, image_size]

    def fit(self, spec: FitSpec, data: Arrays, start: list | None, callbacks=()) -> FitResult:
        result = fit_stage(spec, data, pool=self.pool, backbone_start=start, callbacks=callbacks)
        if result.built:
            self.models_built += 1
        else:
            self.models_reused += 1
        return result

    def cost(self, model, key: ModelKey) -> dict[str, float]:
        """The model's parameters, FLOPs and latency, measured once per architecture here."""
        architecture = replace(key, trainable=ALL, optimizer="", optimizer_options=())
        if architecture not in self._costs:
            self._costs[architecture] = model_cost(model, image_size=key.image_size)
        return self._costs[architecture]


@dataclass(frozen=True)
class FoldModel:
    """A fold's trained model with what scoring it needs."""

    model: object  # keras.Model
    preprocessing: str
    threshold: float
    histories: dict[str, dict[str, list[float]]]
    params: dict
    val_scores: dict[str, float]  # on the inner validation split, for selection
    key: ModelKey  # the last stage's model


def run_stage_job(job: StageJob, worker: Worker) -> tuple[str, dict]:
    """Train a fold-independent stage; return its weights file and history (with the
    accuracy of always predicting the most frequent validation class, ``val_chance``)."""
    start = load_weights(worker.artifacts, job.parent) if job.parent else None
    suite = replace(worker.suite, image_size=job.image_size)
    x, y, groups = _stage_data(worker, job.stage, suite)
    fit, val = holdout(y, groups, fraction=suite.protocol.validation, seed=job.seed)
    spec = _fit_spec(
        suite,
        job.backbone,
        job.backbone_options,
        job.stage,
        job.hyper,
        weights=job.weights if start is None else "none",
        seed=job.seed,
    )
    result = worker.fit(spec, Arrays(x, y, fit, val), start)
    history = {**result.history, "val_chance": [chance_accuracy(y[val])]}
    path = save_stage(worker.artifacts, job.hash, backbone_weights(result.model), history)
    return str(path), history


def run_fold_job(job: FoldJob, worker: Worker) -> FoldRecord:
    """Train the target stages on the fold's training part and score its test part once."""
    suite, cell, fold = cell_suite(worker.suite, job.cell), job.cell, job.fold
    target = load_dataset(suite.datasets[suite.target], image_size=suite.image_size)
    started = time.perf_counter()
    trained = train_fold(job, worker)
    train_seconds = time.perf_counter() - started
    proba = predict_proba(
        trained.model,
        worker.inputs(suite.target, suite.image_size),
        rows=fold.test,
        preprocessing=trained.preprocessing,
    )
    y = target.labels[fold.test]
    return FoldRecord(
        job=job.hash,
        cell=cell.id,
        factors=dict(cell.factors),
        repeat=job.repeat,
        fold=fold.fold,
        n_train=len(fold.train) + len(fold.val),
        n_val=len(fold.val),
        n_test=len(fold.test),
        threshold=trained.threshold,
        params=trained.params,
        scores=_scores(job, "test", y, proba, threshold=trained.threshold),
        samples=target.ids[fold.test].tolist(),
        y_true=y.tolist(),
        proba=proba.tolist(),
        history=trained.histories,
        val_scores=trained.val_scores,
        cost={**worker.cost(trained.model, trained.key), "train_seconds": train_seconds},
    )


def _scores(job: FoldJob, part: str, y: np.ndarray, proba: np.ndarray, *, threshold: float):
    """Metrics of one part of a fold; bad predictions are an error naming the job."""
    with _naming(job, part):
        return compute_metrics(y, proba, threshold=threshold)


@contextmanager
def _naming(job: FoldJob, part: str):
    try:
        yield
    except ValueError as exc:
        raise ValueError(f"{job.label}, {part} part: {exc}") from None


def train_fold(job: FoldJob, worker: Worker) -> FoldModel:
    """Fit the target stages on the fold's inner training part; the test part is not read.

    With ``[tuning]``, the last stage's hyperparameters are searched first on the same
    inner split, and the chosen values are returned in ``params``.
    """
    suite, cell, fold = cell_suite(worker.suite, job.cell), job.cell, job.fold
    x = worker.inputs(suite.target, suite.image_size)
    target = load_dataset(suite.datasets[suite.target], image_size=suite.image_size)
    y = target.labels
    data = Arrays(x, y, fold.train, fold.val)
    start = load_weights(worker.artifacts, job.parent) if job.parent else None
    histories, params, last = {}, {}, len(job.stages) - 1
    for index, (stage, hyper) in enumerate(job.stages):
        spec = _fit_spec(
            suite,
            cell.backbone,
            cell.backbone_options,
            stage,
            hyper,
            weights=job.weights if start is None else "none",
            seed=derive_seed(job.seed, index),
            cell=cell,
        )
        if suite.tuning is not None and index == last:
            trials = _trial_splits(job, suite.tuning, x, y, target.groups) or [data]
            params = _tune(job, worker, suite, spec, stage, hyper, trials, start)
            spec = _with_params(spec, params, suite, stage, hyper)
        result = worker.fit(spec, data, start)
        start = backbone_weights(result.model)
        histories[stage.name] = result.history
    mode = BACKBONES[cell.backbone].preprocessing
    proba_val = predict_proba(result.model, x, rows=fold.val, preprocessing=mode)
    with _naming(job, "inner validation"):
        threshold = _threshold(suite, proba_val, y[fold.val])
    return FoldModel(
        model=result.model,
        preprocessing=mode,
        threshold=threshold,
        histories=histories,
        params=params,
        val_scores=_scores(job, "inner validation", y[fold.val], proba_val, threshold=threshold),
        key=spec.key,
    )


def _trial_splits(job: FoldJob, spec: TuningSpec, x, y, groups) -> list[Arrays]:
    """With ``tuning.inner_folds = K``, K grouped stratified (fit, validation) splits of the
    outer training set (its inner split's two parts together); otherwise none."""
    if spec.inner_folds < 2:
        return []
    train = np.sort(np.concatenate([job.fold.train, job.fold.val]))
    seed = derive_seed(job.seed, "inner")
    splits = inner_folds(train, y, groups, folds=spec.inner_folds, seed=seed)
    return [Arrays(x, y, fit, val) for fit, val in splits]


def _tune(
    job: FoldJob, worker: Worker, suite: Suite, spec: FitSpec, stage, hyper, splits, start
) -> dict:
    """Optuna search over the last stage (see bench.engine.tuning). With one split, a trial
    is its best validation loss, pruned per epoch; with inner folds, the mean over folds,
    pruned after each fold."""
    import optuna

    def objective(trial, params):
        trial_spec = _with_params(spec, params, suite, stage, hyper)
        if len(splits) == 1:
            callback = tuning.PruningCallback(trial)
            result = worker.fit(trial_spec, splits[0], start, callbacks=[callback])
            if callback.pruned:
                raise optuna.TrialPruned()
            return tuning.best_loss(result.history)
        losses = []
        for step, split in enumerate(splits):
            losses.append(tuning.best_loss(worker.fit(trial_spec, split, start).history))
            trial.report(float(np.mean(losses)), step)
            if trial.should_prune():
                raise optuna.TrialPruned()
        return float(np.mean(losses))

    return tuning.search(
        study_name=job.hash,
        storage_path=suite.studies_path,
        tuning=suite.tuning,
        seed=job.seed,
        objective=objective,
    )


def _with_params(spec: FitSpec, params: dict, suite: Suite, stage, hyper) -> FitSpec:
    stage, hyper, augment = tuning.apply_params(
        params, stage=stage, hyper=hyper, augment=spec.augment
    )
    key = replace(spec.key, head=stage.head, trainable=stage.trainable)
    return replace(
        spec,
        key=key,
        learning_rate=hyper.learning_rate,
        lr_decay=hyper.lr_decay,
        epochs=hyper.epochs,
        batch_size=hyper.batch_size,
        augment=augment,
    )


def _threshold(suite: Suite, proba_val: np.ndarray, y_val: np.ndarray) -> float:
    """The decision threshold, chosen on the inner validation split only."""
    if proba_val.shape[1] != 2:
        return 0.5
    if suite.protocol.threshold == "youden":
        return youden_threshold(y_val, proba_val[:, 1]) if len(np.unique(y_val)) == 2 else 0.5
    return float(suite.protocol.threshold)


def _stage_data(
    worker: Worker, stage: StageSpec, suite: Suite | None = None
) -> tuple[Stacked | np.ndarray, np.ndarray, ...]:
    """Inputs, labels and groups of a stage (at ``suite``'s image size, default the worker's);
    with several datasets the label is the dataset index. Groups (patients, or scanners of
    origin) keep the holdout split from cutting through one patient's images."""
    suite = suite or worker.suite
    xs, ys, groups = [], [], []
    for index, name in enumerate(stage.data):
        images = load_dataset(suite.datasets[name], image_size=suite.image_size)
        xs.append(worker.inputs(name, suite.image_size))
        ys.append(images.labels if len(stage.data) == 1 else np.full(len(images.labels), index))
        groups.append(np.char.add(f"{name}:", images.groups.astype(str)))
    return (xs[0] if len(xs) == 1 else Stacked(xs)), np.concatenate(ys), np.concatenate(groups)


def _loaded(suite: Suite, names) -> dict[str, ImageSet]:
    return {name: load_dataset(suite.datasets[name], image_size=suite.image_size) for name in names}


def _fit_spec(
    suite: Suite,
    backbone: str,
    options: tuple,
    stage: StageSpec,
    hyper: TrainingSettings,
    *,
    weights: str,
    seed: int,
    cell: Cell | None = None,
) -> FitSpec:
    """Training settings of one stage; ``cell`` is given for target stages only, which get
    class balancing and, when the cell has augmentation on, their own augmentation or the
    suite's; a shared stage is augmented with its own augmentation alone."""
    key = ModelKey(
        backbone=backbone,
        options=options,
        image_size=suite.image_size,
        n_classes=len(stage_classes(stage, _loaded(suite, stage.data))),
        head=stage.head,
        trainable=stage.trainable,
        optimizer=hyper.optimizer,
        optimizer_options=hyper.optimizer_options,
        precision=suite.train.precision,
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
        preprocessing=BACKBONES[backbone].preprocessing,
        augment=stage_augmentation(suite, stage, cell),
        balance=suite.balance if cell is not None else "none",
        balance_alpha=suite.balance_mixup_alpha,
    )
