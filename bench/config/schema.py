"""The shape of a suite file, checked before anything else reads it.

Errors name the TOML key path (``datasets.target.samples_per_class``) and, for unknown
keys, the closest known key.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

from bench.errors import ConfigError

Number = (int, float)


@dataclass(frozen=True)
class Map:
    """A table whose keys are user-chosen names (datasets, strategies...)."""

    value: Any


@dataclass(frozen=True)
class ListOf:
    item: Any


@dataclass(frozen=True)
class OneOf:
    """Any of several shapes (e.g. a string or a list of strings)."""

    options: tuple


HEAD = {"dense": ListOf(int), "dropout": Number, "activation": str, "output": str}
STAGE_FIELDS = {
    "trainable": str,
    "optimizer": str,
    "learning_rate": Number,
    "lr_decay": Number,
    "epochs": int,
    "batch_size": int,
    "patience": int,
}
STAGE = {
    "name": str,
    "data": OneOf((str, ListOf(str))),
    "labels": str,
    "head": HEAD,
    **STAGE_FIELDS,
    "by_backbone": Map(STAGE_FIELDS),
}
DATASET = {
    "source": str,
    "classes": ListOf(str),
    "samples_per_class": int,
    "images_per_patient": int,
    "imbalance": Number,
    "difficulty": Number,
    "label_noise": Number,
    "seed": int,
    # file sources (bench/data/options.py says which kinds take which key)
    "resize": str,
    "channels": int,
    "tile": int,
    "on_bad_image": str,
    "patient_pattern": str,
    "include": OneOf((str, ListOf(str))),
    "images": str,
    "metadata": str,
    "path_column": str,
    "id_column": str,
    "label_column": str,
    "patient_column": str,
    "split_column": str,
    "splits": ListOf(str),
}
OPTIMIZER = {
    "learning_rate": Number,
    "momentum": Number,
    "nesterov": bool,
    "rho": Number,
    "epsilon": Number,
    "beta_1": Number,
    "beta_2": Number,
    "initial_accumulator_value": Number,
    "weight_decay": Number,
}
SCHEMA = {
    "suite": {
        "name": str,
        "description": str,
        "target": str,
        "pool": str,
        "intermediate": str,
        "seed": int,
        "image_size": int,
        "results": str,
        "reports": str,
        "backend": str,
    },
    "datasets": Map(DATASET),
    "base": {
        "weights": str,
        "pretrain": str,
        "epochs": int,
        "batch_size": int,
        "learning_rate": Number,
        "optimizer": str,
    },
    "grid": {
        "backbone": ListOf(str),
        "optimizer": ListOf(str),
        "strategy": ListOf(str),
        "augment": ListOf(bool),
        "fraction": ListOf(Number),
        "exclude": ListOf(Map(OneOf((str, bool, Number)))),
    },
    "backbones": Map({"alpha": Number, "bn_momentum": Number}),
    "optimizers": Map(OPTIMIZER),
    "train": {
        "epochs": int,
        "batch_size": int,
        "learning_rate": Number,
        "lr_decay": Number,
        "patience": int,
        "precision": str,
    },
    "strategies": Map({"description": str, "init": str, "stages": ListOf(STAGE)}),
    "protocol": {
        "folds": int,
        "repeats": int,
        "validation": Number,
        "threshold": OneOf((Number, str)),
        "leakage": str,
        "deterministic": bool,
    },
    "augmentation": {
        "rotation": Number,
        "width_shift": Number,
        "height_shift": Number,
        "brightness": ListOf(Number),
        "shear": Number,
        "zoom": Number,
        "horizontal_flip": bool,
        "vertical_flip": bool,
        "fill_mode": str,
        "mixup_alpha": Number,
    },
    "balance": {"method": str},
    "tuning": {
        "n_trials": int,
        "timeout": Number,
        "pruner": str,
        "inner_folds": int,
        "space": Map(
            {
                "type": str,
                "low": Number,
                "high": Number,
                "log": bool,
                "choices": ListOf(OneOf((str, Number))),
            }
        ),
    },
    "report": {"metrics": ListOf(str), "sort": str, "baseline": str},
    "regression": {"margins": Map(Number), "alpha": Number, "runtime_tolerance": Number},
    "profiles": Map(Map(Any)),
}


def check(raw: dict, *, file: str, schema: dict = SCHEMA) -> None:
    """Raise ConfigError for the first unknown key or mistyped value in ``raw``."""
    _check_table(raw, schema, file=file, path="")


def suggest(word: str, choices, *, prefix: str = "") -> str:
    """A '; did you mean ...?' suffix, or '' when nothing is close."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean '{prefix}{close[0]}'?" if close else ""


def _check_table(raw: Any, schema: dict, *, file: str, path: str) -> None:
    if not isinstance(raw, dict):
        raise ConfigError(f"{file}: '{path}' must be a table")
    for key, value in raw.items():
        key_path = f"{path}.{key}" if path else key
        if key not in schema:
            known = ", ".join(sorted(schema))
            hint = suggest(key, schema, prefix=f"{path}." if path else "")
            raise ConfigError(f"{file}: unknown key '{key_path}'{hint} (known here: {known})")
        _check_value(value, schema[key], file=file, path=key_path)


def _check_value(value: Any, shape: Any, *, file: str, path: str) -> None:
    if shape is Any:
        return
    if isinstance(shape, dict):
        _check_table(value, shape, file=file, path=path)
    elif isinstance(shape, Map):
        if not isinstance(value, dict):
            raise ConfigError(f"{file}: '{path}' must be a table")
        for name, item in value.items():
            _check_value(item, shape.value, file=file, path=f"{path}.{name}")
    elif isinstance(shape, ListOf):
        if not isinstance(value, list):
            raise ConfigError(f"{file}: '{path}' must be a list, got {value!r}")
        for i, item in enumerate(value):
            _check_value(item, shape.item, file=file, path=f"{path}[{i}]")
    elif isinstance(shape, OneOf):
        if not any(_fits(value, option) for option in shape.options):
            raise ConfigError(f"{file}: '{path}' has the wrong type: {value!r}")
    elif not _fits(value, shape):
        raise ConfigError(f"{file}: '{path}' must be {_type_name(shape)}, got {value!r}")


def _fits(value: Any, shape: Any) -> bool:
    if isinstance(shape, ListOf):
        return isinstance(value, list) and all(_fits(v, shape.item) for v in value)
    if shape is Number or shape == Number:
        return isinstance(value, Number) and not isinstance(value, bool)
    if shape is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, shape)


def _type_name(shape: Any) -> str:
    if shape == Number:
        return "a number"
    return {int: "an integer", str: "a string", bool: "true or false"}.get(shape, str(shape))
