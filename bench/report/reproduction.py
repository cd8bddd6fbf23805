"""Verdicts of a reproduction against a published table, for ``bench compare --published``
and the report's "Reproduction" section (when ``[report] published`` names the table).

The margin comes from ``--margin``, else the suite's ``[report] margin``
(:attr:`ReportTarget.margin`); without either there is no test.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from bench.errors import BenchError
from bench.report.leaderboard import METRIC_LABELS
from bench.report.table import Table, number, text
from bench.report.target import ReportTarget
from bench.stats.equivalence import VERDICTS
from bench.stats.reproduction import Reproductions, reproduction_verdicts
from bench.store.imports import published_scores

if TYPE_CHECKING:
    import pandas as pd


def verdicts_against(
    target: ReportTarget,
    scores: pd.DataFrame,
    *,
    published: str | None = None,
    margin: float | None = None,
    metrics: Sequence[str] | None = None,
) -> Reproductions:
    """The verdicts of ``scores`` against the imported table ``published`` (default: the
    suite's ``[report] published``), at ``margin`` (default: ``[report] margin``, else the
    protocol card's)."""
    name = published or target.published
    if name is None:
        raise BenchError("no published table: pass --published NAME or set [report] published")
    margin = margin if margin is not None else target.margin
    if margin is None:
        raise BenchError(
            f"published table {name!r}: no equivalence margin; pass --margin (e.g. 0.02) or set "
            "[report] margin in the suite"
        )
    table = published_scores(name)
    if metrics is not None:  # the report's metrics that the published table holds
        metrics = [m for m in metrics if m in table.columns]
    return reproduction_verdicts(scores, table, margin=margin, metrics=metrics)


def procedure(result: Reproductions) -> str:
    """The test and the verdict rule in one sentence."""
    level = round(100 * (1 - 2 * result.alpha))
    return (
        "TOST of each cell's fold mean against the published value, with the Nadeau-Bengio "
        f"corrected standard error, margin ±{result.margin:g}, alpha {result.alpha:g}: "
        f"reproduced when the {level}% CI of the difference lies inside ±{result.margin:g}, "
        "differs when it lies wholly outside, otherwise inconclusive"
    )


def summary(result: Reproductions) -> list[str]:
    """The counts of each verdict, and the published cells the reproduction has not run."""
    counts = ", ".join(f"{n} {verdict}" for verdict, n in result.counts().items())
    lines = [f"{len(result.rows)} verdicts (published cell × metric): {counts}"]
    if result.not_reproduced:
        missing = ", ".join(result.not_reproduced)
        lines.append(f"published cells not in the reproduction: {missing}")
    return lines


def reproduction_table(result: Reproductions) -> Table:
    """One row per published cell and metric: the numbers and the verdict."""
    level = round(100 * (1 - 2 * result.alpha))
    rows = tuple(
        (
            text(METRIC_LABELS.get(r.metric, r.metric)),
            text(r.published_cell),
            number(str(r.n)),
            number(f"{r.mean:.3f}"),
            number(f"{r.published:.3f}"),
            number(f"{r.mean - r.published:+.3f}"),
            number(f"{r.test.ci_low:+.3f} to {r.test.ci_high:+.3f}" if r.test else "–"),
            number(f"{r.test.p_lower:.3g}" if r.test else "–"),
            number(f"{r.test.p_upper:.3g}" if r.test else "–"),
            text(r.verdict + (f" ({r.note})" if r.note else "")),
        )
        for r in result.rows
    )
    return Table(
        headers=(
            "Metric",
            "Cell",
            "Folds",
            "Reproduced",
            "Published",
            "Difference",
            f"{level}% CI",
            f"p (d ≤ −{result.margin:g})",
            f"p (d ≥ +{result.margin:g})",
            "Verdict",
        ),
        rows=rows,
        align="llrrrrrrrl",
        caption="Reproduced fold means against the published values",
        note=f"Verdicts: {', '.join(VERDICTS)}; d = reproduced − published.",
    )
