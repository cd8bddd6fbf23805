"""A report as format-free content: titled sections of paragraphs, bullets, tables and figures.

:func:`build_document` decides what a report says, once; ``markdown_report``,
``latex_report`` and ``html_report`` only lay the same :class:`Document` out. Sections, in
order: leaderboard (with the cells' cost when measured), comparison with the baseline,
clinical tables (when predictions are stored), range over repeats (when repeated), figures,
tuned hyperparameters (when tuned), stage reuse and timing (not for imported results),
provenance, and the per-fold appendix.
"""

from __future__ import annotations

from dataclasses import dataclass

from bench.report import clinical
from bench.report.appendix import folds_table
from bench.report.cost import cell_costs
from bench.report.figures import FigureFile, FigureSet
from bench.report.inputs import ReportInputs
from bench.report.leaderboard import METRIC_LABELS, Leaderboard, leaderboard_table, ranges_table
from bench.report.params import params_table
from bench.report.significance import BaselineComparisons, comparison_table
from bench.report.table import Table
from bench.report.target import ReportTarget
from bench.report.timing import (
    cells_table,
    compute_timing,
    runs_table,
    stages_table,
    timing_summary,
)


@dataclass(frozen=True)
class Section:
    """A titled part of the report; ``appendix`` sections come last and may be long."""

    title: str
    paragraphs: tuple[str, ...] = ()
    items: tuple[str, ...] = ()
    tables: tuple[Table, ...] = ()
    figures: tuple[FigureFile, ...] = ()
    appendix: bool = False


@dataclass(frozen=True)
class Document:
    """Everything one report shows, in reading order."""

    title: str
    description: str
    sections: tuple[Section, ...]


@dataclass(frozen=True)
class Analysis:
    """What the report computed from its inputs before laying anything out."""

    board: Leaderboard
    comparisons: BaselineComparisons
    provenance: tuple[str, ...]


def build_document(
    *,
    target: ReportTarget,
    inputs: ReportInputs,
    analysis: Analysis,
    figures: FigureSet,
    examples: FigureFile | None = None,
) -> Document:
    """The report's sections for these inputs (see the module docstring for the order)."""
    board = analysis.board
    sections = [
        _leaderboard(board, inputs),
        _comparisons(analysis.comparisons),
        _clinical(inputs, board, target.classes),
        _ranges(board),
        _figures(figures),
        examples and Section("Examples with Grad-CAM", figures=(examples,)),
        _params(inputs, board),
        _timing(target, inputs, board),
        Section("Provenance", items=analysis.provenance),
        _appendix(inputs, board, target.classes),
    ]
    return Document(
        title=f"{target.name}: benchmark report",
        description=target.description,
        sections=tuple(section for section in sections if section is not None),
    )


def _leaderboard(board: Leaderboard, inputs: ReportInputs) -> Section:
    sort = METRIC_LABELS[board.sort]
    text = (
        f"One row per cell: mean ± sd over outer test folds × repeats; ranked by {sort} "
        "(tied means share a rank); best per column in bold."
    )
    costs = cell_costs(inputs)
    if not costs.empty:
        text += (
            " Cost, averaged over the folds' models: parameters, FLOPs per image at the input "
            "size, inference milliseconds per image at batch 1 and 32 (the device named), "
            "training seconds per fold (its target stages, shared stages excluded)."
        )
    table = leaderboard_table(board, costs=costs)
    return Section("Leaderboard", paragraphs=(text,), tables=(table,))


def _clinical(inputs: ReportInputs, board: Leaderboard, classes) -> Section | None:
    if not inputs.predictions:
        return None
    scores = clinical.clinical_scores(inputs, board)
    names = clinical.class_names(inputs, classes)
    best = board.rows[0]
    label = "/".join(best.levels) or best.cell
    shown = (
        f"the best {len(scores)} of {len(board.rows)} cells"
        if len(scores) < len(board.rows)
        else "every cell"
    )
    text = (
        f"From the out-of-fold predictions of {_folds_note(inputs)}, pooled per cell, each "
        f"fold's samples labelled at that fold's threshold, for {shown}; the confusion counts "
        f"are those of the best cell ({label})."
    )
    tables = (
        clinical.summary_table(scores, board),
        clinical.per_class_table(scores, board, names),
        clinical.confusion_table(scores[0], names, label),
        clinical.calibration_table(scores, board),
    )
    return Section("Clinical tables", paragraphs=(text,), tables=tables)


def _folds_note(inputs: ReportInputs) -> str:
    total = len(inputs.folds)
    if inputs.curve_folds == total:
        return f"all {total} outer test folds"
    return f"a deterministic sample of {inputs.curve_folds} of the {total} outer test folds"


def _comparisons(result: BaselineComparisons) -> Section:
    if not result.comparisons:
        return Section(f"Comparison with the baseline {result.factor}", paragraphs=result.notes)
    text = (
        f"Each {result.factor} against {result.baseline} on every metric: {result.procedure}. "
        "Bold adjusted p-values are significant."
    )
    return Section(
        f"Comparison with the baseline {result.factor} ({result.baseline})",
        paragraphs=(text, *result.notes),
        tables=(comparison_table(result),),
    )


def _ranges(board: Leaderboard) -> Section | None:
    if not board.has_repeats:
        return None
    text = "Lowest and highest per-repeat mean of each cell: how much a single repeat can vary."
    return Section("Range over repeats", paragraphs=(text,), tables=(ranges_table(board),))


def _figures(figures: FigureSet) -> Section:
    notes = tuple(f"Not drawn: {note}." for note in figures.notes)
    return Section("Figures", paragraphs=notes, figures=figures.files)


def _params(inputs: ReportInputs, board: Leaderboard) -> Section | None:
    table = params_table(inputs.folds, board=board)
    if table is None:
        return None
    return Section("Tuned hyperparameters", tables=(table,))


def _timing(target: ReportTarget, inputs: ReportInputs, board: Leaderboard) -> Section | None:
    if inputs.imported:
        return None
    timing = compute_timing(inputs.jobs, inputs.runs, base_cells=target.base_cells)
    tables = [runs_table(timing), stages_table(timing), cells_table(timing, board=board)]
    return Section(
        "Stage reuse and timing",
        paragraphs=timing_summary(timing),
        tables=tuple(table for table in tables if table is not None),
    )


def _appendix(inputs: ReportInputs, board: Leaderboard, classes) -> Section:
    tables = [folds_table(inputs.scores, metrics=board.metrics, factors=board.factors)]
    if inputs.predictions:
        names = clinical.class_names(inputs, classes)
        tables.append(clinical.per_fold_class_table(inputs, board, names))
    return Section("Appendix: per-fold scores", tables=tuple(tables), appendix=True)
