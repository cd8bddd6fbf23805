"""Plan a suite: cells × repeats × folds → jobs with content hashes, without training.

Two kinds of job. A :class:`StageJob` trains a stage that does not depend on the target
fold (pretraining on built-in natural images, an intermediate medical domain, an
unlabelled pool); it runs once and every fold, repeat, cell and suite with the same hash
reuses its weights. A :class:`FoldJob` trains the trailing target stages of one cell on
one outer fold and scores the test fold once.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field, replace

import numpy as np

from bench.config.spec import Cell, HeadSpec, StageSpec, Suite
from bench.data.sources import fingerprint, load_dataset
from bench.data.splits import Fold, check_splittable, make_folds, subsample
from bench.engine.identity import DEFAULT_THREADS, environment, job_hash, weights_identity
from bench.engine.leakage import check_overlap, near_duplicates_across_folds
from bench.errors import BenchError, ConfigError
from bench.hashing import content_hash, derive_seed, jsonable
from bench.models.registry import check_backbone, check_optimizer


@dataclass(frozen=True)
class Hyper:
    """A stage's resolved training settings."""

    optimizer: str
    optimizer_options: tuple
    learning_rate: float
    lr_decay: float
    epochs: int
    batch_size: int
    patience: int


@dataclass(frozen=True)
class StageJob:
    hash: str
    backbone: str
    backbone_options: tuple
    stage: StageSpec
    hyper: Hyper
    parent: str | None  # hash of the StageJob it starts from
    weights: str  # where the backbone starts when there is no parent
    seed: int
    inputs: dict = field(default_factory=dict, compare=False, repr=False)  # what the hash covers

    @property
    def label(self) -> str:
        data = "+".join(self.stage.data)
        return f"{self.backbone}/{self.hyper.optimizer}/{self.stage.name}:{data}"


@dataclass(frozen=True)
class FoldJob:
    hash: str
    cell: Cell
    repeat: int
    fold: Fold
    stages: tuple[tuple[StageSpec, Hyper], ...]
    parent: str | None
    weights: str
    seed: int
    inputs: dict = field(default_factory=dict, compare=False, repr=False)  # what the hash covers

    @property
    def label(self) -> str:
        return f"{self.cell.id} r{self.repeat} f{self.fold.fold}"


@dataclass(frozen=True)
class Plan:
    suite: Suite
    stage_jobs: tuple[StageJob, ...]  # parents before children
    fold_jobs: tuple[FoldJob, ...]
    near_duplicates: tuple[tuple[str, str, int], ...] = ()  # (id, id, distance) across folds


def make_plan(suite: Suite, *, share_stages: bool = True, threads: int | None = None) -> Plan:
    """Check everything the grid needs and list its jobs (fails before any training).

    ``threads`` is the number of threads each job trains with (part of every job's identity).
    """
    try:
        return _plan(suite, share_stages=share_stages, threads=threads or DEFAULT_THREADS)
    except BenchError as exc:
        if str(exc).startswith(str(suite.path)):
            raise
        raise type(exc)(f"{suite.path}: {exc}") from None


def _plan(suite: Suite, *, share_stages: bool, threads: int) -> Plan:
    _check_cells(suite)
    target = load_dataset(suite.datasets[suite.target], image_size=suite.image_size)
    check_splittable(
        target.labels,
        target.groups,
        target.class_names,
        folds=suite.protocol.folds,
        dataset=suite.target,
    )
    folds = make_folds(
        target.labels,
        target.groups,
        folds=suite.protocol.folds,
        repeats=suite.protocol.repeats,
        validation=suite.protocol.validation,
        seed=suite.seed,
    )
    stage_jobs: dict[str, StageJob] = {}
    fold_jobs = []
    env = {
        **environment(threads=threads, backend=suite.backend),
        # how kernels compute: in every job's identity, not in its seed
        "train.precision": suite.train.precision,
        "protocol.deterministic": suite.protocol.deterministic,
    }
    for cell in suite.cells:
        parent, weights, target_stages = (
            _shared_stages(suite, cell, stage_jobs, env) if share_stages else (None, "none", ())
        )
        for fold in folds:
            if not share_stages:
                scope = (cell.id, fold.repeat, fold.fold)
                parent, weights, target_stages = _shared_stages(
                    suite, cell, stage_jobs, env, scope
                )
            fold_jobs.append(
                _fold_job(suite, cell, fold, target_stages, parent, weights, target, env)
            )
    _check_inner_folds(suite, fold_jobs, target)
    _guard_leakage(suite, stage_jobs.values(), _as_read(suite).images)
    return Plan(
        suite=suite,
        stage_jobs=tuple(stage_jobs.values()),
        fold_jobs=tuple(fold_jobs),
        near_duplicates=_near_duplicates(target, folds),
    )


