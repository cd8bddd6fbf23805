"""Where the compute went: runs, shared stage jobs (trained once, reused) and fold jobs per cell.

Read from the jobs and runs tables only. A stage job (pretraining, an intermediate domain, an
unlabelled pool) is trained once and every later run, fold and suite version with the same
content hash reuses it; its "trained in run" column shows where it came from, and a run's
"already stored" count is the planned jobs it found done and skipped. Durations are the
wall-clock seconds of each job as the coordinator recorded them. Imported results have no
timings, so their report leaves this section out.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bench.report.leaderboard import Leaderboard, label_headers, row_labels
from bench.report.table import Table, number, text
from bench.store.states import JobKind, JobStatus

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class RunTiming:
    """One run: when, how long, what it trained, and how many planned jobs it found stored."""

    id: int
    status: str
    started: float
    wall: float | None
    stages_trained: int
    folds_trained: int
    already_stored: int


@dataclass(frozen=True)
class StageTiming:
    """One shared stage job: its label, status, seconds, and the run that trained it."""

    label: str
    status: str
    seconds: float | None
    run_id: int | None


@dataclass(frozen=True)
class CellTiming:
    """The fold jobs of one cell: counts by status, mean and total seconds of those done."""

    cell: str
    done: int
    failed: int
    pending: int
    mean_seconds: float
    total_seconds: float


@dataclass(frozen=True)
class Timing:
    """Runs (oldest first), stage jobs (plan order), fold jobs per cell, and reuse counts.

    ``base_folds`` counts the fold jobs whose strategy starts from base weights, i.e. those
    that reuse the stage jobs (None when unknown, e.g. no suite file).
    """

    runs: tuple[RunTiming, ...]
    stages: tuple[StageTiming, ...]
    cells: Mapping[str, CellTiming]
    base_folds: int | None


def compute_timing(
    jobs: pd.DataFrame,
    runs: Sequence[Mapping[str, object]],
    *,
    base_cells: Collection[str] | None = None,
) -> Timing:
    """Summarise the planned ``jobs`` and the suite's ``runs`` (see :class:`ReportInputs`)."""
    folds = jobs[jobs["kind"] == JobKind.FOLD]
    base_folds = None if base_cells is None else int(folds["cell"].isin(list(base_cells)).sum())
    return Timing(
        runs=tuple(_run(jobs, run) for run in runs),
        stages=tuple(
            StageTiming(
                label=str(row.label),
                status=row.status or JobStatus.PENDING,
                seconds=_number(row.duration),
                run_id=None if _number(row.run_id) is None else int(row.run_id),
            )
            for row in jobs[jobs["kind"] == JobKind.STAGE].itertuples(index=False)
        ),
        cells={str(cell): _cell(str(cell), group) for cell, group in folds.groupby("cell")},
        base_folds=base_folds,
    )


def timing_summary(timing: Timing) -> tuple[str, ...]:
    """Sentences on total compute and stage reuse."""
    fold_seconds = sum(c.total_seconds for c in timing.cells.values())
    folds_done = sum(c.done for c in timing.cells.values())
    lines = [f"Fold jobs: {folds_done} done, {_seconds(fold_seconds)} in total."]
    done = [s for s in timing.stages if s.status == JobStatus.DONE]
    if done:
        seconds = sum(s.seconds or 0.0 for s in done)
        reuse = (
            f" and reused by the {timing.base_folds} fold jobs of cells whose strategy starts "
            "from base weights"
            if timing.base_folds
            else ""
        )
        lines.append(
            f"Shared stage jobs: {len(done)} trained once ({_seconds(seconds)} in total){reuse}; "
            "reruns and other suite versions with the same stage hash reuse them too."
        )
    return tuple(lines)


def runs_table(timing: Timing) -> Table:
    """One row per run: id, status, start (UTC), wall time, jobs trained and found stored."""
    rows = tuple(
        (
            number(str(run.id)),
            text(run.status),
            text(_date(run.started)),
            number(_seconds(run.wall)),
            number(str(run.stages_trained)),
            number(str(run.folds_trained)),
            number(str(run.already_stored)),
        )
        for run in timing.runs
    )
    return Table(
        headers=("Run", "Status", "Started", "Wall", "Stages trained", "Folds trained", "Stored"),
        rows=rows,
        align="rllrrrr",
        caption="Runs of this suite and profile; Stored = planned jobs found done and skipped",
    )


def stages_table(timing: Timing) -> Table | None:
    """The shared stage jobs with their seconds and the run that trained them; None if none."""
    if not timing.stages:
        return None
    rows = tuple(
        (
            text(stage.label),
            text(stage.status),
            number(_seconds(stage.seconds)),
            number("–" if stage.run_id is None else str(stage.run_id)),
        )
        for stage in timing.stages
    )
    return Table(
        headers=("Stage job", "Status", "Time", "Trained in run"),
        rows=rows,
        align="llrr",
        caption="Shared stage jobs, each trained once and reused",
    )


def cells_table(timing: Timing, *, board: Leaderboard) -> Table:
    """Fold jobs per cell in leaderboard order: counts by status, mean and total time."""
    empty = CellTiming("", 0, 0, 0, math.nan, 0.0)
    labels = label_headers(board.factors)
    rows = tuple(
        (
            *(text(level) for level in row_labels(row)),
            *(number(str(n)) for n in _counts(timing.cells.get(row.cell, empty))),
            number(_seconds(timing.cells.get(row.cell, empty).mean_seconds)),
            number(_seconds(timing.cells.get(row.cell, empty).total_seconds)),
        )
        for row in board.rows
    )
    return Table(
        headers=(*labels, "Done", "Failed", "Pending", "Mean / fold", "Total"),
        rows=rows,
        align="l" * len(labels) + "rrrrr",
        caption="Fold jobs per cell",
    )


def _run(jobs: pd.DataFrame, run: Mapping[str, Any]) -> RunTiming:
    run_id = int(run["id"])
    trained = jobs[jobs["run_id"] == run_id]
    stored = (jobs["status"] == JobStatus.DONE) & (jobs["run_id"] < run_id)
    ended = run.get("ended")
    return RunTiming(
        id=run_id,
        status=str(run["status"]),
        started=float(run["started"]),
        wall=None if ended is None else float(ended) - float(run["started"]),
        stages_trained=int((trained["kind"] == JobKind.STAGE).sum()),
        folds_trained=int((trained["kind"] == JobKind.FOLD).sum()),
        already_stored=int(stored.sum()),
    )


def _cell(cell: str, group: pd.DataFrame) -> CellTiming:
    done = group[group["status"] == JobStatus.DONE]["duration"].astype(float)
    return CellTiming(
        cell=cell,
        done=len(done),
        failed=int((group["status"] == JobStatus.FAILED).sum()),
        pending=int(group["status"].isna().sum()),
        mean_seconds=float(done.mean()) if len(done) else math.nan,
        total_seconds=float(done.sum()),
    )


def _counts(cell: CellTiming) -> tuple[int, int, int]:
    return cell.done, cell.failed, cell.pending


def _number(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) else value


def _seconds(value: float | None) -> str:
    if value is None or math.isnan(value):
        return "–"
    if value < 120:
        return f"{value:.1f} s"
    return f"{value / 60:.1f} min"


def _date(timestamp: float) -> str:
    return dt.datetime.fromtimestamp(timestamp, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
