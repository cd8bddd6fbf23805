"""``bench run``: plan → train what is not stored yet → store, with progress and a summary.

Resume is by content hash: a job whose hash is stored as done is skipped, a job stored as
failed is skipped and reported unless ``retry_failed``. Fold jobs run grouped by compiled
model, so folds of cells that share a graph follow one another and reuse it.
"""

from __future__ import annotations

import time
import traceback
from collections import Counter
from dataclasses import dataclass, field

from bench.config.spec import Suite
from bench.engine.plan import FoldJob, Plan, StageJob, make_plan
from bench.engine.provenance import provenance
from bench.errors import BenchError
from bench.store.db import PlanRow, Store


@dataclass
class RunSummary:
    wall: float = 0.0
    folds_trained: int = 0
    folds_stored: int = 0  # already in the store: skipped
    stages_trained: int = 0
    stages_reused: int = 0
    models_built: int = 0
    models_reused: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)  # (label, error)
    interrupted: bool = False

    def lines(self) -> list[str]:
        lines = [
            f"wall time {self.wall:.1f} s",
            f"folds: {self.folds_trained} trained, {self.folds_stored} already stored, "
            f"{len(self.failed)} failed",
            f"shared stages: {self.stages_trained} trained, {self.stages_reused} reused",
            f"compiled models: {self.models_built} built, {self.models_reused} reused",
        ]
        for error, count in Counter(error for _, error in self.failed).most_common():
            lines.append(f"  {count} × {error}")
        if self.failed:
            lines.append(
                "failed jobs are kept as failed; rerun with --retry-failed "
                "(--debug shows tracebacks, `bench status` lists them)"
            )
        if self.interrupted:
            lines.append("interrupted: rerun the same command to resume")
        return lines


@dataclass(frozen=True)
class RunOptions:
    retry_failed: bool = False
    fail_fast: bool = False
    reuse: bool = True  # share stages and compiled models (off only to measure their value)
    progress: bool = True


def run_suite(suite: Suite, *, options: RunOptions = RunOptions()) -> RunSummary:
    started = time.time()
    plan = make_plan(suite)
    store = Store(suite.store_path)
    summary = RunSummary()
    run_id = store.begin_run(
        suite=suite.name,
        suite_hash=suite.hash,
        profile=suite.profile,
        command=provenance(suite_path=suite.path, seed=suite.seed)["command"],
        provenance=provenance(suite_path=suite.path, seed=suite.seed),
    )
    store.record_plan(suite_hash=suite.hash, profile=suite.profile, rows=plan_rows(plan))
    _record_folds(store, plan)
    status = "done"
    try:
        _execute(plan, store, run_id, summary, options)
    except KeyboardInterrupt:
        summary.interrupted, status = True, "interrupted"
    except BaseException:
        status = "failed"
        raise
    finally:
        store.end_run(run_id, status=status)
        store.close()
        summary.wall = time.time() - started
    return summary


def plan_rows(plan: Plan) -> list[PlanRow]:
    rows = [PlanRow(job=j.hash, kind="stage", label=j.label) for j in plan.stage_jobs]
    rows += [
        PlanRow(
            job=j.hash,
            kind="fold",
            label=j.label,
            cell=j.cell.id,
            factors=dict(j.cell.factors),
            repeat=j.repeat,
            fold=j.fold.fold,
        )
        for j in plan.fold_jobs
    ]
    return rows


def _record_folds(store: Store, plan: Plan) -> None:
    target = plan.suite.target
    ids = _target_ids(plan.suite)
    seen, rows = set(), []
    for job in plan.fold_jobs:
        key = (job.repeat, job.fold.fold)
        if key in seen:
            continue
        seen.add(key)
        for part in ("train", "val", "test"):
            rows += [(job.repeat, job.fold.fold, ids[i], part) for i in getattr(job.fold, part)]
    store.record_folds(dataset=target, rows=rows)


def _target_ids(suite: Suite):
    from bench.data.sources import load_dataset

    return load_dataset(suite.datasets[suite.target], image_size=suite.image_size).ids


