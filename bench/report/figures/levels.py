"""Axis levels for figures over grid axes: their order, and the panels the other axes make."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

MAX_PANELS = 12


@dataclass(frozen=True)
class Panel:
    """One heatmap panel: ``values[row, column]`` (NaN: no cell) under its title."""

    title: str
    values: np.ndarray


@dataclass(frozen=True)
class PanelGrid:
    """Heatmap panels on shared axes: the metric, the row and column factors and their levels."""

    metric: str
    rows: str
    columns: str
    row_levels: tuple[str, ...]
    column_levels: tuple[str, ...]
    panels: tuple[Panel, ...]


def ordered(levels: Iterable[str]) -> tuple[str, ...]:
    """Distinct levels: by value when all are numbers (1e-05 before 0.0005), else as met."""
    distinct = tuple(dict.fromkeys(str(level) for level in levels))
    try:
        return tuple(sorted(distinct, key=float))
    except ValueError:
        return distinct


def panel_factors(scores: pd.DataFrame, factors: Sequence[str], drawn: Sequence[str]) -> list:
    """The factors, other than ``drawn``, with several levels: one panel per combination."""
    return [f for f in factors if f not in drawn and scores[f].nunique() > 1]


def panel_title(factors: Sequence[str], levels) -> str:
    levels = levels if isinstance(levels, tuple) else (levels,)
    return ", ".join(f"{f}={v}" for f, v in zip(factors, levels, strict=True)) or "all cells"
