"""The shape of a suite file, checked before anything else reads it.

Every leaf is a :class:`Field`: a type and the rule its values obey (a range, a set of
choices, a pattern). Errors name the TOML key path (``datasets.target.samples_per_class``),
the value and the rule; unknown keys get the closest known key. ``[profiles.NAME]`` tables
are partial suites and are checked against the same schema under their own path.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, get_args

from bench.backend import BACKENDS, PRECISIONS
from bench.config import trainable
from bench.config.spec import (
    Activation,
    BalanceMethod,
    ExplainMethod,
    FillMode,
    Init,
    LabelMode,
    Leakage,
    Output,
    ParamKind,
    Pruner,
    SegmentMethod,
    SegmentOutput,
)
from bench.errors import ConfigError

Number = (int, float)


@dataclass(frozen=True)
class Map:
    """A table whose keys are user-chosen names (datasets, strategies...)."""

    value: Any


class Axes(dict):
    """``[grid]``: its named axes, and dotted keys naming a scalar setting swept as an axis
    (``"train.learning_rate" = [1e-4, 1e-3]``), each value checked by that setting's rule."""


@dataclass(frozen=True)
class ListOf:
    item: Any


@dataclass(frozen=True)
class OneOf:
    """Any of several shapes (e.g. a string or a list of strings)."""

    options: tuple


@dataclass(frozen=True)
class Range:
    """``low <= value <= high`` (either bound optional, either end open)."""

    low: float | None = None
    high: float | None = None
    open_low: bool = False
    open_high: bool = False
    text: str = ""  # the rule in words, where the bounds alone would mislead

    def admits(self, value: Any) -> bool:
        above = self.low is None or (value > self.low if self.open_low else value >= self.low)
        below = self.high is None or (value < self.high if self.open_high else value <= self.high)
        return above and below

    def __str__(self) -> str:
        if self.text:
            return self.text
        if self.high is None and self.low == 0 and self.open_low:
            return "positive"
        if self.high is None:
            return f"{'greater than' if self.open_low else 'at least'} {self.low:g}"
        if self.low is None:
            return f"{'less than' if self.open_high else 'at most'} {self.high:g}"
        left, right = "(" if self.open_low else "[", ")" if self.open_high else "]"
        return f"in {left}{self.low:g}, {self.high:g}{right}"


@dataclass(frozen=True)
class Choice:
    """One of a fixed set; ``values`` may be a function, for sets owned by another module."""

    values: tuple | Callable[[], tuple]

    def options(self) -> tuple:
        return self.values() if callable(self.values) else self.values

    def admits(self, value: Any) -> bool:
        return value in self.options()

    def __str__(self) -> str:
        return "one of " + ", ".join(_show(v) for v in self.options())


@dataclass(frozen=True)
class Pattern:
    """A string matching ``regex`` in full; ``text`` tells how to write one."""

    regex: str
    text: str

    def admits(self, value: Any) -> bool:
        return re.fullmatch(self.regex, value) is not None

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class Regex:
    """A string that compiles as a Python regular expression."""

    def admits(self, value: Any) -> bool:
        try:
            re.compile(value)
        except re.error:
            return False
        return True

    def __str__(self) -> str:
        return "a valid regular expression"


@dataclass(frozen=True)
class Anything:
    """Any value of the field's type (free text, search bounds checked against each other)."""

    def admits(self, value: Any) -> bool:
        return True

    def __str__(self) -> str:
        return "anything"


@dataclass(frozen=True)
class Field:
    """A leaf key: its type (int, float: any number, str, bool) and the rule of its values.

    Only booleans may omit the rule; free text says so with :data:`ANY`.
    """

    type: type
    rule: Range | Choice | Pattern | Regex | Anything | None = None

    def __post_init__(self):
        if self.rule is None and self.type is not bool:
            raise TypeError(f"a {self.type.__name__} field must declare its rule")

    def fits(self, value: Any) -> bool:
        if isinstance(value, bool):
            return self.type is bool
        if self.type is float:
            return isinstance(value, Number)
        return isinstance(value, self.type)

    def admits(self, value: Any) -> bool:
        return self.rule is None or self.rule.admits(value)