def _execute(
    plan: Plan, store: Store, run_id: int, summary: RunSummary, options: RunOptions
) -> None:
    from bench.engine.execute import Worker
    from bench.train.fit import ModelPool
    from bench.train.seeding import seed_process

    seed_process(plan.suite.seed)
    worker = Worker(
        suite=plan.suite, pool=ModelPool(reuse=options.reuse), artifacts=plan.suite.artifacts_dir
    )
    statuses = store.job_statuses([j.hash for j in (*plan.stage_jobs, *plan.fold_jobs)])
    stages = _pending(plan.stage_jobs, statuses, options, summary, kind="stage")
    folds = _pending(_by_model(plan.fold_jobs), statuses, options, summary, kind="fold")
    with _progress(len(stages) + len(folds), enabled=options.progress) as bar:
        blocked = _run_stages(stages, store, run_id, worker, summary, options, bar)
        for job in folds:
            if job.parent in blocked:
                summary.failed.append((job.label, f"shared stage {job.parent} failed"))
                bar.update(1)
                continue
            _run_fold(job, store, run_id, worker, summary, options)
            bar.set_postfix_str(job.label, refresh=False)
            bar.update(1)
    summary.models_built += worker.models_built
    summary.models_reused += worker.models_reused


def _pending(jobs, statuses: dict, options: RunOptions, summary: RunSummary, *, kind: str):
    pending = []
    for job in jobs:
        status = statuses.get(job.hash)
        if status == "done":
            if kind == "fold":
                summary.folds_stored += 1
            else:
                summary.stages_reused += 1
        elif status == "failed" and not options.retry_failed:
            summary.failed.append((job.label, "failed in an earlier run"))
        else:
            pending.append(job)
    return pending


def _by_model(jobs: tuple[FoldJob, ...]) -> list[FoldJob]:
    """Order fold jobs so that those sharing a compiled model run back to back."""

    def graph(job: FoldJob):
        return (job.cell.backbone, repr(job.stages), job.cell.id, job.repeat, job.fold.fold)

    return sorted(jobs, key=graph)


def _run_stages(jobs: list[StageJob], store, run_id, worker, summary, options, bar) -> set[str]:
    from bench.engine.execute import run_stage_job

    blocked: set[str] = set()
    for job in jobs:
        bar.set_postfix_str(job.label, refresh=False)
        if job.parent in blocked:
            blocked.add(job.hash)
            bar.update(1)
            continue
        started = time.time()
        try:
            artifact, history = run_stage_job(job, worker)
        except (BenchError, KeyboardInterrupt):
            raise
        except Exception as exc:
            _fail(store, job, "stage", run_id, started, exc, summary, options)
            blocked.add(job.hash)
        else:
            store.record_stage(
                job=job.hash,
                label=job.label,
                run_id=run_id,
                started=started,
                artifact=artifact,
                history=history,
            )
            summary.stages_trained += 1
        bar.update(1)
    return blocked


def _run_fold(job: FoldJob, store, run_id, worker, summary, options) -> None:
    from bench.engine.execute import run_fold_job

    started = time.time()
    try:
        record = run_fold_job(job, worker)
    except (BenchError, KeyboardInterrupt):
        raise
    except Exception as exc:
        _fail(store, job, "fold", run_id, started, exc, summary, options)
        return
    store.record_fold(record, label=job.label, run_id=run_id, started=started)
    summary.folds_trained += 1


def _fail(store, job, kind, run_id, started, exc, summary, options) -> None:
    error = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    store.record_failure(
        job=job.hash,
        kind=kind,
        label=job.label,
        run_id=run_id,
        started=started,
        error=error,
        traceback=traceback.format_exc(),
    )
    summary.failed.append((job.label, error))
    if options.fail_fast:
        raise BenchError(f"job {job.label} failed ({error}); stopping (--fail-fast)") from exc


def _progress(total: int, *, enabled: bool):
    from tqdm import tqdm

    return tqdm(
        total=total,
        disable=not enabled,
        unit="job",
        dynamic_ncols=True,
        bar_format="{l_bar}{bar}| {n_fmt}/{total_fmt} [{elapsed}<{remaining}] {postfix}",
    )


__all__ = ["RunOptions", "RunSummary", "plan_rows", "run_suite"]
