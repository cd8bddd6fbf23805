"""The resolved plan: every cell's stages with the settings they train with, read from the
suite alone (no data folder is opened, no model built).

``bench validate --format json`` prints it, and the conformance check
(:mod:`bench.engine.conformance`) holds it against a protocol card. Settings are resolved
as the jobs resolve them (:func:`bench.engine.plan.stage_settings`); trainable rules become the
layer counts they give on each backbone, counted as Keras counts ``model.layers`` (the
backbone's own input and pooling layers included, then the head's layers).
"""

from __future__ import annotations

from dataclasses import asdict, fields

from bench.config.axes import cell_suite
from bench.config.spec import AugmentSpec, Cell, StageSpec, Suite
from bench.engine.plan import (
    TrainingSettings,
    pretrain_stage,
    stage_augmentation,
    stage_settings,
)
from bench.models.registry import (
    BACKBONES,
    check_backbone,
    check_optimizer,
    head_layers,
)

NOT_TRANSFORMS = ("fill_mode",)  # how transforms fill, not a transform of its own


def resolve_plan(suite: Suite) -> dict:
    """The suite's settings and, per cell, its stages' effective settings (JSON values)."""
    for cell in suite.cells:
        options = dict(cell.backbone_options)
        size = cell_suite(suite, cell).image_size
        check_backbone(cell.backbone, image_size=size, options=options)
        check_optimizer(cell.optimizer, options=dict(cell.optimizer_options))
    return {
        "suite": suite.name,
        "profile": suite.profile,
        "hash": suite.hash,
        "target": suite.target,
        "protocol": suite.card,
        "deviations": dict(suite.deviations),
        "settings": suite_settings(suite),
        "tuning": asdict(suite.tuning) if suite.tuning else None,  # searched in the last stage
        "cells": [_cell(suite, cell) for cell in suite.cells],
    }


def suite_settings(suite: Suite) -> dict:
    """Suite-wide settings under their suite keys; ``grid.X``: the levels of each grid axis."""
    settings = {
        "suite.image_size": suite.image_size,
        "protocol.folds": suite.protocol.folds,
        "protocol.repeats": suite.protocol.repeats,
        "protocol.validation": suite.protocol.validation,
        "protocol.threshold": suite.protocol.threshold,
        "base.weights": suite.base.weights,
        "base.pretrain": suite.base.pretrain,
        "balance.method": suite.balance,
        "preprocess.segment": suite.datasets[suite.target].segment,
        "train.precision": suite.train.precision,
        "report.metrics": list(suite.report.metrics),
        **{f"augmentation.{k}": v for k, v in _plain(suite.augmentation).items()},
    }
    for factor in dict.fromkeys([*TYPED_AXES, *suite.factors]):  # every cell has the typed ones
        levels = [_level(cell, factor) for cell in suite.cells]
        settings[f"grid.{factor}"] = list(dict.fromkeys(levels))
    return settings


def augmentation_transforms(spec: AugmentSpec | None) -> list[str]:
    """The transforms a stage's training batches get, by name (sorted); [] for none."""
    if spec is None:
        return []
    default = AugmentSpec()
    return sorted(
        f.name
        for f in fields(spec)
        if f.name not in NOT_TRANSFORMS and getattr(spec, f.name) != getattr(default, f.name)
    )


def _cell(suite: Suite, cell: Cell) -> dict:
    """The cell's stages as the planner resolves them: with its setting axes applied, the
    target-only ones to its target stages alone (bench/config/axes.py)."""
    own, shared = cell_suite(suite, cell), cell_suite(suite, cell, shared=True)
    stages = []
    if cell.strategy.init == "base" and shared.base.pretrain is not None:
        stage, hyper = pretrain_stage(shared)
        stages.append(_stage(shared, cell, stage, hyper, target=False))
    for stage in cell.strategy.stages:
        target = suite.target in stage.data
        view = own if target else shared
        stages.append(_stage(view, cell, stage, stage_settings(view, cell, stage), target=target))
    return {
        "id": cell.id,
        "factors": dict(cell.factors),
        "backbone": cell.backbone,
        "backbone_options": dict(cell.backbone_options),
        "optimizer": cell.optimizer,
        "strategy": cell.strategy.name,
        "init": cell.strategy.init,
        "augment": cell.augment,
        "fraction": cell.fraction,
        "stages": stages,
    }


def _stage(
    suite: Suite, cell: Cell, stage: StageSpec, hyper: TrainingSettings, *, target: bool
) -> dict:
    """One stage as it trains: shared stages (not on the target) are never balanced, and
    augmented with their own augmentation alone, as :func:`bench.engine.jobs._fit_spec`
    trains them."""
    layers = BACKBONES[cell.backbone].layers
    trained = sum(stage.trainable.flags(layers))
    head = head_layers(stage.head)
    augment = stage_augmentation(suite, stage, cell if target else None)
    return {
        "name": stage.name,
        "data": list(stage.data),
        "shared": not target,
        "labels": stage.labels,
        "trainable": str(stage.trainable),
        "backbone_layers": layers,
        "trainable_backbone_layers": trained,
        "head_layers": head,
        "trainable_layers": trained + head,
        "total_layers": layers + head,
        "optimizer": hyper.optimizer,
        "optimizer_options": dict(hyper.optimizer_options),
        "learning_rate": hyper.learning_rate,
        "lr_decay": hyper.lr_decay,
        "schedule": f"learning_rate × {hyper.lr_decay:g}^epoch",
        "epochs": hyper.epochs,
        "batch_size": hyper.batch_size,
        "patience": hyper.patience,
        "early_stopping": hyper.patience > 0,
        "head": _plain(stage.head),
        "augmentation": augmentation_transforms(augment),
        "augmentation_settings": _plain(augment) if augment else None,
        "balance": suite.balance if target else "none",
        "precision": suite.train.precision,
        "image_size": suite.image_size,
        "folds": suite.protocol.folds,
        "repeats": suite.protocol.repeats,
    }


def _plain(spec) -> dict:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(spec).items()}


TYPED_AXES = {
    "backbone": lambda cell: cell.backbone,
    "optimizer": lambda cell: cell.optimizer,
    "strategy": lambda cell: cell.strategy.name,
    "augment": lambda cell: cell.augment,
    "fraction": lambda cell: cell.fraction,
}


def _level(cell: Cell, factor: str):
    """A cell's level of a grid axis as the suite wrote it (cell ids hold it as text)."""
    if factor in TYPED_AXES:
        return TYPED_AXES[factor](cell)
    text = dict(cell.factors)[factor]
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text
