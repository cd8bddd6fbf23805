"""What every figure reads: the report's inputs, its leaderboard and the grouping of cells.

Figures that pool folds (ROC, confusion matrices, learning curves) pool them per level of
the ``strategy`` factor, the baseline first; results without that factor form one group.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

from bench.report.figures.canvas import FigureSkipped
from bench.report.inputs import FoldPredictions, ReportInputs
from bench.report.leaderboard import Leaderboard
from bench.report.significance import FACTOR

ALL_CELLS = "all cells"


@dataclass(frozen=True)
class FigureContext:
    """The inputs, leaderboard, baseline level, class names (None: use the indices) and the
    axes of the axis heatmap (``[report] heatmap``; () chooses them)."""

    inputs: ReportInputs
    board: Leaderboard
    baseline: str | None
    classes: tuple[str, ...] | None
    heatmap: tuple[str, ...] = ()

    @cached_property
    def cell_groups(self) -> Mapping[str, str]:
        """Each cell's group: its strategy level, or "all cells" without that factor."""
        scores = self.inputs.scores
        if FACTOR not in self.board.factors:
            return dict.fromkeys(scores["cell"].astype(str), ALL_CELLS)
        pairs = scores[["cell", FACTOR]].drop_duplicates("cell")
        return dict(zip(pairs["cell"].astype(str), pairs[FACTOR].astype(str), strict=True))

    @cached_property
    def groups(self) -> tuple[str, ...]:
        """The group levels, the baseline first, then in order of first appearance."""
        levels = list(dict.fromkeys(self.cell_groups.values()))
        return tuple(sorted(levels, key=lambda level: level != self.baseline))

    @cached_property
    def job_groups(self) -> Mapping[str, str]:
        """Each fold job's group."""
        folds = self.inputs.folds
        return {
            job: self.cell_groups[cell]
            for job, cell in zip(folds["job"], folds["cell"].astype(str), strict=True)
        }

    def predictions(self, figures: str) -> Mapping[str, FoldPredictions]:
        """The stored per-sample predictions, or :class:`FigureSkipped` saying that ``figures``
        (plural, e.g. "ROC curves") need them."""
        if not self.inputs.predictions:
            raise FigureSkipped(
                f"{figures} need stored per-sample predictions; these results have none"
            )
        return self.inputs.predictions

    def sample_note(self) -> str:
        """How many fold results the prediction- and history-based figures use."""
        total = len(self.inputs.folds)
        if self.inputs.curve_folds == total:
            return f"all {total} outer test folds"
        return (
            f"a deterministic sample of {self.inputs.curve_folds} of the {total} outer test "
            "folds (each cell's first (repeat, fold)s)"
        )