def _check_inner_folds(suite: Suite, jobs: list, target) -> None:
    """Inner k-fold tuning needs k patients of every class in every outer training set."""
    k = suite.tuning.inner_folds if suite.tuning is not None else 1
    if k < 2:
        return
    for job in jobs:
        train = np.concatenate([job.fold.train, job.fold.val])
        for index, name in enumerate(target.class_names):
            patients = len(np.unique(target.groups[train][target.labels[train] == index]))
            if patients < k:
                raise ConfigError(
                    f"'tuning.inner_folds' = {k}, but class '{name}' has {patients} patient(s) "
                    f"in the training part of {job.label}; lower tuning.inner_folds"
                )


def _near_duplicates(target, folds: list[Fold]) -> tuple[tuple[str, str, int], ...]:
    """Look-alike target images that the first repeat puts in different outer folds."""
    fold_of = np.empty(len(target.labels), dtype=int)
    for fold in folds:
        if fold.repeat == 0:
            fold_of[fold.test] = fold.fold
    pairs = near_duplicates_across_folds(target.images, fold_of)
    return tuple((str(target.ids[i]), str(target.ids[j]), d) for i, j, d in pairs)


def _guard_leakage(suite: Suite, jobs, target_images: np.ndarray) -> None:
    """Refuse earlier stages whose data contains target images (see bench.engine.leakage)."""
    checked = set()
    for job in jobs:
        for name in job.stage.data:
            if name in checked:
                continue
            checked.add(name)
            images = load_dataset(suite.datasets[name], image_size=suite.image_size).images
            message = check_overlap(
                target=suite.target,
                target_images=target_images,
                stage=job.stage.name,
                dataset=name,
                images=images,
                policy=suite.protocol.leakage,
            )
            if message:
                warnings.warn(message, LeakageWarning, stacklevel=2)


def _as_read(suite: Suite):
    """The target's images before ``[preprocess]``: earlier stages' data are compared with
    what was read, so a segmented target still matches its unsegmented copies."""
    spec = suite.datasets[suite.target]
    return load_dataset(replace(spec, segment="none"), image_size=suite.image_size)


class LeakageWarning(UserWarning):
    """Earlier-stage data shares images with the target; the user chose to go on."""


def _check_cells(suite: Suite) -> None:
    for cell in suite.cells:
        check_backbone(
            cell.backbone, image_size=suite.image_size, options=dict(cell.backbone_options)
        )
        check_optimizer(cell.optimizer, options=dict(cell.optimizer_options))
        for stage in cell.strategy.stages:
            _check_stage(suite, cell, stage)


def _check_stage(suite: Suite, cell: Cell, stage: StageSpec) -> None:
    where = f"strategies.{cell.strategy.name}.stages '{stage.name}'"
    if stage.optimizer:
        check_optimizer(
            stage.optimizer,
            options=dict(suite.optimizers.get(stage.optimizer, ())),
            key=f"{where}.optimizer",
        )
    if len(stage.data) > 1 and stage.labels != "origin":
        raise ConfigError(f'{where}: several datasets need labels = "origin" (pseudo-labels)')
    if stage.head.output == "sigmoid" and _n_classes(suite, stage) != 2:
        raise ConfigError(f'{where}: a sigmoid head needs a binary task; use output = "softmax"')


def _shared_stages(
    suite: Suite, cell: Cell, jobs: dict, env: dict, scope: tuple = ()
) -> tuple[str | None, str, tuple]:
    """Register the cell's fold-independent stages; return where target stages start.

    A non-empty ``scope`` makes the stages private to it (used only to measure what sharing
    saves: ``bench run --no-reuse`` retrains them for every fold).
    """
    parent, weights = (
        _base(suite, cell, jobs, env, scope) if cell.strategy.init == "base" else (None, "none")
    )
    stages = cell.strategy.stages
    first_target = next((i for i, s in enumerate(stages) if suite.target in s.data), None)
    if first_target is None or any(suite.target not in s.data for s in stages[first_target:]):
        raise ConfigError(
            f"strategies.{cell.strategy.name}: the last stages must train on the target "
            f"dataset '{suite.target}' (stages before them may use other data)"
        )
    for stage in stages[:first_target]:
        job = _stage_job(
            suite,
            cell.backbone,
            cell.backbone_options,
            stage,
            _hyper(suite, cell, stage),
            parent,
            weights,
            env,
            scope,
        )
        jobs.setdefault(job.hash, job)
        parent = job.hash
    resolved = tuple((s, _hyper(suite, cell, s)) for s in stages[first_target:])
    return parent, weights, resolved


def _base(suite: Suite, cell: Cell, jobs: dict, env: dict, scope: tuple) -> tuple[str | None, str]:
    base = suite.base
    if base.pretrain is None:
        return None, base.weights
    stage = StageSpec(name="pretrain", data=(base.pretrain,), head=HeadSpec(), trainable="all")
    hyper = Hyper(
        optimizer=base.optimizer,
        optimizer_options=suite.optimizers.get(base.optimizer, ()),
        learning_rate=base.learning_rate,
        lr_decay=suite.train.lr_decay,
        epochs=base.epochs,
        batch_size=base.batch_size,
        patience=suite.train.patience,
    )
    job = _stage_job(
        suite, cell.backbone, cell.backbone_options, stage, hyper, None, base.weights, env, scope
    )
    jobs.setdefault(job.hash, job)
    return job.hash, base.weights


