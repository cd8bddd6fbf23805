"""``bench report --across A.toml B.toml ...``: rank methods over several independent datasets.

Friedman's test and the Nemenyi critical difference (Demšar 2006) compare methods across
*datasets*; the folds of one dataset are not independent, so single-suite reports leave them
out. Here each suite is one dataset (its target): a method is a combination of the grid
factors the suites share, scored by its mean over that suite's folds. Methods missing from
some suite are dropped, and the report says which. Writes ``reports/across-<names>/``:
``report.md`` (average ranks, the Friedman / Iman–Davenport test, the CD and the cliques)
and ``figures/critical_difference.png|pdf``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from bench.errors import BenchError
from bench.report.figures.canvas import FigureSkipped, save
from bench.report.figures.critical_difference import ALPHA, DATASET, draw, rank_cells, rank_table
from bench.report.inputs import load_inputs
from bench.report.leaderboard import METRIC_LABELS
from bench.report.table import Table, number, text, to_markdown
from bench.report.target import ReportTarget


def write_across_report(
    targets: Sequence[ReportTarget], *, metric: str | None = None, out: Path | None = None
) -> list[Path]:
    """Rank the shared methods of ``targets`` (one dataset each) on ``metric``."""
    if len(targets) < 2:
        raise BenchError("--across needs two or more suites: one dataset each")
    metric = metric or targets[0].sort or "auc"
    scores, factors, dropped = _joined_scores(targets, metric)
    ranked = rank_table(scores, metric=metric, factors=(DATASET, *factors))
    try:
        result = rank_cells(ranked, metric=metric)
    except FigureSkipped as skipped:
        raise BenchError(str(skipped)) from None
    out = out or Path("reports") / ("across-" + "-".join(t.name for t in targets))
    png, pdf = save(draw(result), out / "figures", "critical_difference")
    report = out / "report.md"
    report.write_text(_markdown(targets, metric, ranked.table, result, dropped))
    return [report, png, pdf]


def _joined_scores(targets: Sequence[ReportTarget], metric: str):
    import pandas as pd

    frames, factor_sets = [], []
    for target in targets:
        if not target.store_path.is_file():
            raise BenchError(f"{target.store_path}: {target.hint}")
        scores = load_inputs(
            target.store_path, suite_hash=target.suite_hash, profile=target.profile
        ).scores
        if metric not in scores.columns:
            raise BenchError(f"suite {target.name}: no stored metric {metric!r}")
        factor_sets.append(list(target.factors or scores.attrs["factors"]))
        frames.append(scores.assign(**{DATASET: target.name}))
    shared = [f for f in factor_sets[0] if all(f in other for other in factor_sets[1:])]
    joined = pd.concat(frames, ignore_index=True)
    methods = joined[shared].astype(str).agg(" / ".join, axis=1)
    per_dataset = methods.groupby(joined[DATASET]).agg(set)
    common = set.intersection(*per_dataset)
    dropped = sorted(set(methods) - common)
    joined = joined[methods.isin(common)].copy()
    joined["cell"] = methods[methods.isin(common)]  # one method name across suites
    return joined, shared, dropped


def _markdown(targets, metric: str, table, result, dropped: list[str]) -> str:
    label = METRIC_LABELS.get(metric, metric)
    friedman = result.friedman
    rows = tuple(
        (
            text(method),
            number(f"{result.rank_of(method):.2f}"),
            *(number(f"{table.loc[d, method]:.3f}") for d in table.index),
        )
        for method in result.order
    )
    headers = ("method", "average rank", *(f"{label} {d}" for d in table.index))
    ranks = Table(headers=headers, rows=rows, align="l" + "r" * (len(headers) - 1))
    cliques = "; ".join(" = ".join(c) for c in result.cliques) or "none"
    lines = [
        f"# Ranking across {len(table.index)} datasets on {label}",
        "",
        "Suites (one dataset each): " + ", ".join(t.name for t in targets) + ".",
        f"Each method's score on a dataset is its mean {label} over that suite's outer folds; "
        "rank 1 is best.",
        "",
        to_markdown(ranks),
        "",
        f"{friedman.test}: F = {friedman.f:.3g} (df {friedman.f_df1}, {friedman.f_df2}), "
        f"p = {friedman.p:.3g}; Friedman chi2 = {friedman.chi2:.3g}, p = {friedman.chi2_p:.3g}.",
        f"Nemenyi critical difference (alpha = {ALPHA}): CD = {result.cd:.2f}; groups not "
        f"shown to differ: {cliques}.",
        "",
        "![critical-difference diagram](figures/critical_difference.png)",
    ]
    if dropped:
        lines += ["", "Not in every suite, left out: " + "; ".join(dropped) + "."]
    return "\n".join(lines) + "\n"
