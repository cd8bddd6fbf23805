"""The regression gate: rerun a small suite fresh and fail when a metric or the runtime regresses.

``bench regress SUITE --baseline results/baselines/<suite>.json`` trains the suite into an
empty folder, then, per cell and gated metric, runs a one-sided non-inferiority t-test of the
fold scores against the committed baseline (paired by fold when the folds match) with the
margin declared in the suite's ``[regression]`` table, and compares the runtime as a ratio to
a calibration workload timed in the same process. See :mod:`bench.regress.gate` for the
decision procedure and :mod:`bench.regress.noninferiority` for the tests.

Nothing here imports TensorFlow except the training path (:func:`fresh_run`), lazily.
"""

from bench.regress.baseline import read_baseline, write_baseline
from bench.regress.fresh import FreshRun, fresh_run
from bench.regress.gate import (
    GateReport,
    MetricCheck,
    RuntimeCheck,
    check_gated_metrics,
    compare_snapshots,
)
from bench.regress.noninferiority import (
    NonInferiority,
    paired_noninferiority,
    welch_noninferiority,
)
from bench.regress.render import render_report
from bench.regress.snapshot import FoldScore, Snapshot, fold_scores
from bench.regress.workflow import (
    default_baseline_path,
    regression_spec,
    run_gate,
    update_baseline,
)

__all__ = [
    "FoldScore",
    "FreshRun",
    "GateReport",
    "MetricCheck",
    "NonInferiority",
    "RuntimeCheck",
    "Snapshot",
    "check_gated_metrics",
    "compare_snapshots",
    "default_baseline_path",
    "fold_scores",
    "fresh_run",
    "paired_noninferiority",
    "read_baseline",
    "regression_spec",
    "render_report",
    "run_gate",
    "update_baseline",
    "welch_noninferiority",
    "write_baseline",
]
