"""Expand ``[grid]`` into cells: the cartesian product of its axes minus ``exclude`` rules.

``backbone``, ``optimizer`` and ``strategy`` are required axes; ``augment`` (on/off) and
``fraction`` (share of labelled training data) are optional ones, present as factors only
when the suite sweeps them; a dotted key sweeps any scalar setting (bench/config/axes.py),
its factor named by the key (``train.learning_rate=0.001`` in the cell id).
"""

from __future__ import annotations

import itertools
import re

from bench.config import schema
from bench.config.axes import apply_to_tables, axis_path
from bench.config.spec import Cell
from bench.config.strategy import resolve_strategy
from bench.errors import ConfigError

REQUIRED = ("backbone", "optimizer", "strategy")
OPTIONAL = ("augment", "fraction")


def level(value: object) -> str:
    """The string form of an axis value used in cell ids, tables and exclude rules."""
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def expand_grid(
    grid: dict,
    *,
    strategies: dict,
    known_strategies: set,
    backbones: dict,
    optimizers: dict,
    augment_default: bool,
    tuned: bool,
    file: str,
) -> tuple[tuple[Cell, ...], tuple[str, ...]]:
    """Cells in grid order (backbone-major), and the axis names (the cell factors)."""
    settings = tuple(key for key in grid if "." in key)
    names = REQUIRED + tuple(a for a in OPTIONAL if a in grid) + settings
    axes = {axis: _axis(grid, axis, file=file) for axis in names}
    _check_strategies(axes["strategy"], strategies, known_strategies, file=file)
    _check_fractions(axes.get("fraction", []), file=file)
    for key in settings:
        _check_setting(key, strategies=strategies, tuned=tuned, file=file)
    excludes = [
        _exclude(rule, i, axes, file=file) for i, rule in enumerate(grid.get("exclude", []))
    ]
    cells = []
    for values in itertools.product(*(axes[a] for a in names)):
        chosen = dict(zip(names, values))
        factors = {axis: level(value) for axis, value in chosen.items()}
        if any(all(factors[k] == v for k, v in rule.items()) for rule in excludes):
            continue
        cells.append(
            _cell(
                chosen,
                factors,
                strategies=strategies,
                backbones=backbones,
                optimizers=optimizers,
                augment_default=augment_default,
            )
        )
    if not cells:
        raise ConfigError(f"{file}: the grid is empty after 'grid.exclude'; relax an exclude rule")
    return tuple(cells), names


def _cell(
    chosen: dict, factors: dict, *, strategies, backbones, optimizers, augment_default: bool
) -> Cell:
    backbone, optimizer = chosen["backbone"], chosen["optimizer"]
    settings = {key: value for key, value in chosen.items() if "." in key}
    if settings:  # the cell's tables as if the suite file had its settings
        strategies = apply_to_tables(strategies, settings, "strategies")
        backbones = apply_to_tables(backbones, settings, "backbones")
        optimizers = apply_to_tables(optimizers, settings, "optimizers")
    return Cell(
        factors=tuple(factors.items()),
        backbone=backbone,
        backbone_options=tuple(sorted(backbones.get(backbone, {}).items())),
        optimizer=optimizer,
        optimizer_options=tuple(sorted(optimizers.get(optimizer, {}).items())),
        strategy=resolve_strategy(strategies[chosen["strategy"]], backbone=backbone),
        augment=chosen.get("augment", augment_default),
        fraction=float(chosen.get("fraction", 1.0)),
        settings=tuple(settings.items()),
    )


def _check_strategies(names, strategies: dict, known: set, *, file: str) -> None:
    for name in names:
        if name not in strategies:
            raise ConfigError(
                f"{file}: 'grid.strategy' names unknown strategy '{name}'"
                f"{schema.suggest(name, known)} (known: {', '.join(sorted(known))}; "
                f"define your own under [strategies.{name}])"
            )


def _check_fractions(fractions, *, file: str) -> None:
    for value in fractions:
        if not 0 < value <= 1:
            raise ConfigError(f"{file}: 'grid.fraction' values must be in (0, 1], got {value}")


def _check_setting(key: str, *, strategies: dict, tuned: bool, file: str) -> None:
    """What a setting axis needs from the rest of the suite: the strategy and stage it names,
    a [tuning] table to vary."""
    where = f"{file}: '{axis_path(key)}'"
    if key.startswith("tuning.") and not tuned:
        raise ConfigError(f"{where}: the suite has no [tuning] table to vary; add one")
    if not key.startswith("strategies."):
        return
    match = re.match(r"strategies\.([^.]+)\.?([^.]*)", key)
    assert match is not None  # key starts with "strategies."
    name, step = match.groups()
    if name not in strategies:
        raise ConfigError(
            f"{where}: strategy '{name}' is not in grid.strategy "
            f"({', '.join(strategies)}){schema.suggest(name, strategies)}"
        )
    stages = strategies[name]["stages"]
    index = re.fullmatch(r"stages\[(\d+)\]", step)
    if index and int(index.group(1)) >= len(stages):
        raise ConfigError(
            f"{where}: strategy '{name}' has {len(stages)} stage(s); index them from 0 "
            f"to {len(stages) - 1}"
        )


def _axis(grid: dict, axis: str, *, file: str) -> list:
    key = axis_path(axis) if "." in axis else f"grid.{axis}"
    values = grid.get(axis)
    if not values:
        raise ConfigError(f"{file}: '{key}' is missing or empty; list at least one value")
    if len({level(v) for v in values}) != len(values):
        raise ConfigError(f"{file}: '{key}' lists a value twice: {values}")
    return list(values)


def _exclude(rule: dict, index: int, axes: dict, *, file: str) -> dict:
    key = f"grid.exclude[{index}]"
    for axis, value in rule.items():
        if axis not in axes:
            raise ConfigError(
                f"{file}: '{key}' uses unknown axis '{axis}'{schema.suggest(axis, axes)}; "
                f"axes here are {', '.join(axes)}"
            )
        name = f'"{axis}"' if "." in axis else axis
        if level(value) not in {level(v) for v in axes[axis]}:
            raise ConfigError(
                f"{file}: '{key}.{name}' = {value!r} is not a value of grid.{name} "
                f"({', '.join(level(v) for v in axes[axis])})"
            )
    return {axis: level(value) for axis, value in rule.items()}
