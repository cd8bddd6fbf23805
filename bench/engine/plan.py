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
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from bench.config.axes import cell_suite
from bench.config.spec import AugmentSpec, Cell, HeadSpec, StageSpec, Suite
from bench.data.splits import Fold, check_splittable, make_folds, subsample
from bench.engine.catalog import Catalog, DataEntry, read_catalog, stage_classes
from bench.engine.identity import DEFAULT_THREADS, environment, job_hash, weights_identity
from bench.engine.leakage import check_overlap, near_duplicates_across_folds
from bench.errors import BenchError, ConfigError
from bench.hashing import content_hash, derive_seed, jsonable
from bench.models.registry import check_backbone, check_optimizer


@dataclass(frozen=True)
class TrainingSettings:
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
    hyper: TrainingSettings
    parent: str | None  # hash of the StageJob it starts from
    weights: str  # where the backbone starts when there is no parent
    seed: int
    image_size: int
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
    stages: tuple[tuple[StageSpec, TrainingSettings], ...]
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


def make_plan(
    suite: Suite,
    catalog: Catalog | None = None,
    *,
    share_stages: bool = True,
    threads: int | None = None,
) -> Plan:
    """Check everything the grid needs and list its jobs (fails before any training).

    Planning reads nothing: every dataset comes from ``catalog`` (by default the suite's,
    :func:`~bench.engine.catalog.read_catalog`). ``threads`` is the number of threads each
    job trains with (part of every job's identity).
    """
    try:
        catalog = read_catalog(suite) if catalog is None else catalog
        threads = threads or DEFAULT_THREADS
        return _plan(suite, catalog, share_stages=share_stages, threads=threads)
    except BenchError as exc:
        if str(exc).startswith(str(suite.path)):
            raise
        raise type(exc)(f"{suite.path}: {exc}") from None


def _plan(suite: Suite, catalog: Catalog, *, share_stages: bool, threads: int) -> Plan:
    _check_cells(suite, catalog)
    target = catalog[suite.target]
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
            _shared_stages(suite, catalog, cell, stage_jobs, env)
            if share_stages
            else (None, "none", ())
        )
        for fold in folds:
            if not share_stages:
                scope = (cell.id, fold.repeat, fold.fold)
                parent, weights, target_stages = _shared_stages(
                    suite, catalog, cell, stage_jobs, env, scope
                )
            fold_jobs.append(
                _fold_job(
                    cell_suite(suite, cell),
                    catalog,
                    cell,
                    fold,
                    target_stages,
                    parent,
                    weights,
                    env,
                )
            )
    _check_inner_folds(suite, fold_jobs, target)
    _guard_leakage(suite, catalog, stage_jobs.values())
    return Plan(
        suite=suite,
        stage_jobs=tuple(stage_jobs.values()),
        fold_jobs=tuple(fold_jobs),
        near_duplicates=_near_duplicates(target, folds),
    )


def _check_inner_folds(suite: Suite, jobs: list, target: DataEntry) -> None:
    """Inner k-fold tuning needs k patients of every class in every outer training set."""
    for job in jobs:
        tuning = cell_suite(suite, job.cell).tuning
        k = tuning.inner_folds if tuning is not None else 1
        if k < 2:
            continue
        train = np.concatenate([job.fold.train, job.fold.val])
        for index, name in enumerate(target.class_names):
            patients = len(np.unique(target.groups[train][target.labels[train] == index]))
            if patients < k:
                raise ConfigError(
                    f"'tuning.inner_folds' = {k}, but class '{name}' has {patients} patient(s) "
                    f"in the training part of {job.label}; lower tuning.inner_folds"
                )


def _near_duplicates(target: DataEntry, folds: list[Fold]) -> tuple[tuple[str, str, int], ...]:
    """Look-alike target images that the first repeat puts in different outer folds (none
    looked for when the catalog holds no difference hashes)."""
    if target.difference_hashes is None:
        return ()
    fold_of = np.empty(len(target.labels), dtype=int)
    for fold in folds:
        if fold.repeat == 0:
            fold_of[fold.test] = fold.fold
    pairs = near_duplicates_across_folds(target.difference_hashes, fold_of)
    return tuple((str(target.ids[i]), str(target.ids[j]), d) for i, j, d in pairs)


def _guard_leakage(suite: Suite, catalog: Catalog, jobs: Iterable[StageJob]) -> None:
    """Refuse earlier stages whose data contains target images (see bench.engine.leakage)."""
    checked = set()
    for job in jobs:
        for name in job.stage.data:
            if name in checked:
                continue
            checked.add(name)
            message = check_overlap(
                target=suite.target,
                target_hashes=catalog[suite.target].image_hashes,
                stage=job.stage.name,
                dataset=name,
                hashes=catalog[name].image_hashes,
                policy=suite.protocol.leakage,
            )
            if message:
                warnings.warn(message, LeakageWarning, stacklevel=2)