def _metric_names() -> tuple[str, ...]:
    from bench.metrics import ALL_METRICS

    return ALL_METRICS


ANY = Anything()
NAME = Field(str, Pattern(r"(?s).*\S.*", "a non-empty string"))
TEXT = Field(str, ANY)
BOOL = Field(bool)
POSITIVE = Field(float, Range(0, open_low=True))
TRACKING_URI = Field(
    str,
    Pattern(
        r"[A-Za-z][A-Za-z0-9+.-]*:\S+",
        "a tracking URI such as file:./mlruns, sqlite:///mlflow.db or http://host:5000",
    ),
)
NON_NEGATIVE = Field(float, Range(0))
COUNT = Field(int, Range(1))
SEED = Field(int, Range(0))
PORTION = Field(float, Range(0, 1, open_low=True))  # a per-epoch decay factor, a share of data
FRACTION = Field(float, Range(0, 1, open_low=True, open_high=True))
SHARE = Field(float, Range(0, 1, open_high=True))  # 0 allowed: off
PROBABILITY = Field(float, Range(0, 1))
METRIC = Field(str, Choice(_metric_names))

OUTPUTS = get_args(Output)
LABEL_MODES = get_args(LabelMode)
ACTIVATIONS = get_args(Activation)
TRAINABLE = Pattern(trainable.SYNTAX.pattern, trainable.FORMS)
RESIZE_MODES = ("stretch", "pad")
BAD_IMAGE_MODES = ("error", "skip")
FILL_MODES = get_args(FillMode)
SEGMENT_METHODS = get_args(SegmentMethod)  # bench.data.segment
SEGMENT_OUTPUTS = get_args(SegmentOutput)
BALANCE_METHODS = get_args(BalanceMethod)
PRUNERS = get_args(Pruner)
EXPLAIN_METHODS = get_args(ExplainMethod)
PARAM_TYPES = get_args(ParamKind)

