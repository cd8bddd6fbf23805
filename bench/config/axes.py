"""Setting axes: a dotted ``[grid]`` key naming any scalar setting of the suite.

``"train.learning_rate" = [1e-4, 1e-3]`` in ``[grid]`` sweeps that setting like the named
axes: every cell carries one value, and its jobs are planned as if the suite had that value.
Which jobs read it:

- ``[train]``, ``[balance]``, ``[augmentation]``, ``[protocol]`` and ``[tuning]`` settings
  shape the cell's target stages only (the fold jobs); shared pretraining stages keep the
  suite's own values, so every cell of a backbone reuses them;
- every other setting (``suite.image_size``, ``base.*``, ``backbones.*``, ``optimizers.*``,
  a stage of a strategy, e.g. ``strategies.ctl.stages[0].head.dropout``) applies wherever
  the suite reads it, shared stages included.

Settings that fix what every cell shares (the data, the outer folds, the seeds, the
run's paths and kernels, the report) are not axes: cells are compared on the same folds.
"""

from __future__ import annotations

import copy
import re
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from bench.config import schema
from bench.errors import ConfigError

if TYPE_CHECKING:
    from bench.config.spec import Cell, Suite

TARGET_ONLY = ("train", "balance", "augmentation", "protocol", "tuning")
SPECS = ("train", "base", "augmentation", "protocol", "tuning")  # tables kept as a Suite spec
FIXED = {
    "suite": "fixes the data, the seeds or the run's files",
    "datasets": "fixes the data every cell is scored on",
    "protocol": "fixes the outer folds every cell is scored on",
    "train.precision": "sets how kernels compute for the whole run",
    "base.pretrain": "names a dataset; declare another strategy instead",
    "report": "is a report setting, not a training setting",
    "regression": "is a report setting, not a training setting",
    "profiles": "is not a setting",
}
SWEEPABLE = ("suite.image_size", "protocol.threshold", "balance.method")
STEP = re.compile(r"([^.\[\]]+)(?:\[(\d+)\])?")


def setting_field(key: str, *, file: str, path: str = "") -> schema.Field | schema.OneOf:
    """The schema rule of the scalar setting ``key`` names, or one line on why it is no axis;
    ``path`` is where the key stands (default ``grid."KEY"``)."""
    where = f"{file}: '{path or axis_path(key)}'"
    shape: Any = schema.SCHEMA
    for name, index in _steps(key, where=where):
        if isinstance(shape, schema.ListOf):
            raise ConfigError(f"{where}: the list before '{name}' needs an index, e.g. [0]")
        shape = _descend(shape, name, key=key, where=where)
        if index is not None:
            if not (isinstance(shape, schema.ListOf) and isinstance(shape.item, dict)):
                raise ConfigError(f"{where}: '{name}' is not a list of tables; drop [{index}]")
            shape = shape.item
    if not _scalar(shape):
        raise ConfigError(
            f"{where} is not a scalar setting but a table or a list; name one value, "
            'e.g. "train.learning_rate"'
        )
    reason = _fixed(key)
    if reason:
        raise ConfigError(f"{where} cannot be an axis: '{key}' {reason}")
    return shape


def axis_path(key: str) -> str:
    """How errors name a setting axis: ``grid."train.epochs"``."""
    return f'grid."{key}"'


def cell_suite(suite: Suite, cell: Cell, *, shared: bool = False) -> Suite:
    """The suite as the cell's jobs see it: its setting axes applied; ``shared``: as its
    shared stages see it (without the target-only settings, see the module docstring)."""
    view = suite
    for key, value in cell.settings:
        section, _, rest = key.partition(".")
        if shared and section in TARGET_ONLY:
            continue
        view = _apply(view, section, rest, value)
    return view


def _apply(suite: Suite, section: str, rest: str, value) -> Suite:
    if section == "suite":
        return replace(suite, **{rest: value})
    if section == "balance":
        return replace(suite, balance=value)
    if section == "optimizers":
        name, _, option = rest.partition(".")
        options = {**dict(suite.optimizers.get(name, ())), option: value}
        return replace(suite, optimizers={**suite.optimizers, name: tuple(sorted(options.items()))})
    if section in SPECS:
        return replace(suite, **{section: replace(getattr(suite, section), **{rest: value})})
    return suite  # backbones.* and strategies.*: already in the cell's options and stages


def apply_to_tables(tables: dict, settings: dict, section: str) -> dict:
    """Raw ``section`` tables (backbones, optimizers, strategies) with the cell's settings of
    that section written in, as if the suite file had them."""
    tables = copy.deepcopy(tables)
    for key, value in settings.items():
        steps = list(STEP.finditer(key))
        if steps[0].group(1) != section:
            continue
        node = tables
        for step in steps[1:-1]:
            node = node.setdefault(step.group(1), {})
            if step.group(2) is not None:
                node = node[int(step.group(2))]
        node[steps[-1].group(1)] = value
    return tables


def _steps(key: str, *, where: str) -> list[tuple[str, int | None]]:
    parts = key.split(".")
    matches = [STEP.fullmatch(part) for part in parts]
    steps = [m for m in matches if m is not None]
    if len(parts) < 2 or len(steps) < len(parts):
        raise ConfigError(
            f'{where}: write a setting as "table.key" (e.g. "train.epochs", '
            '"strategies.ctl.stages[0].head.dropout")'
        )
    return [(s.group(1), None if s.group(2) is None else int(s.group(2))) for s in steps]


def _descend(shape: Any, name: str, *, key: str, where: str) -> Any:
    if isinstance(shape, schema.Map):
        return shape.value
    if isinstance(shape, dict) and name in shape:
        return shape[name]
    if isinstance(shape, dict):
        known = [k for k in shape if k != "profiles"]
        raise ConfigError(
            f"{where} names no setting: '{name}' is unknown{schema.suggest(name, known)} "
            f"(known there: {', '.join(known)})"
        )
    raise ConfigError(f"{where} goes below a single value; drop '{name}' and what follows")


def _scalar(shape: Any) -> bool:
    if isinstance(shape, schema.OneOf):
        return all(isinstance(option, schema.Field) for option in shape.options)
    return isinstance(shape, schema.Field)


def _fixed(key: str) -> str | None:
    if key in SWEEPABLE:
        return None
    section = key.split(".", 1)[0]
    return FIXED.get(key) or FIXED.get(section)