class LeakageWarning(UserWarning):
    """Earlier-stage data shares images with the target; the user chose to go on."""


def _check_cells(suite: Suite, catalog: Catalog) -> None:
    for cell in suite.cells:
        check_backbone(
            cell.backbone,
            image_size=cell_suite(suite, cell).image_size,
            options=dict(cell.backbone_options),
        )
        check_optimizer(cell.optimizer, options=dict(cell.optimizer_options))
        for stage in cell.strategy.stages:
            _check_stage(suite, catalog, cell, stage)


def _check_stage(suite: Suite, catalog: Catalog, cell: Cell, stage: StageSpec) -> None:
    where = f"strategies.{cell.strategy.name}.stages '{stage.name}'"
    if stage.optimizer:
        check_optimizer(
            stage.optimizer,
            options=dict(suite.optimizers.get(stage.optimizer, ())),
            key=f"{where}.optimizer",
        )
    if len(stage.data) > 1 and stage.labels != "origin":
        raise ConfigError(f'{where}: several datasets need labels = "origin" (pseudo-labels)')
    if stage.head.output == "sigmoid" and len(stage_classes(stage, catalog)) != 2:
        raise ConfigError(f'{where}: a sigmoid head needs a binary task; use output = "softmax"')


def _shared_stages(
    suite: Suite, catalog: Catalog, cell: Cell, jobs: dict, env: dict, scope: tuple = ()
) -> tuple[str | None, str, tuple]:
    """Register the cell's fold-independent stages; return where target stages start.

    A non-empty ``scope`` makes the stages private to it (used only to measure what sharing
    saves: ``bench run --no-reuse`` retrains them for every fold). Shared stages see the
    cell's setting axes except the target-only ones (bench/config/axes.py).
    """
    shared = cell_suite(suite, cell, shared=True)
    parent, weights = (
        _base(shared, catalog, cell, jobs, env, scope)
        if cell.strategy.init == "base"
        else (None, "none")
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
            shared,
            catalog,
            cell.backbone,
            cell.backbone_options,
            stage,
            stage_settings(shared, cell, stage),
            parent,
            weights,
            env,
            scope,
            parent_seed=jobs[parent].seed if parent else None,
        )
        jobs.setdefault(job.hash, job)
        parent = job.hash
    own = cell_suite(suite, cell)
    resolved = tuple((s, stage_settings(own, cell, s)) for s in stages[first_target:])
    return parent, weights, resolved


def _base(
    suite: Suite, catalog: Catalog, cell: Cell, jobs: dict, env: dict, scope: tuple
) -> tuple[str | None, str]:
    base = suite.base
    if base.pretrain is None:
        return None, base.weights
    stage, hyper = pretrain_stage(suite)
    job = _stage_job(
        suite,
        catalog,
        cell.backbone,
        cell.backbone_options,
        stage,
        hyper,
        None,
        base.weights,
        env,
        scope,
    )
    jobs.setdefault(job.hash, job)
    return job.hash, base.weights


def pretrain_stage(suite: Suite) -> tuple[StageSpec, TrainingSettings]:
    """The ``[base]`` pretraining stage (when ``base.pretrain`` is set) and its settings."""
    base = suite.base
    assert base.pretrain is not None, "only a suite with [base] pretrain has this stage"
    stage = StageSpec(name="pretrain", data=(base.pretrain,), head=HeadSpec())
    hyper = TrainingSettings(
        optimizer=base.optimizer,
        optimizer_options=suite.optimizers.get(base.optimizer, ()),
        learning_rate=base.learning_rate,
        lr_decay=suite.train.lr_decay,
        epochs=base.epochs,
        batch_size=base.batch_size,
        patience=suite.train.patience,
    )
    return stage, hyper


def _stage_job(
    suite: Suite,
    catalog: Catalog,
    backbone: str,
    options: tuple,
    stage: StageSpec,
    hyper: TrainingSettings,
    parent: str | None,
    weights: str,
    env: dict,
    scope: tuple,
    *,
    parent_seed: int | None = None,
) -> StageJob:
    settings = {
        "job": "stage",
        "grid.backbone": backbone,
        f"backbones.{backbone}": dict(options),
        "suite.image_size": suite.image_size,
        "stage": stage,
        "training": hyper,
        **_own_augmentation(stage.augmentation),
        **_data(suite, catalog, stage.data),
        "protocol.validation": suite.protocol.validation,
        "start": parent or weights_identity(weights),
        "suite.seed": suite.seed,
    }
    # from settings only: the parent by its seed, not by its hash (which holds the code
    # version), so a code edit retrains a stage chain without changing its numbers; a private
    # copy (--no-reuse) trains the same
    start = weights_identity(weights) if parent is None else parent_seed
    seed = derive_seed(suite.seed, content_hash({**settings, "start": start}))
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
        image_size=suite.image_size,
        inputs=inputs,
    )


