"""The report's figures, drawn with matplotlib (Agg) from the store only, as PNG and PDF.

=====================  ==========================================================  =========
file stem              what                                                        needs
=====================  ==========================================================  =========
roc                    mean ROC curve per strategy, band over folds                predictions
learning_curves        loss per epoch and stage                                    histories
confusion_matrices     pooled out-of-fold confusion matrix per strategy            predictions
fold_scores            fold-score distribution per cell (sort metric)              scores
critical_difference    CD diagram of methods across datasets (Friedman, Nemenyi)   2+ datasets
gain_heatmap           backbone × optimizer gain of each strategy over baseline    baseline
axis_heatmap           mean sort metric over two grid axes ([report] heatmap)      2 axes
learning_rate_curves   validation accuracy per epoch, a line per learning rate     lr axis
reliability            reliability diagram per strategy (calibration), pooled      predictions
pareto                 mean sort metric against inference latency per cell         costs
=====================  ==========================================================  =========

A figure that the results cannot give (imported results have no predictions or histories; a
table with one score per cell has no blocks for ranking) is skipped, and the report prints
the reason instead; one for another kind of grid (the two axis figures without setting axes)
is left out silently. Each module's docstring states how its figure is computed.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from bench.report.figures import (
    axis_heatmap,
    confusion,
    critical_difference,
    distributions,
    heatmap,
    learning,
    pareto,
    rate_curves,
    reliability,
    roc,
)
from bench.report.figures.canvas import FigureSkipped, NotApplicable, save
from bench.report.figures.context import FigureContext

__all__ = ["FIGURES", "FigureContext", "FigureFile", "FigureSet", "draw_figures"]

EXAMPLES = "examples"  # drawn by `bench explain --examples` (it needs the model), shown if there
FIGURES = (
    ("roc", roc.make),
    ("learning_curves", learning.make),
    ("confusion_matrices", confusion.make),
    ("fold_scores", distributions.make),
    ("critical_difference", critical_difference.make),
    ("gain_heatmap", heatmap.make),
    ("axis_heatmap", axis_heatmap.make),
    ("learning_rate_curves", rate_curves.make),
    ("reliability", reliability.make),
    ("pareto", pareto.make),
)


@dataclass(frozen=True)
class FigureFile:
    """A saved figure: ``figures/<stem>.png`` and ``.pdf``, with its caption."""

    stem: str
    caption: str

    @property
    def png(self) -> str:
        """Path of the PNG relative to the report folder."""
        return f"figures/{self.stem}.png"

    @property
    def pdf(self) -> str:
        """Path of the PDF relative to the report folder."""
        return f"figures/{self.stem}.pdf"


@dataclass(frozen=True)
class FigureSet:
    """The figures written (in :data:`FIGURES` order) and why the others were skipped."""

    files: tuple[FigureFile, ...]
    notes: tuple[str, ...]


def draw_figures(context: FigureContext, directory: Path) -> FigureSet:
    """Draw every figure the results allow into ``directory``; note the ones skipped.

    The figures are independent, so where the platform can fork they are drawn in worker
    processes that inherit ``context`` (nothing large is copied or pickled); elsewhere, or
    on one CPU, one after another. The files and their order are the same either way.
    """
    stems = [stem for stem, _ in FIGURES]
    if _can_fork():
        _preload_matplotlib()
        with ProcessPoolExecutor(
            max_workers=min(len(stems), os.cpu_count() or 1),
            mp_context=multiprocessing.get_context("fork"),
            initializer=_inherit,
            initargs=(context, directory),
        ) as pool:
            outcomes = list(pool.map(_draw_inherited, stems))
    else:
        outcomes = [_draw(context, directory, stem) for stem in stems]
    files = tuple(o for o in outcomes if isinstance(o, FigureFile))
    return FigureSet(files, tuple(o for o in outcomes if isinstance(o, str)))


def _can_fork() -> bool:
    """Whether drawing in forked workers is possible and safe here.

    Needs several CPUs and the fork start method; and not after TensorFlow was loaded (a
    report made in the process that just trained): its thread pools are not fork-safe.
    """
    return (
        (os.cpu_count() or 1) > 1
        and "fork" in multiprocessing.get_all_start_methods()
        and "tensorflow" not in sys.modules
    )


def _draw(context: FigureContext, directory: Path, stem: str) -> FigureFile | str | None:
    """Draw and save one figure; the reason as a string when it is skipped, None when it
    does not apply to this grid."""
    try:
        drawing = dict(FIGURES)[stem](context)
    except NotApplicable:
        return None
    except FigureSkipped as skipped:
        return str(skipped)
    save(drawing.figure, directory, stem)
    return FigureFile(stem, drawing.caption)


_inherited: tuple[FigureContext, Path] | None = None


def _preload_matplotlib() -> None:
    """Import matplotlib once, before forking, so that no worker pays for it again."""
    import matplotlib.backends.backend_agg
    import matplotlib.backends.backend_pdf
    import matplotlib.figure  # noqa: F401


def _inherit(context: FigureContext, directory: Path) -> None:
    """Worker start-up: keep the context the forked worker already holds in memory."""
    global _inherited
    _inherited = (context, directory)


def _draw_inherited(stem: str) -> FigureFile | str | None:
    assert _inherited is not None, "a forked worker inherits the context"
    context, directory = _inherited
    return _draw(context, directory, stem)
