"""What is stored and what will train: job states against the store, and the shared stage cache.

A planned job is *stored* (its hash is done in the suite's store, or its stage weights are
in the shared cache), *failed*, *stale* (a job with the same label is stored, but some
input changed — the first one is named), or *to train*. The shared stage cache
(``<results>/cache/stages/``) is listed with the suites whose current plan uses each entry,
and pruned of entries that no current plan uses.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections import Counter
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from bench.engine.artifacts import is_complete, weights_file
from bench.engine.identity import first_difference
from bench.engine.plan import Plan
from bench.store.db import Store
from bench.store.states import JobKind, JobStatus

SHOWN = 10  # stale fold jobs described one by one; the rest are counted


class Freshness(StrEnum):
    """Where a planned job stands against the store (see the module docstring)."""

    STORED = "stored"
    FAILED = "failed"
    STALE = "stale"
    TO_TRAIN = "to train"


@dataclass(frozen=True)
class JobState:
    label: str
    kind: JobKind
    cell: str | None
    state: Freshness
    why: str = ""  # stale: the first input that changed


def job_states(plan: Plan) -> list[JobState]:
    """The state of every planned job (see the module docstring)."""
    suite = plan.suite
    jobs = [*plan.stage_jobs, *plan.fold_jobs]
    statuses, previous = {}, {}
    if suite.store_path.is_file():
        store = Store(suite.store_path)
        try:
            statuses = store.job_statuses([job.hash for job in jobs])
            previous = store.job_inputs([job.label for job in jobs], profile=suite.profile)
        finally:
            store.close()
    states = []
    for job in jobs:
        kind = JobKind.FOLD if hasattr(job, "cell") else JobKind.STAGE
        state, why = _state(job, statuses, previous, suite.artifacts_dir, kind)
        cell = job.cell.id if kind == JobKind.FOLD else None
        states.append(JobState(job.label, kind, cell, state, why))
    return states


def _state(
    job, statuses: dict, previous: dict, artifacts: Path, kind: JobKind
) -> tuple[Freshness, str]:
    status = statuses.get(job.hash)
    if status == JobStatus.DONE or (kind == JobKind.STAGE and is_complete(artifacts, job.hash)):
        return Freshness.STORED, ""
    if status == JobStatus.FAILED:
        return Freshness.FAILED, ""
    if job.label in previous and previous[job.label][0] != job.hash:
        inputs = previous[job.label][2]
        if not inputs:
            return Freshness.STALE, "stored before job inputs were recorded"
        return Freshness.STALE, first_difference(inputs, job.inputs) or "inputs changed"
    return Freshness.TO_TRAIN, ""


def describe_states(states: list[JobState]) -> list[str]:
    """Lines for ``bench validate`` and ``bench run --dry-run``."""
    counts = Counter(s.state for s in states)
    order = (Freshness.STORED, Freshness.STALE, Freshness.FAILED, Freshness.TO_TRAIN)
    lines = ["cache: " + ", ".join(f"{counts[k]} {k}" for k in order if counts[k])]
    lines += [_line(s) for s in states if s.kind == JobKind.STAGE]
    stale = [s for s in states if s.kind == JobKind.FOLD and s.state == Freshness.STALE]
    lines += [_line(s) for s in stale[:SHOWN]]
    if len(stale) > SHOWN:
        lines.append(f"  ... and {len(stale) - SHOWN} more stale fold jobs")
    by_cell = Counter((s.cell, s.state) for s in states if s.kind == JobKind.FOLD)
    for cell in dict.fromkeys(s.cell for s in states if s.kind == JobKind.FOLD):
        parts = ", ".join(f"{by_cell[cell, k]} {k}" for k in order if by_cell[cell, k])
        lines.append(f"  {cell}: {parts}")
    return lines


def _line(state: JobState) -> str:
    kind = "stage " if state.kind == JobKind.STAGE else ""
    why = f" ({state.why})" if state.why else ""
    return f"  {kind}{state.label}: {state.state}{why}"


@dataclass(frozen=True)
class CacheEntry:
    job: str
    path: Path
    bytes: int
    last_used: float  # seconds since the epoch (file modification time)
    labels: tuple[str, ...]  # how the stores call it
    suites: tuple[str, ...]  # suites whose current plan uses it


def list_cache(results: Path) -> list[CacheEntry]:
    """Every shared stage file under ``results/cache/stages``, newest use first."""
    directory = Path(results) / "cache" / "stages"
    users, labels = _current_stage_users(Path(results))
    entries = [
        CacheEntry(
            job=path.stem,
            path=path,
            bytes=path.stat().st_size,
            last_used=path.stat().st_mtime,
            labels=tuple(sorted(labels.get(path.stem, ()))),
            suites=tuple(sorted(users.get(path.stem, ()))),
        )
        for path in directory.glob("*.npz")
    ]
    return sorted(entries, key=lambda e: -e.last_used)


def prune_cache(results: Path, *, dry_run: bool = False) -> list[CacheEntry]:
    """Remove the entries no suite's current plan uses; return them."""
    unused = [entry for entry in list_cache(results) if not entry.suites]
    if not dry_run:
        for entry in unused:
            entry.path.unlink(missing_ok=True)
    return unused


def mark_used(artifacts: Path, jobs) -> None:
    """Touch the stage files a run uses, so ``bench cache list`` shows their last use."""
    now = time.time()
    for job in jobs:
        path = weights_file(artifacts, job.hash)
        if path.is_file():
            os.utime(path, (now, now))


def describe_cache(entries: list[CacheEntry]) -> list[str]:
    total = sum(e.bytes for e in entries)
    lines = [f"{len(entries)} shared stage(s), {total / 2**20:.1f} MiB"]
    for e in entries:
        used = time.strftime("%Y-%m-%d %H:%M", time.localtime(e.last_used))
        suites = ", ".join(e.suites) or "no current suite (bench cache prune removes it)"
        label = ", ".join(e.labels) or "unknown stage"
        lines.append(f"  {e.job}  {e.bytes / 2**20:6.1f} MiB  used {used}  {label}  [{suites}]")
    return lines


def _current_stage_users(results: Path) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """Stage hash -> suites whose latest plan (per profile) has it, and -> its labels."""
    users: dict[str, set[str]] = {}
    labels: dict[str, set[str]] = {}
    for path in sorted(results.glob("*/bench.sqlite")):
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            stored = db.execute("SELECT hash, label FROM jobs WHERE kind = 'stage'").fetchall()
            rows = db.execute(
                "SELECT p.job, p.label, r.suite, r.profile FROM plan p JOIN runs r "
                "ON r.suite_hash = p.suite_hash AND r.profile = p.profile "
                "WHERE p.kind = 'stage' AND r.id IN "
                "(SELECT MAX(id) FROM runs GROUP BY suite, profile)"
            ).fetchall()
        except sqlite3.DatabaseError:
            stored, rows = [], []  # not a results store, or an empty one
        finally:
            db.close()
        for job, _, suite, profile in rows:
            name = suite if profile == "default" else f"{suite}:{profile}"
            users.setdefault(job, set()).add(name)
        for job, label in stored:
            labels.setdefault(job, set()).add(label)
    return users, labels