def _fold_job(
    suite: Suite,
    catalog: Catalog,
    cell: Cell,
    fold: Fold,
    stages: tuple[tuple[StageSpec, TrainingSettings], ...],
    parent: str | None,
    weights: str,
    env: dict,
) -> FoldJob:
    target = catalog[suite.target]
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
            "stages": [_target_stage(cell, stage, hyper) for stage, hyper in stages],
            **_data(suite, catalog, (suite.target,)),
            "protocol.folds": suite.protocol.folds,
            "protocol.validation": suite.protocol.validation,
            "split": content_hash(split),
            "start": parent or weights_identity(weights),
            "protocol.threshold": suite.protocol.threshold,
            "augmentation": _suite_augmentation(suite, cell, stages),
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


def stage_augmentation(
    suite: Suite, stage: StageSpec, cell: Cell | None = None
) -> AugmentSpec | None:
    """What a stage's training batches are augmented with: a shared stage (``cell`` None)
    its own table, if any; a target stage of a cell with augmentation on its own table, else
    ``[augmentation]``; a target stage of a cell with augmentation off nothing."""
    if cell is None:
        return stage.augmentation
    if not cell.augment:
        return None
    return suite.augmentation if stage.augmentation is None else stage.augmentation


def _own_augmentation(spec: AugmentSpec | None) -> dict:
    """A stage's own augmentation in its job's inputs, only where it is read (stages without
    one keep their hashes)."""
    return {"augmentation": spec} if spec is not None else {}


def _target_stage(cell: Cell, stage: StageSpec, hyper: TrainingSettings) -> dict:
    own = stage.augmentation if cell.augment else None
    return {"stage": stage, "training": hyper, **_own_augmentation(own)}


def _suite_augmentation(suite: Suite, cell: Cell, stages: tuple) -> AugmentSpec | None:
    """``[augmentation]`` where it reaches a target stage of the cell (one without its own)."""
    reads = cell.augment and any(stage.augmentation is None for stage, _ in stages)
    return suite.augmentation if reads else None


def _data(suite: Suite, catalog: Catalog, names: Iterable[str]) -> dict[str, str]:
    """The fingerprint of each dataset a job reads at its image size, under its suite key."""
    return {f"datasets.{name}": catalog[name].fingerprint_at(suite.image_size) for name in names}


def _mixup_balance(suite: Suite) -> dict:
    """MixUp balancing's alpha, only where it is read (other methods keep their hashes)."""
    return {"balance.mixup_alpha": suite.balance_mixup_alpha} if suite.balance == "mixup" else {}


def _canonical(inputs: dict) -> dict:
    """Inputs as plain JSON values (dataclasses as tables), as they are stored and compared."""
    return json.loads(json.dumps(inputs, default=jsonable))


def _labelled_fraction(fold: Fold, fraction: float, target: DataEntry, *, seed: int) -> Fold:
    """The fold with only ``fraction`` of its training patients (the test part untouched)."""
    if fraction >= 1:
        return fold
    pick = derive_seed(seed, "fraction", fold.repeat, fold.fold)
    kept = [
        subsample(part, target.labels, target.groups, fraction=fraction, seed=pick)
        for part in (fold.train, fold.val)
    ]
    return Fold(repeat=fold.repeat, fold=fold.fold, train=kept[0], val=kept[1], test=fold.test)


def stage_settings(suite: Suite, cell: Cell, stage: StageSpec) -> TrainingSettings:
    """A stage's effective settings: its own, else its optimizer's, else ``[train]``."""
    optimizer = stage.optimizer or cell.optimizer
    options = dict(suite.optimizers.get(optimizer, ()))
    train = suite.train
    return TrainingSettings(
        optimizer=optimizer,
        optimizer_options=tuple(sorted(options.items())),
        learning_rate=stage.learning_rate or options.get("learning_rate", train.learning_rate),
        lr_decay=stage.lr_decay or train.lr_decay,
        epochs=stage.epochs or train.epochs,
        batch_size=stage.batch_size or train.batch_size,
        patience=train.patience if stage.patience is None else stage.patience,
    )