HEAD = {
    "dense": ListOf(COUNT),
    "dropout": SHARE,
    "activation": Field(str, Choice(ACTIVATIONS)),
    "output": Field(str, Choice(OUTPUTS)),
}
STAGE_FIELDS = {
    "trainable": Field(str, TRAINABLE),
    "optimizer": NAME,
    "learning_rate": POSITIVE,
    "lr_decay": PORTION,
    "epochs": COUNT,
    "batch_size": COUNT,
    "patience": Field(int, Range(0)),
}
AUGMENTATION = {  # [augmentation], and a stage's own augmentation table
    "rotation": Field(float, Range(0, 180)),
    "width_shift": SHARE,
    "height_shift": SHARE,
    "brightness": ListOf(NON_NEGATIVE),
    "shear": Field(float, Range(0, 90, open_high=True)),
    "zoom": SHARE,
    "horizontal_flip": BOOL,
    "vertical_flip": BOOL,
    "fill_mode": Field(str, Choice(FILL_MODES)),
    "mixup_alpha": NON_NEGATIVE,
}
STAGE = {
    "name": NAME,
    "data": OneOf((NAME, ListOf(NAME))),
    "labels": Field(str, Choice(LABEL_MODES)),
    "head": HEAD,
    **STAGE_FIELDS,
    "augmentation": AUGMENTATION,
    "by_backbone": Map(STAGE_FIELDS),
}
DATASET = {
    "source": NAME,
    "classes": ListOf(NAME),
    "samples_per_class": COUNT,
    "images_per_patient": COUNT,
    "imbalance": Field(float, Range(1)),
    "difficulty": PROBABILITY,
    "label_noise": SHARE,
    "seed": SEED,
    # file sources (bench/data/options.py says which kinds take which key)
    "resize": Field(str, Choice(RESIZE_MODES)),
    "channels": Field(int, Choice((1, 3))),
    "tile": Field(int, Range(8)),
    "on_bad_image": Field(str, Choice(BAD_IMAGE_MODES)),
    "patient_pattern": Field(str, Regex()),
    "include": OneOf((NAME, ListOf(NAME))),
    "images": NAME,
    "metadata": NAME,
    "path_column": NAME,
    "id_column": NAME,
    "label_column": NAME,
    "patient_column": NAME,
    "split_column": NAME,
    "splits": ListOf(NAME),
}
OPTIMIZER = {
    "learning_rate": POSITIVE,
    "momentum": SHARE,
    "nesterov": BOOL,
    "rho": FRACTION,
    "epsilon": POSITIVE,
    "beta_1": SHARE,
    "beta_2": SHARE,
    "initial_accumulator_value": NON_NEGATIVE,
    "weight_decay": NON_NEGATIVE,
}
SCHEMA = {
    "suite": {
        "name": NAME,
        "description": TEXT,
        "target": NAME,
        "pool": NAME,
        "intermediate": NAME,
        "seed": SEED,
        "image_size": Field(int, Range(8)),
        "results": NAME,
        "reports": NAME,
        "backend": Field(str, Choice(tuple(BACKENDS))),
        "protocol": NAME,  # a protocol card (bench/protocols/<name>.toml) or a card file
    },
    "datasets": Map(DATASET),
    "base": {
        "weights": NAME,
        "pretrain": TEXT,  # a dataset name; "" switches pretraining off in a profile
        "epochs": COUNT,
        "batch_size": COUNT,
        "learning_rate": POSITIVE,
        "optimizer": NAME,
    },
    "grid": Axes(
        {
            "backbone": ListOf(NAME),
            "optimizer": ListOf(NAME),
            "strategy": ListOf(NAME),
            "augment": ListOf(BOOL),
            "fraction": ListOf(PORTION),
            "exclude": ListOf(Map(OneOf((TEXT, BOOL, Field(float, ANY))))),
        }
    ),
    "backbones": Map({"alpha": POSITIVE, "bn_momentum": SHARE, "width": COUNT}),
    "optimizers": Map(OPTIMIZER),
    "train": {
        "epochs": COUNT,
        "batch_size": COUNT,
        "learning_rate": POSITIVE,
        "lr_decay": PORTION,
        "patience": Field(int, Range(0)),
        "precision": Field(str, Choice(PRECISIONS)),
    },
    "strategies": Map(
        {
            "description": TEXT,
            "init": Field(str, Choice(get_args(Init))),
            "stages": ListOf(STAGE),
        }
    ),
    "protocol": {
        "folds": Field(int, Range(2)),
        "repeats": COUNT,
        "validation": FRACTION,
        "threshold": OneOf((FRACTION, Field(str, Choice(("youden",))))),
        "leakage": Field(str, Choice(get_args(Leakage))),
        "deterministic": BOOL,
    },
    "preprocess": {
        "segment": Field(str, Choice(SEGMENT_METHODS)),
        "segment_output": Field(str, Choice(SEGMENT_OUTPUTS)),
    },
    "augmentation": AUGMENTATION,
    "balance": {"method": Field(str, Choice(BALANCE_METHODS)), "mixup_alpha": POSITIVE},
    "tuning": {
        "n_trials": COUNT,
        "timeout": POSITIVE,
        "pruner": Field(str, Choice(PRUNERS)),
        "inner_folds": Field(int, Range(1, text="1 (the validation split) or at least 2")),
        "space": Map(
            {
                "type": Field(str, Choice(PARAM_TYPES)),
                "low": Field(float, ANY),
                "high": Field(float, ANY),
                "log": BOOL,
                "choices": ListOf(OneOf((TEXT, Field(float, ANY)))),
            }
        ),
    },
    "report": {
        "metrics": ListOf(METRIC),
        "sort": METRIC,
        "baseline": NAME,
        "heatmap": ListOf(NAME),  # two grid axes; checked against the grid in load.py
        "published": NAME,
        "margin": POSITIVE,
        "explain": Field(str, Choice(EXPLAIN_METHODS)),
    },
    "regression": {
        "margins": Map(POSITIVE),
        "alpha": FRACTION,
        "runtime_tolerance": Field(float, Range(1)),
    },
    "deviations": Map(NAME),  # setting -> why this suite departs from its protocol card
    "tracking": {"mlflow": TRACKING_URI},
    "profiles": Map(Map(Any)),  # checked against the rest of the schema, see check()
}
PROFILE = {key: shape for key, shape in SCHEMA.items() if key != "profiles"}


