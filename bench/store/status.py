"""``bench status``: done, pending and failed jobs per cell, read from the store only.

Reads SQLite and nothing heavier, so it answers in well under a second while a run trains.
"""

from __future__ import annotations

from collections import Counter, defaultdict

from bench.config.spec import Suite
from bench.store.db import Store
from bench.store.states import JobKind, JobStatus


def suite_status(suite: Suite, *, running: str | None = None) -> str:
    """The status table; ``running`` names the run holding the results directory, if any."""
    if not suite.store_path.is_file():
        return f"{suite.name}: nothing run yet ({suite.store_path} does not exist)"
    store = Store(suite.store_path)
    try:
        rows = store.plan_status(suite_hash=suite.hash, profile=suite.profile)
        run = store.latest_run(suite_hash=suite.hash, profile=suite.profile)
    finally:
        store.close()
    if not rows:
        return (
            f"{suite.name} (profile {suite.profile}, hash {suite.hash}): not run yet; "
            f"the store holds other versions of the suite"
        )
    return "\n".join(_lines(suite, rows, run, running))


def _lines(suite: Suite, rows: list[tuple], run: dict | None, running: str | None) -> list[str]:
    per_cell: dict[str, Counter] = defaultdict(Counter)
    for kind, cell, label, status in rows:
        name = cell if kind == JobKind.FOLD else f"[stage] {label}"
        per_cell[name][status or JobStatus.PENDING] += 1
    width = max(len(name) for name in per_cell)
    lines = [f"{suite.name} (profile {suite.profile}, hash {suite.hash})"]
    if running:
        lines.append(f"running now: {running}")
    if run:
        lines.append(f"last run #{run['id']}: {_run_line(run)}")
    lines.append(f"{'cell':<{width}}  done  pending  failed")
    for name, counts in per_cell.items():
        lines.append(
            f"{name:<{width}}  {counts['done']:>4}  {counts['pending']:>7}  {counts['failed']:>6}"
        )
    total = Counter(status or JobStatus.PENDING for *_, status in rows)
    lines.append(
        f"total: {total['done']} done, {total['pending']} pending, {total['failed']} failed"
    )
    return lines


def _run_line(run: dict) -> str:
    """Status, executor and jobs of a run, e.g. 'done (local, 4 jobs)'."""
    executor = run.get("provenance", {}).get("executor") or {}
    if not executor:
        return run["status"]
    return f"{run['status']} ({executor.get('name')}, {executor.get('jobs')} jobs)"
