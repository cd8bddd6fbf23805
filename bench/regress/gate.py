"""The gate: compare a fresh snapshot with the baseline, cell by cell and metric by metric.

Decision procedure:

1. Folds pair when the fold fingerprints match (same suite, same data → same test images in
   every fold): each gated metric of each cell gets :func:`paired_noninferiority` on its
   per-fold gains. Otherwise the unpaired :func:`welch_noninferiority`, and a note says so.
2. A metric passes when p <= alpha, i.e. the run is shown to be no worse than the margin
   declared in ``[regression].margins``. The gate passes only when every test passes: an
   intersection-union test, whose level is alpha without any multiplicity correction
   (Berger 1982), because one failing test is enough to fail it.
3. A cell or fold of the baseline that the run no longer scores (a job failed, a cell left
   the grid) is ``MISSING`` and fails; a cell new to the run is listed as ``new`` and does
   not fail.
4. Runtime: the CPU time of the run divided by the CPU time of a calibration workload
   measured in the same process, so a machine 3x slower at everything gives the same ratio.
   The gate fails when that normalised runtime grew by more than ``runtime_tolerance``
   (e.g. 1.5x). CPU time does not see a run that got slower by waiting (sleeps, I/O, lost
   parallelism); it is what stays comparable on a shared machine.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from bench.config.spec import RegressionSpec
from bench.errors import BenchError
from bench.metrics import METRICS, higher_is_better
from bench.regress.noninferiority import (
    NonInferiority,
    paired_noninferiority,
    welch_noninferiority,
)
from bench.regress.snapshot import Snapshot

OK, REGRESSION, NEW, MISSING = "ok", "REGRESSION", "new", "MISSING"
FAILING = frozenset({REGRESSION, MISSING})


@dataclass(frozen=True)
class MetricCheck:
    """One cell and metric: fold means then and now, the test, and the verdict."""

    cell: str
    metric: str
    baseline: float  # mean over folds; NaN for a new cell
    now: float  # mean over folds; NaN for a missing cell
    margin: float
    verdict: str
    result: NonInferiority | None = None


@dataclass(frozen=True)
class RuntimeCheck:
    """Normalised runtimes (run seconds / calibration seconds) then and now."""

    baseline: float
    now: float
    tolerance: float

    @property
    def ratio(self) -> float:
        return self.now / self.baseline

    @property
    def verdict(self) -> str:
        return OK if self.ratio <= self.tolerance else REGRESSION


@dataclass(frozen=True)
class GateReport:
    """Everything the gate decided; :func:`bench.regress.render.render_report` prints it."""

    metrics: tuple[MetricCheck, ...]
    runtime: RuntimeCheck
    alpha: float
    paired: bool
    notes: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        verdicts = [c.verdict for c in self.metrics] + [self.runtime.verdict]
        return not FAILING.intersection(verdicts)


def check_gated_metrics(spec: RegressionSpec, *, file: str) -> None:
    """Raise unless every metric with a margin is one bench computes (before any training)."""
    for metric, _ in spec.margins:
        if metric not in METRICS:
            raise BenchError(
                f"{file}: 'regression.margins.{metric}' is not a metric; "
                f"use one of {', '.join(METRICS)}"
            )


def compare_snapshots(*, baseline: Snapshot, now: Snapshot, spec: RegressionSpec) -> GateReport:
    """Test every gated metric of every cell, and the runtime, against the baseline."""
    paired = baseline.fold_fingerprint == now.fold_fingerprint
    cells = tuple(dict.fromkeys((*baseline.cells, *now.cells)))
    checks = tuple(
        _check(cell, metric, margin, baseline=baseline, now=now, paired=paired, alpha=spec.alpha)
        for cell in cells
        for metric, margin in spec.margins
    )
    runtime = RuntimeCheck(
        baseline=baseline.normalised_runtime,
        now=now.normalised_runtime,
        tolerance=spec.runtime_tolerance,
    )
    notes = _notes(baseline, now, paired=paired)
    return GateReport(metrics=checks, runtime=runtime, alpha=spec.alpha, paired=paired, notes=notes)


def _check(cell, metric, margin, *, baseline: Snapshot, now: Snapshot, paired, alpha):
    before, after = baseline.scores(cell, metric), now.scores(cell, metric)
    if cell in baseline.cells and not before:
        raise BenchError(
            f"the baseline has no {metric} scores for cell {cell}; regenerate it with "
            "--update-baseline or drop the margin"
        )
    means = (_mean(before), _mean(after))
    if not before:
        return MetricCheck(cell, metric, *means, margin, NEW)
    if not after or (paired and before.keys() - after.keys()):
        return MetricCheck(cell, metric, *means, margin, MISSING)
    result = _test(before, after, margin=margin, paired=paired, higher=higher_is_better(metric))
    verdict = OK if result.p <= alpha else REGRESSION
    return MetricCheck(cell, metric, *means, margin, verdict, result)


def _test(before: dict, after: dict, *, margin: float, paired: bool, higher: bool):
    if paired:
        keys = sorted(before)
        now, base = [after[k] for k in keys], [before[k] for k in keys]
        return paired_noninferiority(now, base, margin=margin, higher_is_better=higher)
    return welch_noninferiority(
        list(after.values()), list(before.values()), margin=margin, higher_is_better=higher
    )


def _mean(values: dict) -> float:
    return math.fsum(values.values()) / len(values) if values else math.nan


def _notes(baseline: Snapshot, now: Snapshot, *, paired: bool) -> tuple[str, ...]:
    notes = []
    if (baseline.suite_hash, baseline.profile) != (now.suite_hash, now.profile):
        notes.append(
            f"the suite changed since the baseline (hash {baseline.suite_hash}, profile "
            f"{baseline.profile} → {now.suite_hash}, {now.profile}); if deliberate, "
            "rerun with --update-baseline"
        )
    before, after = _backend(baseline), _backend(now)
    if before and after and before != after:
        notes.append(
            f"the backend differs from the baseline's ({before} → {after}): its round-off "
            "moves fold scores and runtime; gate each backend against a baseline of its own "
            "(--baseline FILE --update-baseline)"
        )
    if not paired:
        notes.append("the outer folds differ from the baseline's: unpaired Welch t-tests")
    return tuple(notes)


def _backend(snapshot: Snapshot) -> str | None:
    """The Keras backend a snapshot was trained on, where its provenance says."""
    return snapshot.provenance.get("versions", {}).get("backend")