def check(raw: dict, *, file: str, schema: dict = SCHEMA) -> None:
    """Raise ConfigError for the first unknown key or bad value in ``raw`` or its profiles."""
    _check_table(raw, schema, file=file, path="")
    if schema is SCHEMA:
        for name, profile in raw.get("profiles", {}).items():
            _check_table(profile, PROFILE, file=file, path=f"profiles.{name}")


def suggest(word: str, choices: Iterable[str], *, prefix: str = "") -> str:
    """A '; did you mean ...?' suffix, or '' when nothing is close."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean '{prefix}{close[0]}'?" if close else ""


def _check_table(raw: Any, schema: dict, *, file: str, path: str) -> None:
    if not isinstance(raw, dict):
        raise ConfigError(f"{file}: '{path}' must be a table, got {raw!r}")
    for key, value in raw.items():
        key_path = f"{path}.{key}" if path else key
        if key not in schema and isinstance(schema, Axes) and "." in key:
            _check_setting_axis(value, key, file=file, path=f'{path}."{key}"')
            continue
        if key not in schema:
            known = ", ".join(sorted(schema))
            hint = suggest(key, schema, prefix=f"{path}." if path else "")
            raise ConfigError(f"{file}: unknown key '{key_path}'{hint} (known here: {known})")
        _check_value(value, schema[key], file=file, path=key_path)


def _check_setting_axis(value: Any, key: str, *, file: str, path: str) -> None:
    from bench.config.axes import setting_field  # it walks this module's SCHEMA

    _check_value(value, ListOf(setting_field(key, file=file, path=path)), file=file, path=path)


def _check_value(value: Any, shape: Any, *, file: str, path: str) -> None:
    if shape is Any:
        return
    if isinstance(shape, dict):
        _check_table(value, shape, file=file, path=path)
    elif isinstance(shape, Map):
        if not isinstance(value, dict):
            raise ConfigError(f"{file}: '{path}' must be a table, got {value!r}")
        for name, item in value.items():
            _check_value(item, shape.value, file=file, path=f"{path}.{name}")
    elif isinstance(shape, ListOf):
        if not isinstance(value, list):
            raise ConfigError(f"{file}: '{path}' must be a list, got {value!r}")
        for i, item in enumerate(value):
            _check_value(item, shape.item, file=file, path=f"{path}[{i}]")
    elif isinstance(shape, OneOf):
        _check_one_of(value, shape, file=file, path=path)
    else:
        _check_field(value, shape, file=file, path=path)


def _check_one_of(value: Any, shape: OneOf, *, file: str, path: str) -> None:
    """The first option whose type fits decides; no fitting type is a type error."""
    for option in shape.options:
        if isinstance(option, Field) and option.fits(value):
            return _check_field(value, option, file=file, path=path)
        if isinstance(option, ListOf) and isinstance(value, list):
            return _check_value(value, option, file=file, path=path)
    kinds = " or ".join(_shape_name(option) for option in shape.options)
    raise ConfigError(f"{file}: '{path}' must be {kinds}, got {value!r}")


def _check_field(value: Any, field: Field, *, file: str, path: str) -> None:
    if not field.fits(value):
        raise ConfigError(f"{file}: '{path}' must be {_shape_name(field)}, got {value!r}")
    if not field.admits(value):
        raise ConfigError(f"{file}: {_violation(field.rule, value, path)}")


def _violation(rule: Any, value: Any, path: str) -> str:
    if isinstance(rule, Pattern):
        return f"'{path}' = {value!r} is not understood; {rule}"
    hint = ""
    if isinstance(rule, Choice) and isinstance(value, str):
        hint = suggest(value, [str(v) for v in rule.options()])
    return f"'{path}' must be {rule}, got {value!r}{hint}"


def _shape_name(shape: Any) -> str:
    if isinstance(shape, ListOf):
        return f"a list of {_plural(shape.item)}"
    if isinstance(shape, dict | Map):
        return "a table"
    return {int: "an integer", float: "a number", str: "a string", bool: "true or false"}[
        shape.type
    ]


def _plural(shape: Any) -> str:
    if isinstance(shape, Field):
        return {int: "integers", float: "numbers", str: "strings", bool: "booleans"}[shape.type]
    return "values"


def _show(value: Any) -> str:
    return f'"{value}"' if isinstance(value, str) else str(value)
