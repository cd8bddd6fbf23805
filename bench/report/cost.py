"""Cost beside accuracy: each cell's parameters, FLOPs, inference latency and training time.

The worker measures a fold's model as it scores it (:mod:`bench.models.cost`) and times its
training; a cell's cost is the mean over its folds (parameters and FLOPs are equal across
them; latency and training time vary with the machine's load). Results stored before costs
were measured, and imported results, have none, and the report says so.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING

from bench.report.table import Entry, number

if TYPE_CHECKING:
    import pandas as pd

    from bench.report.inputs import ReportInputs

_LATENCY = re.compile(r"latency_(?P<device>[a-z]+)_b(?P<batch>\d+)_ms")


def cell_costs(inputs: ReportInputs) -> pd.DataFrame:
    """One row per cell with measured folds: the mean of each cost measure over its folds."""
    import pandas as pd

    costs = inputs.costs
    if costs.empty:
        return pd.DataFrame(columns=["cell"])
    cells = inputs.folds[["job", "cell"]].merge(costs, on="job").drop(columns="job")
    table = cells.groupby("cell", sort=False).mean().reset_index()
    return table[["cell", *sorted(table.columns.drop("cell"), key=_order)]]


def cost_label(name: str) -> str:
    """The column header of a cost measure."""
    latency = _LATENCY.fullmatch(name)
    if latency:
        return f"{latency['device'].upper()} ms/img (batch {latency['batch']})"
    return {"params": "Params", "flops": "FLOPs/img", "train_seconds": "Train s/fold"}[name]


def cost_entries(costs: pd.DataFrame, cell: str) -> tuple[Entry, ...]:
    """A cell's cost columns (:func:`cost_columns` order) as formatted table entries."""
    row = costs.set_index("cell").reindex([cell]).iloc[0]
    return tuple(number(format_cost(name, row[name])) for name in cost_columns(costs))


def cost_columns(costs: pd.DataFrame) -> tuple[str, ...]:
    return tuple(costs.columns.drop("cell"))


def format_cost(name: str, value: float) -> str:
    """Parameters and FLOPs in engineering units (k, M, G), times with fitting decimals."""
    import math

    if value is None or math.isnan(value):
        return "–"
    if name in ("params", "flops"):
        return _engineering(value)
    return f"{value:.1f}" if name == "train_seconds" else f"{value:.2f}"


def latency_column(costs: pd.DataFrame) -> str | None:
    """The batch-1 latency measure (the one a clinician waiting for one image feels)."""
    names = [n for n in cost_columns(costs) if (m := _LATENCY.fullmatch(n)) and m["batch"] == "1"]
    return names[0] if names else None


def _engineering(value: float) -> str:
    for factor, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= factor:
            return f"{value / factor:.2f}{suffix}"
    return f"{value:.0f}"


_ORDER: Mapping[str, int] = {"params": 0, "flops": 1, "train_seconds": 9}


def _order(name: str) -> tuple[int, str]:
    return _ORDER.get(name, 5), name