def _stage_job(suite, backbone, options, stage, hyper, parent, weights, env, scope) -> StageJob:
    settings = {
        "job": "stage",
        "grid.backbone": backbone,
        f"backbones.{backbone}": dict(options),
        "suite.image_size": suite.image_size,
        "stage": stage,
        "training": hyper,
        **_data(suite, stage.data),
        "protocol.validation": suite.protocol.validation,
        "start": parent or weights_identity(weights),
        "suite.seed": suite.seed,
    }
    seed = derive_seed(suite.seed, content_hash(settings))  # a private copy trains the same
    inputs = _canonical({**settings, "environment": env, **({"private": scope} if scope else {})})
    return StageJob(
        hash=job_hash(inputs),
        backbone=backbone,
        backbone_options=options,
        stage=stage,
        hyper=hyper,
        parent=parent,
        weights=weights,
        seed=seed,
        inputs=inputs,
    )


def _fold_job(suite, cell, fold, stages, parent, weights, target, env) -> FoldJob:
    fold = _labelled_fraction(fold, cell.fraction, target, seed=suite.seed)
    split = [target.ids[part].tolist() for part in (fold.train, fold.val, fold.test)]
    seed = derive_seed(suite.seed, cell.id, fold.repeat, fold.fold)
    inputs = _canonical(
        {
            "job": "fold",
            "cell": cell.id,
            "grid.backbone": cell.backbone,
            f"backbones.{cell.backbone}": dict(cell.backbone_options),
            "suite.image_size": suite.image_size,
            "stages": [{"stage": stage, "training": hyper} for stage, hyper in stages],
            **_data(suite, (suite.target,)),
            "protocol.folds": suite.protocol.folds,
            "protocol.validation": suite.protocol.validation,
            "split": content_hash(split),
            "start": parent or weights_identity(weights),
            "protocol.threshold": suite.protocol.threshold,
            "augmentation": suite.augmentation if cell.augment else None,
            "balance.method": suite.balance,
            **_mixup_balance(suite),
            "tuning": suite.tuning,
            "suite.seed": suite.seed,
            "seed": seed,
            "environment": env,
        }
    )
    return FoldJob(
        hash=job_hash(inputs),
        cell=cell,
        repeat=fold.repeat,
        fold=fold,
        stages=stages,
        parent=parent,
        weights=weights,
        seed=seed,
        inputs=inputs,
    )


def _data(suite: Suite, names) -> dict[str, str]:
    """The fingerprint of each dataset a job reads, under its suite key."""
    return {
        f"datasets.{name}": fingerprint(suite.datasets[name], image_size=suite.image_size)
        for name in names
    }


def _mixup_balance(suite: Suite) -> dict:
    """MixUp balancing's alpha, only where it is read (other methods keep their hashes)."""
    return {"balance.mixup_alpha": suite.balance_mixup_alpha} if suite.balance == "mixup" else {}


def _canonical(inputs: dict) -> dict:
    """Inputs as plain JSON values (dataclasses as tables), as they are stored and compared."""
    return json.loads(json.dumps(inputs, default=jsonable))


def _labelled_fraction(fold: Fold, fraction: float, target, *, seed: int) -> Fold:
    """The fold with only ``fraction`` of its training patients (the test part untouched)."""
    if fraction >= 1:
        return fold
    pick = derive_seed(seed, "fraction", fold.repeat, fold.fold)
    kept = [
        subsample(part, target.labels, target.groups, fraction=fraction, seed=pick)
        for part in (fold.train, fold.val)
    ]
    return Fold(repeat=fold.repeat, fold=fold.fold, train=kept[0], val=kept[1], test=fold.test)


def _target_regime(suite: Suite, cell: Cell) -> list:
    """What else shapes target training: augmentation (when on), balancing and tuning."""
    return [suite.augmentation if cell.augment else None, suite.balance, suite.tuning]


def _hyper(suite: Suite, cell: Cell, stage: StageSpec) -> Hyper:
    optimizer = stage.optimizer or cell.optimizer
    options = dict(suite.optimizers.get(optimizer, ()))
    train = suite.train
    return Hyper(
        optimizer=optimizer,
        optimizer_options=tuple(sorted(options.items())),
        learning_rate=stage.learning_rate or options.get("learning_rate", train.learning_rate),
        lr_decay=stage.lr_decay or train.lr_decay,
        epochs=stage.epochs or train.epochs,
        batch_size=stage.batch_size or train.batch_size,
        patience=stage.patience or train.patience,
    )


def stage_classes(suite: Suite, stage: StageSpec) -> tuple[str, ...]:
    """Class names a stage predicts: the dataset's classes, or its origins."""
    if stage.labels == "origin" and len(stage.data) > 1:
        return stage.data
    return load_dataset(suite.datasets[stage.data[0]], image_size=suite.image_size).class_names


def _n_classes(suite: Suite, stage: StageSpec) -> int:
    return len(stage_classes(suite, stage))
