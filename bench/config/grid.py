"""Expand ``[grid]`` into cells: the cartesian product of its axes minus ``exclude`` rules."""

from __future__ import annotations

import itertools

from bench.config import schema
from bench.config.spec import Cell
from bench.config.strategy import resolve_strategy
from bench.errors import ConfigError

AXES = ("backbone", "optimizer", "strategy")


def expand_grid(
    grid: dict,
    *,
    strategies: dict,
    known_strategies: set,
    backbones: dict,
    optimizers: dict,
    file: str,
) -> tuple[tuple[Cell, ...], tuple[str, ...]]:
    """Cells in grid order (backbone-major), and the axis names that vary."""
    axes = {axis: _axis(grid, axis, file=file) for axis in AXES}
    for name in axes["strategy"]:
        if name not in strategies:
            raise ConfigError(
                f"{file}: 'grid.strategy' names unknown strategy '{name}'"
                f"{schema.suggest(name, known_strategies)} "
                f"(known: {', '.join(sorted(known_strategies))}; "
                f"define your own under [strategies.{name}])"
            )
    excludes = [
        _exclude(rule, i, axes, file=file) for i, rule in enumerate(grid.get("exclude", []))
    ]
    cells = []
    for values in itertools.product(*(axes[a] for a in AXES)):
        factors = dict(zip(AXES, values))
        if any(all(factors[k] == v for k, v in rule.items()) for rule in excludes):
            continue
        backbone, optimizer, strategy = values
        cells.append(
            Cell(
                factors=tuple(factors.items()),
                backbone=backbone,
                backbone_options=tuple(sorted(backbones.get(backbone, {}).items())),
                optimizer=optimizer,
                optimizer_options=tuple(sorted(optimizers.get(optimizer, {}).items())),
                strategy=resolve_strategy(strategies[strategy], backbone=backbone),
            )
        )
    if not cells:
        raise ConfigError(f"{file}: the grid is empty after 'grid.exclude'; relax an exclude rule")
    return tuple(cells), AXES


def _axis(grid: dict, axis: str, *, file: str) -> list[str]:
    values = grid.get(axis)
    if not values:
        raise ConfigError(f"{file}: 'grid.{axis}' is missing or empty; list at least one value")
    if len(set(values)) != len(values):
        raise ConfigError(f"{file}: 'grid.{axis}' lists a value twice: {values}")
    return list(values)


def _exclude(rule: dict, index: int, axes: dict, *, file: str) -> dict:
    key = f"grid.exclude[{index}]"
    for axis, value in rule.items():
        if axis not in axes:
            raise ConfigError(
                f"{file}: '{key}' uses unknown axis '{axis}'{schema.suggest(axis, axes)}; "
                f"axes are {', '.join(AXES)}"
            )
        if value not in axes[axis]:
            raise ConfigError(
                f"{file}: '{key}.{axis}' = {value!r} is not a value of grid.{axis} "
                f"({', '.join(axes[axis])})"
            )
    return rule
