"""Expand ``[grid]`` into cells: the cartesian product of its axes minus ``exclude`` rules.

``backbone``, ``optimizer`` and ``strategy`` are required axes; ``augment`` (on/off) and
``fraction`` (share of labelled training data) are optional ones, present as factors only
when the suite sweeps them.
"""

from __future__ import annotations

import itertools

from bench.config import schema
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
    file: str,
) -> tuple[tuple[Cell, ...], tuple[str, ...]]:
    """Cells in grid order (backbone-major), and the axis names (the cell factors)."""
    names = REQUIRED + tuple(a for a in OPTIONAL if a in grid)
    axes = {axis: _axis(grid, axis, file=file) for axis in names}
    _check_strategies(axes["strategy"], strategies, known_strategies, file=file)
    _check_fractions(axes.get("fraction", []), file=file)
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
    return Cell(
        factors=tuple(factors.items()),
        backbone=backbone,
        backbone_options=tuple(sorted(backbones.get(backbone, {}).items())),
        optimizer=optimizer,
        optimizer_options=tuple(sorted(optimizers.get(optimizer, {}).items())),
        strategy=resolve_strategy(strategies[chosen["strategy"]], backbone=backbone),
        augment=chosen.get("augment", augment_default),
        fraction=float(chosen.get("fraction", 1.0)),
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


def _axis(grid: dict, axis: str, *, file: str) -> list:
    values = grid.get(axis)
    if not values:
        raise ConfigError(f"{file}: 'grid.{axis}' is missing or empty; list at least one value")
    if len({level(v) for v in values}) != len(values):
        raise ConfigError(f"{file}: 'grid.{axis}' lists a value twice: {values}")
    return list(values)


def _exclude(rule: dict, index: int, axes: dict, *, file: str) -> dict:
    key = f"grid.exclude[{index}]"
    for axis, value in rule.items():
        if axis not in axes:
            raise ConfigError(
                f"{file}: '{key}' uses unknown axis '{axis}'{schema.suggest(axis, axes)}; "
                f"axes here are {', '.join(axes)}"
            )
        if level(value) not in {level(v) for v in axes[axis]}:
            raise ConfigError(
                f"{file}: '{key}.{axis}' = {value!r} is not a value of grid.{axis} "
                f"({', '.join(level(v) for v in axes[axis])})"
            )
    return {axis: level(value) for axis, value in rule.items()}
