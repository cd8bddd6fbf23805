"""Run a suite fresh — calibrate, train every job into an empty results folder — and snapshot it.

"Fresh" is literal: the run never sees the user's ``results/<suite>/`` store or its stage
weights, so every job retrains (a resumed run would report the old numbers) and nothing the
gate trains mixes with a user's results. TensorFlow is imported only once training starts.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from bench.config.spec import Suite
from bench.errors import BenchError
from bench.metrics import METRICS
from bench.regress.snapshot import FoldScore, Snapshot, fold_scores

if TYPE_CHECKING:
    from bench.engine.coordinator import RunSummary


@dataclass(frozen=True)
class FreshRun:
    """A fresh run's snapshot and the runner's summary (failures, wall time)."""

    snapshot: Snapshot
    summary: RunSummary


def fresh_run(suite: Suite, *, keep: Path | None = None, progress: bool = True) -> FreshRun:
    """Run every job of ``suite`` in an empty folder, with the calibration timed around it.

    Both are timed in CPU seconds of this process (all threads): wall time on a shared
    machine mostly measures the neighbours. On this project's 2-core machine, two busy
    processes started mid-run moved the wall-time ratio by +12% and a busier hour by +42%,
    the CPU-time ratio by -5%. The calibration is timed just before and just after the suite
    and averaged, which follows a machine whose speed drifts during the run.

    ``keep`` names a folder to train into and keep (it must not exist or be empty), e.g. to
    upload the results database as a CI artifact; by default a temporary folder is used
    and removed.
    """
    from bench.engine.coordinator import RunOptions, run_suite
    from bench.regress.calibrate import calibration_seconds

    with _results_folder(keep) as folder:
        fresh = dataclasses.replace(suite, results_dir=folder)
        before = calibration_seconds()
        started = time.process_time()
        summary = run_suite(fresh, options=RunOptions(progress=progress))
        seconds = time.process_time() - started
        if summary.interrupted:
            raise KeyboardInterrupt
        calibration = (before + calibration_seconds()) / 2
        snapshot = _snapshot(fresh, seconds=seconds, calibration=calibration, wall=summary.wall)
    return FreshRun(snapshot=snapshot, summary=summary)


@contextmanager
def _results_folder(keep: Path | None) -> Iterator[Path]:
    if keep is None:
        with tempfile.TemporaryDirectory(prefix="bench-regress-") as folder:
            yield Path(folder)
        return
    keep = Path(keep)
    if keep.exists() and (not keep.is_dir() or any(keep.iterdir())):
        raise BenchError(
            f"{keep}: --keep needs a new or empty folder, so that every job retrains; "
            "remove it or name another"
        )
    keep.mkdir(parents=True, exist_ok=True)
    yield keep


def _snapshot(suite: Suite, *, seconds: float, calibration: float, wall: float) -> Snapshot:
    from bench.store.db import Store

    store = Store(suite.store_path)
    try:
        folds = _stored_folds(store, suite)
        fingerprint = _fold_fingerprint(store, suite)
    finally:
        store.close()
    return Snapshot(
        suite=suite.name,
        suite_hash=suite.hash,
        profile=suite.profile,
        fold_fingerprint=fingerprint,
        folds=folds,
        suite_seconds=seconds,
        calibration_seconds=calibration,
        provenance={**_provenance(suite), "wall_seconds": wall},
    )


def _stored_folds(store, suite: Suite) -> tuple[FoldScore, ...]:
    """The fold scores of the run; none when every fold failed (the gate then says MISSING)."""
    from bench.store.scores import load_scores

    finished = store.db.execute("SELECT COUNT(*) FROM fold_results").fetchone()[0]
    if not finished:
        return ()
    scores = load_scores(store, suite_hash=suite.hash, profile=suite.profile)
    return fold_scores(scores, metrics=METRICS)


def _fold_fingerprint(store, suite: Suite) -> str:
    """Hash of the sample ids in every outer test fold: equal hashes mean folds pair."""
    assigned = store.fold_assignments(
        suite_hash=suite.hash, profile=suite.profile, dataset=suite.target
    )
    rows = sorted([r, f, sample] for r, f, sample, part in assigned if part == "test")
    return hashlib.sha256(json.dumps(rows).encode()).hexdigest()[:16]


def _provenance(suite: Suite) -> dict:
    from bench.engine.provenance import provenance

    where = provenance(suite_path=suite.path, seed=suite.seed)
    return {
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "git_commit": where["git_commit"],
        "versions": where["versions"],
        "hardware": where["hardware"],
    }
