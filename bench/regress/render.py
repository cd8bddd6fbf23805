"""The gate's verdict as text: one row per cell and metric, then the runtime, then notes."""

from __future__ import annotations

import math

from bench.regress.gate import FAILING, GateReport, MetricCheck, RuntimeCheck

HEADERS = ("cell", "metric", "baseline", "now", "margin", "p", "verdict")


def render_report(report: GateReport) -> str:
    """A plain-text table (tabulate) with the tests named under it and a one-line verdict."""
    from tabulate import tabulate

    rows = [_metric_row(check) for check in report.metrics] + [_runtime_row(report.runtime)]
    table = tabulate(rows, headers=HEADERS, disable_numparse=True)
    return "\n".join([table, "", *_footer(report)])


def _metric_row(check: MetricCheck) -> tuple[str, ...]:
    p = "" if check.result is None else f"{check.result.p:.3g}"
    return (
        check.cell,
        check.metric,
        _number(check.baseline),
        _number(check.now),
        f"{check.margin:g}",
        p,
        check.verdict,
    )


def _runtime_row(runtime: RuntimeCheck) -> tuple[str, ...]:
    return (
        "(whole suite)",
        "cpu time / calibration",
        f"{runtime.baseline:.1f}",
        f"{runtime.now:.1f}",
        f"×{runtime.tolerance:g}",
        f"ratio {runtime.ratio:.2f}",
        runtime.verdict,
    )


def _footer(report: GateReport) -> list[str]:
    test = "paired t-test on per-fold gains" if report.paired else "Welch t-test"
    verdicts = [c.verdict for c in report.metrics] + [report.runtime.verdict]
    failed = sum(v in FAILING for v in verdicts)
    lines = [
        f"non-inferiority: one-sided {test}, H0 mean gain <= -margin, pass when p <= "
        f"{report.alpha:g}; runtime: process CPU time over that of a calibration "
        "workload timed in the same process",
        *(f"note: {note}" for note in report.notes),
    ]
    verdict = "gate passed" if report.passed else f"gate FAILED: {failed} check(s) regressed"
    return [*lines, verdict]


def _number(value: float) -> str:
    return "" if math.isnan(value) else f"{value:.4f}"
