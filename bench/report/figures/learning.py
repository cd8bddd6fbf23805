"""Learning curves per stage: training and validation loss per epoch, from stored histories.

One panel per stage. Shared stage jobs (pretraining, intermediate domain, pool) were trained
once each; they are averaged per kind of stage over backbones and optimizers
(``small_cnn/pretrain:natural`` and ``mobilenetv2/pretrain:natural`` make one line,
``pretrain:natural``). Target stages (per fold) are averaged per strategy over the folds
that reached each epoch: early stopping ends folds at different epochs, so the tail of a
curve rests on fewer folds. Solid lines are the training loss, dashed the inner-validation
loss that early stopping watched.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from bench.report.figures.canvas import Drawing, FigureSkipped, grid_shape, new_figure, palette
from bench.report.figures.context import FigureContext

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

SHARED = "shared stages"


@dataclass(frozen=True)
class Curve:
    """Mean training (and validation) loss per epoch of one line, over ``folds`` jobs."""

    label: str
    epochs: np.ndarray
    train: np.ndarray
    validation: np.ndarray | None
    folds: int


@dataclass(frozen=True)
class Panel:
    """The curves of one stage."""

    title: str
    curves: tuple[Curve, ...]


def learning_panels(
    histories: pd.DataFrame, jobs: pd.DataFrame, job_groups: Mapping[str, str], groups: tuple
) -> tuple[Panel, ...]:
    """Panels for the shared stage jobs, then one per target stage name (in stored order)."""
    losses = histories[histories["metric"].isin(["loss", "val_loss"])]
    if losses.empty:
        return ()
    labels = dict(zip(jobs["job"], jobs["label"], strict=True))
    shared = losses[~losses["job"].isin(list(job_groups))]
    per_fold = losses[losses["job"].isin(list(job_groups))].assign(
        line=lambda frame: frame["job"].map(job_groups)
    )
    panels = []
    if not shared.empty:
        lines = shared.assign(line=shared["job"].map(labels).map(_stage_kind))
        panels.append(Panel(SHARED, _curves(lines, sorted(lines["line"].unique()))))
    for stage in dict.fromkeys(per_fold["stage"]):
        lines = per_fold[per_fold["stage"] == stage]
        present = [g for g in groups if g in set(lines["line"])]
        panels.append(Panel(f"stage {stage}", _curves(lines, present)))
    return tuple(panel for panel in panels if panel.curves)


def draw(panels: tuple[Panel, ...], *, groups: tuple) -> Figure:
    """One axes per panel; strategies keep their colours, shared stages get their own."""
    from matplotlib.ticker import MaxNLocator

    rows, cols = grid_shape(len(panels))
    figure = new_figure(4.2 * cols, 3.3 * rows)
    colors = palette(groups)
    for index, panel in enumerate(panels):
        axes = figure.add_subplot(rows, cols, index + 1)
        shared = palette([c.label for c in panel.curves]) if panel.title == SHARED else colors
        for curve in panel.curves:
            color = shared[curve.label]
            axes.plot(
                curve.epochs,
                curve.train,
                color=color,
                lw=1.8,
                label=f"{curve.label} ({curve.folds})",
            )
            if curve.validation is not None:
                axes.plot(curve.epochs, curve.validation, color=color, lw=1.8, ls="--")
        axes.set_title(panel.title, fontsize="medium")
        axes.set_xlabel("Epoch")
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes.set_ylabel("Loss")
        axes.legend(fontsize="x-small")
    return figure


def make(context: FigureContext) -> Drawing:
    """The learning-curve figure, or :class:`FigureSkipped` without stored histories."""
    panels = learning_panels(
        context.inputs.histories, context.inputs.jobs, context.job_groups, context.groups
    )
    if not panels:
        raise FigureSkipped(
            "learning curves need stored per-epoch histories; these results have none"
        )
    caption = (
        "Loss per epoch and stage (solid: training, dashed: inner validation); target stages "
        f"averaged per strategy over {context.sample_note()}, each at the folds that reached "
        "that epoch; legend: number of jobs."
    )
    return Drawing(draw(panels, groups=context.groups), caption)


def _curves(frame: pd.DataFrame, lines: list[str]) -> tuple[Curve, ...]:
    means = frame.groupby(["line", "metric", "epoch"])["value"].mean()
    counts = frame.groupby("line")["job"].nunique()
    trained = set(frame.loc[frame["metric"] == "loss", "line"])
    return tuple(
        _curve(line, means.loc[line], int(counts[line])) for line in lines if line in trained
    )


def _curve(label: str, means: pd.Series, folds: int) -> Curve:
    train = means.loc["loss"]
    validation = None
    if "val_loss" in means.index.get_level_values(0):
        validation = means.loc["val_loss"].reindex(train.index).to_numpy()
    return Curve(
        label=label,
        epochs=train.index.to_numpy() + 1,
        train=train.to_numpy(),
        validation=validation,
        folds=folds,
    )


def _stage_kind(label: str) -> str:
    """``backbone[/optimizer]/stage:data`` -> ``stage:data``: the same stage over backbones."""
    return label.rsplit("/", 1)[-1]
