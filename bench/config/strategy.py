"""Strategies as data: the built-ins and their resolution into stage specs for one backbone."""

from __future__ import annotations

import tomllib
from importlib import resources

from bench.config.spec import AugmentSpec, HeadSpec, StageSpec, StrategySpec
from bench.config.trainable import parse_trainable


def builtin_strategies() -> dict[str, dict]:
    """The built-in strategies of ``strategies.toml``, as raw tables."""
    text = resources.files("bench.config").joinpath("strategies.toml").read_text()
    return tomllib.loads(text)


def resolve_strategy(table: dict, *, backbone: str) -> StrategySpec:
    """Turn a checked strategy table into specs, applying ``by_backbone`` overrides."""
    stages = tuple(_stage_spec(stage, backbone=backbone) for stage in table["stages"])
    return StrategySpec(
        name=table["name"], init=table["init"], stages=stages, description=table["description"]
    )


def _stage_spec(stage: dict, *, backbone: str) -> StageSpec:
    fields = {k: v for k, v in stage.items() if k not in ("head", "by_backbone")}
    fields.update(stage.get("by_backbone", {}).get(backbone, {}))
    if "trainable" in fields:
        fields["trainable"] = parse_trainable(fields["trainable"])
    if "augmentation" in fields:
        fields["augmentation"] = augment_spec(fields["augmentation"])
    head = stage.get("head", {})
    head_spec = HeadSpec(
        dense=tuple(head.get("dense", ())),
        dropout=float(head.get("dropout", 0.0)),
        activation=head.get("activation", "relu"),
        output=head.get("output", "softmax"),
    )
    return StageSpec(head=head_spec, **fields)


def augment_spec(table: dict) -> AugmentSpec:
    """A checked augmentation table (``[augmentation]`` or a stage's own) as a spec."""
    fields = dict(table)
    if "brightness" in fields:
        fields["brightness"] = tuple(fields["brightness"])
    return AugmentSpec(**fields)
