"""``bench report``: read the store, never train, and write ``reports/<suite>/``.

Always written: ``report.md`` (the whole report), ``folds.csv`` (every fold result at full
precision) and ``figures/*.png|pdf``. With ``latex``: ``leaderboard.tex`` and
``comparisons.tex`` (booktabs fragments to ``\\input`` into a paper) and ``report.tex`` (a
standalone document for plain pdflatex). With ``html``: ``report.html``, one self-contained
interactive page (figures inline). The same store gives
the same files, except the "generated:" line of the provenance block.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from bench.config.spec import Suite
from bench.errors import BenchError, StatsError
from bench.metrics import LOWER_IS_BETTER
from bench.report.appendix import folds_csv
from bench.report.cost import cell_costs
from bench.report.document import Analysis, Document, build_document
from bench.report.figures import (
    EXAMPLES,
    FIGURES,
    FigureContext,
    FigureFile,
    FigureSet,
    draw_figures,
)
from bench.report.html_report import html_document, page_data
from bench.report.inputs import ReportInputs, load_inputs
from bench.report.latex_report import latex_document
from bench.report.leaderboard import (
    build_leaderboard,
    render_latex,
    render_markdown,
    resolve_factors,
    with_marks,
)
from bench.report.markdown_report import markdown_document
from bench.report.provenance import provenance_lines
from bench.report.reproduction import verdicts_against
from bench.report.significance import baseline_marks, compare_with_baseline, comparison_table
from bench.report.table import to_latex
from bench.report.target import ReportTarget, target_from_suite
from bench.stats.reproduction import Reproductions
from bench.stats.selection import SelectionEstimate, nested_estimate


@dataclass(frozen=True)
class ReportRequest:
    """Options of ``bench report``; None falls back to the suite's ``[report]`` settings."""

    latex: bool = False
    html: bool = False
    metrics: tuple[str, ...] | None = None
    sort: str | None = None
    baseline: str | None = None


def write_report(
    source: Suite | ReportTarget, *, request: ReportRequest = ReportRequest()
) -> list[Path]:
    """Write the report of ``source`` (a suite or a resolved target); return the files."""
    target = source if isinstance(source, ReportTarget) else target_from_suite(source)
    if not target.store_path.is_file():
        raise BenchError(f"{target.store_path}: {target.hint}")
    inputs = load_inputs(target.store_path, suite_hash=target.suite_hash, profile=target.profile)
    analysis = analyse(target, inputs, request=request)
    out = target.out_dir
    out.mkdir(parents=True, exist_ok=True)
    context = FigureContext(
        inputs=inputs,
        board=analysis.board,
        baseline=analysis.comparisons.baseline,
        classes=target.classes,
        heatmap=target.heatmap,
    )
    figures = draw_figures(context, out / "figures")
    _remove_stale_figures(out / "figures", figures)
    document = build_document(
        target=target,
        inputs=inputs,
        analysis=analysis,
        figures=figures,
        **_examples(out / "figures"),
    )
    board, costs = analysis.board, cell_costs(inputs)
    files = [
        _write(out / "report.md", markdown_document(document)),
        _write(out / "leaderboard.md", render_markdown(board, costs=costs)),  # alone, to paste
        _write(
            out / "folds.csv",
            folds_csv(inputs.scores, inputs.folds, metrics=board.metrics, factors=board.factors),
        ),
    ]
    if request.latex:
        files += _latex_files(out, target, analysis, document, costs)
    if request.html:
        page = html_document(
            document, figures_dir=out / "figures", data=page_data(inputs, analysis.board)
        )
        files.append(_write(out / "report.html", page))
    return files + [out / path for f in figures.files for path in (f.png, f.pdf)]


def analyse(target: ReportTarget, inputs: ReportInputs, *, request: ReportRequest) -> Analysis:
    """The leaderboard with its significance marks, the comparisons and the provenance."""
    scores = inputs.scores
    factors = target.factors if target.factors is not None else resolve_factors(scores, None)
    board = build_leaderboard(
        scores,
        metrics=request.metrics or target.metrics,
        sort=request.sort or target.sort,
        factors=factors,
    )
    comparisons = compare_with_baseline(
        scores,
        metrics=board.metrics,
        factors=board.factors,
        baseline=request.baseline or target.baseline,
    )
    board = with_marks(board, *baseline_marks(comparisons, scores))
    provenance = provenance_lines(
        name=target.name,
        suite_hash=inputs.suite_hash,
        profile=inputs.profile,
        protocol=target.protocol,
        runs=inputs.runs,
        cells=len(board.rows),
        folds=len(scores),
    )
    return Analysis(
        board=board,
        comparisons=comparisons,
        provenance=provenance,
        selection=_selection(inputs, board),
        reproduction=_reproduction(target, inputs, board),
    )


def _reproduction(target: ReportTarget, inputs: ReportInputs, board) -> Reproductions | str | None:
    """The verdicts against the suite's published table, or why there are none."""
    if target.published is None:
        return None
    try:
        return verdicts_against(target, inputs.scores, metrics=board.metrics)
    except BenchError as error:
        return f"No verdicts against {target.published}: {error}."


def _selection(inputs: ReportInputs, board) -> SelectionEstimate | str | None:
    """The nested estimate of the leaderboard's winner, or why there is none."""
    if board.sort not in inputs.scores.columns or inputs.scores["cell"].nunique() < 2:
        return None
    if inputs.validation is None:
        return (
            "No selection-aware estimate: these results hold no inner-validation scores "
            "(imported, or stored before bench recorded them); rerun the suite to get it."
        )
    scores = inputs.scores.merge(inputs.validation, on=["cell", "repeat", "fold"], how="left")
    try:
        return nested_estimate(
            scores, metric=board.sort, higher_is_better=board.sort not in LOWER_IS_BETTER
        )
    except StatsError as error:
        return f"No selection-aware estimate: {error}."


def _latex_files(
    out: Path, target: ReportTarget, analysis: Analysis, document: Document, costs
) -> list[Path]:
    caption = (
        f"{target.description or target.name}. Mean ± sd over outer test folds × repeats; "
        "best per column in bold."
    )
    files = [
        _write(
            out / "leaderboard.tex",
            render_latex(
                analysis.board,
                caption=caption,
                label=f"tab:{target.name}-leaderboard",
                costs=costs,
            ),
        )
    ]
    if analysis.comparisons.comparisons:
        table = comparison_table(analysis.comparisons)
        files.append(
            _write(out / "comparisons.tex", to_latex(table, label=f"tab:{target.name}-comparisons"))
        )
    files.append(_write(out / "report.tex", latex_document(document)))
    return files


def _remove_stale_figures(directory: Path, figures: FigureSet) -> None:
    """Delete figures an earlier report drew that these results no longer give."""
    drawn = {f.stem for f in figures.files}
    for stem, _ in FIGURES:
        if stem not in drawn:
            for suffix in (".png", ".pdf"):
                (directory / f"{stem}{suffix}").unlink(missing_ok=True)


def _examples(directory: Path) -> dict:
    """The figure `bench explain --examples` left here for the report, if any, and the
    name of its maps."""
    caption = directory / f"{EXAMPLES}.json"
    if not (caption.is_file() and (directory / f"{EXAMPLES}.png").is_file()):
        return {}
    meta = json.loads(caption.read_text())
    return {
        "examples": FigureFile(EXAMPLES, meta["caption"]),
        "examples_method": meta.get("method", "Grad-CAM"),
    }


def _write(path: Path, text: str) -> Path:
    path.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
    return path
