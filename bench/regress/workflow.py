"""The two things ``bench regress`` does: gate a fresh run, or make it the new baseline."""

from __future__ import annotations

from pathlib import Path

from bench.config.spec import RegressionSpec, Suite
from bench.errors import BenchError
from bench.regress.baseline import read_baseline, write_baseline
from bench.regress.fresh import FreshRun, fresh_run
from bench.regress.gate import GateReport, check_gated_metrics, compare_snapshots


def default_baseline_path(suite: Suite) -> Path:
    """``results/baselines/<suite name>.json``, the committed baseline of a suite."""
    return Path("results") / "baselines" / f"{suite.name}.json"


def regression_spec(suite: Suite) -> RegressionSpec:
    """The suite's ``[regression]`` table, checked; a suite without one cannot be gated."""
    if suite.regression is None:
        raise BenchError(
            f"{suite.path}: no [regression] table; declare the margins the gate allows, e.g. "
            "[regression] margins = { accuracy = 0.05, auc = 0.05 }"
        )
    check_gated_metrics(suite.regression, file=str(suite.path))
    return suite.regression


def run_gate(
    suite: Suite, *, baseline: Path, keep: Path | None = None, progress: bool = True
) -> tuple[FreshRun, GateReport]:
    """Run ``suite`` fresh and compare it with the baseline file (read first: fail early)."""
    spec = regression_spec(suite)
    before = read_baseline(baseline)
    run = fresh_run(suite, keep=keep, progress=progress)
    return run, compare_snapshots(baseline=before, now=run.snapshot, spec=spec)


def update_baseline(
    suite: Suite, *, baseline: Path, keep: Path | None = None, progress: bool = True
) -> FreshRun:
    """Run ``suite`` fresh and write it to ``baseline``; a run with failed jobs is refused."""
    regression_spec(suite)
    run = fresh_run(suite, keep=keep, progress=progress)
    if run.summary.failed:
        label, error = run.summary.failed[0]
        raise BenchError(
            f"{len(run.summary.failed)} job(s) failed (first: {label}: {error}); a baseline "
            f"must come from a complete run, so {baseline} was left unchanged"
        )
    write_baseline(run.snapshot, baseline)
    return run
