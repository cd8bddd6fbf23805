"""A report as format-free content: titled sections of paragraphs, bullets, tables and figures.

:func:`build_document` decides what a report says, once; ``markdown_report``,
``latex_report`` and ``html_report`` only lay the same :class:`Document` out. Sections, in
order: leaderboard (with the cells' cost when measured), the selection-aware estimate of the
winner, comparison with the baseline, reproduction of the published table (when the suite
names one), shared stages (what they learned), clinical tables
(when predictions are stored), range over repeats (when repeated), figures, tuned
hyperparameters (when tuned), stage reuse and timing (not for imported results), the
published protocol (when the suite names a card), provenance, and the per-fold appendix.
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
from bench.report.reproduction import procedure, reproduction_table, summary
from bench.report.significance import BaselineComparisons, comparison_table
from bench.report.stages import accuracy_table, stage_rows
from bench.report.table import Table
from bench.report.table import text as text_entry
from bench.report.target import ProtocolCheck, ReportTarget
from bench.report.timing import (
    cells_table,
    compute_timing,
    runs_table,
    stages_table,
    timing_summary,
)
from bench.stats.reproduction import Reproductions
from bench.stats.selection import SelectionEstimate


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
    selection: SelectionEstimate | str | None = None  # the winner's nested estimate, or why not
    reproduction: Reproductions | str | None = None  # verdicts against [report] published


def build_document(
    *,
    target: ReportTarget,
    inputs: ReportInputs,
    analysis: Analysis,
    figures: FigureSet,
    examples: FigureFile | None = None,
    examples_method: str = "Grad-CAM",
) -> Document:
    """The report's sections for these inputs (see the module docstring for the order)."""
    board = analysis.board
    sections = [
        _leaderboard(board, inputs),
        _selection(analysis.selection),
        _comparisons(analysis.comparisons, sort=board.sort),
        _reproduction(analysis.reproduction, target.published),
        _shared_stages(inputs),
        _clinical(inputs, board, target.classes),
        _ranges(board),
        _figures(figures),
        Section(f"Examples with {examples_method}", figures=(examples,)) if examples else None,
        _params(inputs, board),
        _timing(target, inputs, board),
        _protocol(target.protocol_check),
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


def _selection(selection: SelectionEstimate | str | None) -> Section | None:
    if selection is None:
        return None
    if isinstance(selection, str):
        return Section("Selection-aware estimate of the winner", paragraphs=(selection,))
    s = selection
    level, metric = round(100 * s.confidence), METRIC_LABELS.get(s.metric, s.metric)
    text = (
        f"The top row is the best of {s.cells} cells, so its mean ({s.naive:.3f}) is biased "
        "upward. Choosing the cell within each outer fold by its inner-validation score and "
        "scoring that choice on the outer test fold estimates the whole select-then-train "
        f"procedure: {metric} {s.nested:.3f} ({level}% CI {s.ci_low:.3f} to "
        f"{s.ci_high:.3f}, corrected t-interval over {s.folds} folds, cut to the metric's "
        f"range); optimism "
        f"{s.optimism:+.3f}. Quote this number as what the winning recipe can be expected to "
        "score."
    )
    return Section("Selection-aware estimate of the winner", paragraphs=(text,))


def _comparisons(result: BaselineComparisons, *, sort: str) -> Section:
    if not result.comparisons:
        return Section(f"Comparison with the baseline {result.factor}", paragraphs=result.notes)
    text = (
        f"Each {result.factor} against {result.baseline} on every metric: {result.procedure}. "
        "Bold adjusted p-values are significant."
    )
    levels = len({c.a for c in result.comparisons})
    family = (
        f"Family of comparisons: the {levels} {result.factor} level(s) against "
        f"{result.baseline}, one family per metric; Holm's adjustment controls the "
        f"family-wise error within each metric, not across metrics. The primary metric is "
        f"{METRIC_LABELS.get(sort, sort)} (the ranking metric); the others are secondary."
    )
    return Section(
        f"Comparison with the baseline {result.factor} ({result.baseline})",
        paragraphs=(text, family, *result.notes),
        tables=(comparison_table(result),),
    )


def _reproduction(result: Reproductions | str | None, published: str | None) -> Section | None:
    if result is None:
        return None
    title = f"Reproduction of {published}"
    if isinstance(result, str):
        return Section(title, paragraphs=(result,))
    text = f"Each published cell against its reproduction: {procedure(result)}."
    return Section(title, paragraphs=(text, *summary(result)), tables=(reproduction_table(result),))


def _shared_stages(inputs: ReportInputs) -> Section | None:
    rows = stage_rows(inputs.histories, inputs.jobs)
    if not rows:
        return None
    weak = [label for label, accuracy in rows if accuracy.near_chance]
    text = (
        "What the transfer cells start from: each shared stage's accuracy on its own "
        "validation split at the epoch whose weights it kept (lowest validation loss), against "
        "chance (always the most frequent class). "
        + (
            f"{len(weak)} of {len(rows)} ended near chance (less than a quarter of the way from "
            "chance to 1): the cells above them transfer nearly untrained weights."
            if weak
            else f"All {len(rows)} learned their task (more than a quarter of the way from "
            "chance to 1)."
        )
    )
    return Section("Shared stages", paragraphs=(text,), tables=(accuracy_table(rows),))


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


def _protocol(check: ProtocolCheck | None) -> Section | None:
    """How the suite's settings compare with the published protocol it names."""
    if check is None:
        return None
    text = (
        f"The settings of this suite against {check.title} ({check.citation}), protocol card "
        f"'{check.card}': {check.summary}. 'unstated' settings are not given by the paper; "
        "deviations are declared by the suite with their reason."
    )
    table = Table(
        headers=tuple(h.capitalize() for h in check.header),
        rows=tuple(tuple(text_entry(value) for value in row) for row in check.rows),
        align="l" * len(check.header),
        caption=f"Settings against the published protocol ({check.card})",
    )
    items = tuple(f"{setting}: {reason}" for setting, reason in check.deviations)
    return Section("Published protocol", paragraphs=(text,), items=items, tables=(table,))


def _appendix(inputs: ReportInputs, board: Leaderboard, classes) -> Section:
    tables = [folds_table(inputs.scores, metrics=board.metrics, factors=board.factors)]
    if inputs.predictions:
        names = clinical.class_names(inputs, classes)
        tables.append(clinical.per_fold_class_table(inputs, board, names))
    return Section("Appendix: per-fold scores", tables=tuple(tables), appendix=True)
