"""``bench run``: plan → train what is not stored yet → store, with progress and a summary.

This process is the coordinator: it holds the run lock, plans, hands jobs to an executor
(in-process, local worker processes, or Dask) as their parent stages finish, and stores
each outcome the moment it arrives — it alone writes the results database, and a crash
loses only the jobs that were running.

Resume is by content hash: a job whose hash is stored as done is skipped, a job stored as
failed is skipped and reported unless ``retry_failed``. A shared stage stored as done but
whose weights file is missing (or truncated) is trained again when a pending job needs it.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from bench.config.spec import Suite
from bench.engine.artifacts import is_complete, load_history, remove_stray_files, weights_file
from bench.engine.cache import mark_used
from bench.engine.executors import (
    Executor,
    ExecutorSpec,
    Outcome,
    Schedule,
    make_task,
    open_executor,
)
from bench.engine.lock import run_lock
from bench.engine.plan import FoldJob, Plan, StageJob, make_plan
from bench.engine.progress import Progress, open_progress
from bench.engine.provenance import provenance
from bench.errors import BenchError
from bench.metrics import predict_labels
from bench.report.stages import near_chance_warning, stage_accuracy
from bench.store.db import FoldRecord, PlanRow, Store
from bench.store.findings import near_duplicate_line, skipped_lines
from bench.store.states import JobKind, JobStatus, RunStatus
from bench.store.trouble import explained


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
    near_duplicates: tuple[tuple[str, str, int], ...] = ()  # target images across outer folds
    skipped_files: dict[str, list[list[str]]] = field(default_factory=dict)  # dataset: [path, why]
    weak_stages: list[str] = field(default_factory=list)  # near-chance warnings, one per stage
    one_class_folds: list[str] = field(default_factory=list)  # labels of folds that predicted
    # the same class for every test image

    def lines(self) -> list[str]:
        lines = [
            f"wall time {self.wall:.1f} s",
            f"folds: {self.folds_trained} trained, {self.folds_stored} already stored, "
            f"{len(self.failed)} failed",
            f"shared stages: {self.stages_trained} trained, {self.stages_reused} reused",
            f"compiled models: {self.models_built} built, {self.models_reused} reused",
            near_duplicate_line(self.near_duplicates),
            *skipped_lines(self.skipped_files),
            *self.weak_stages,
            *self._one_class_lines(),
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

    def _one_class_lines(self) -> list[str]:
        if not self.one_class_folds:
            return []
        shown = ", ".join(self.one_class_folds[:5])
        more = f" and {len(self.one_class_folds) - 5} more" if len(self.one_class_folds) > 5 else ""
        return [
            f"warning: {len(self.one_class_folds)} fold(s) predicted one class for every test "
            f"image ({shown}{more}): those cells learned nothing there; look at their learning "
            "curves in the report"
        ]


@dataclass(frozen=True)
class RunOptions:
    retry_failed: bool = False
    fail_fast: bool = False
    reuse: bool = True  # share stages and compiled models (off only to measure their value)
    progress: bool = True
    verbose: bool = False  # a progress line per fold job too
    executor: ExecutorSpec = field(default_factory=ExecutorSpec)
    wait: bool = False  # queue behind a run holding the results directory instead of refusing
    on_fold: Callable[[FoldRecord], None] | None = None  # told of each fold once it is stored


@dataclass
class _RunState:
    """What recording outcomes needs, for the length of one run."""

    suite: Suite
    store: Store
    run_id: int
    summary: RunSummary
    options: RunOptions
    progress: Progress


def run_suite(suite: Suite, *, options: RunOptions = RunOptions()) -> RunSummary:
    """Train every job of ``suite`` not stored yet; Ctrl-C returns an interrupted summary."""
    started = time.time()
    with explained(suite.store_path), run_lock(suite.store_path.parent, wait=options.wait):
        plan = make_plan(suite, share_stages=options.reuse, threads=options.executor.threads)
        store = Store(suite.store_path)
        try:
            return _run(plan, store, options, started)
        finally:
            store.close()


def _run(plan: Plan, store: Store, options: RunOptions, started: float) -> RunSummary:
    suite, run_id, status = plan.suite, None, RunStatus.DONE
    summary = RunSummary(near_duplicates=plan.near_duplicates, skipped_files=_skipped_files(plan))
    store.close_abandoned_runs()  # we hold the lock: a run still marked running was killed
    remove_stray_files(suite.artifacts_dir)  # temporary files of writes a kill interrupted
    try:
        with open_executor(options.executor, suite=suite, reuse=options.reuse) as executor:
            record = {
                **_provenance(suite, executor),
                "near_duplicates": plan.near_duplicates,
                "skipped_files": summary.skipped_files,
            }
            run_id = store.begin_run(
                suite=suite.name,
                suite_hash=suite.hash,
                profile=suite.profile,
                command=record["command"],
                provenance=record,
            )
            store.record_plan(suite_hash=suite.hash, profile=suite.profile, rows=plan_rows(plan))
            _record_folds(store, plan)
            _execute(plan, store, run_id, summary, options, executor)
    except KeyboardInterrupt:
        summary.interrupted, status = True, RunStatus.INTERRUPTED
    except BaseException:
        status = RunStatus.FAILED
        raise
    finally:
        if run_id is not None:
            store.end_run(run_id, status=status)
        summary.wall = time.time() - started
    return summary


def _skipped_files(plan: Plan) -> dict[str, list[list[str]]]:
    """Files the plan's datasets left out under ``on_bad_image = "skip"``, per dataset."""
    from bench.data.sources import skipped_files

    suite = plan.suite
    names = {suite.target} | {n for job in plan.stage_jobs for n in job.stage.data}
    names |= {n for job in plan.fold_jobs for stage, _ in job.stages for n in stage.data}
    skipped = {}
    for name in sorted(names):
        files = skipped_files(suite.datasets[name], image_size=suite.image_size)
        if files:
            skipped[name] = [[f.path, f.reason] for f in files]
    return skipped


def _provenance(suite: Suite, executor: Executor) -> dict:
    return provenance(
        suite_path=suite.path,
        seed=suite.seed,
        suite_hash=suite.hash,
        profile=suite.profile,
        executor=executor.describe(),
    )


def plan_rows(plan: Plan) -> list[PlanRow]:
    rows = [PlanRow(job=j.hash, kind=JobKind.STAGE, label=j.label) for j in plan.stage_jobs]
    rows += [
        PlanRow(
            job=j.hash,
            kind=JobKind.FOLD,
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
    ids, groups = _target_ids(plan.suite)
    store.record_patients(dataset=target, rows=zip(ids.tolist(), groups.tolist(), strict=True))
    seen, rows = set(), []
    for job in plan.fold_jobs:
        key = (job.repeat, job.fold.fold)
        if key in seen:
            continue
        seen.add(key)
        for part in ("train", "val", "test"):
            rows += [(job.repeat, job.fold.fold, ids[i], part) for i in getattr(job.fold, part)]
    store.record_folds(
        suite_hash=plan.suite.hash, profile=plan.suite.profile, dataset=target, rows=rows
    )


def _target_ids(suite: Suite):
    """Sample ids and patient ids of the target's images."""
    from bench.data.sources import load_dataset

    images = load_dataset(suite.datasets[suite.target], image_size=suite.image_size)
    return images.ids, images.groups


def _execute(
    plan: Plan,
    store: Store,
    run_id: int,
    summary: RunSummary,
    options: RunOptions,
    executor: Executor,
) -> None:
    statuses = store.job_statuses([j.hash for j in (*plan.stage_jobs, *plan.fold_jobs)])
    _adopt_stages(plan, store, run_id, statuses)
    mark_used(plan.suite.artifacts_dir, plan.stage_jobs)
    folds = _pending_folds(plan.fold_jobs, statuses, options, summary)
    stages, unavailable = _pending_stages(plan, folds, statuses, options, summary)
    runnable, blocked = _split_blocked([*stages, *folds], unavailable)
    progress = open_progress([*stages, *folds], enabled=options.progress, verbose=options.verbose)
    run = _RunState(
        suite=plan.suite,
        store=store,
        run_id=run_id,
        summary=summary,
        options=options,
        progress=progress,
    )
    try:
        _block(run, blocked)
        _dispatch(
            run,
            Schedule.of(
                [job for job in runnable if isinstance(job, StageJob)],
                [job for job in runnable if isinstance(job, FoldJob)],
            ),
            executor,
        )
    finally:
        progress.close()


def _adopt_stages(plan: Plan, store: Store, run_id: int, statuses: dict) -> None:
    """Record stages whose artifact is on disk but not in this store (trained by another
    suite, or by a run killed between writing the file and storing the job) as done."""
    directory = plan.suite.artifacts_dir
    for job in plan.stage_jobs:
        if statuses.get(job.hash) != JobStatus.DONE and is_complete(directory, job.hash):
            store.record_stage(
                job=job.hash,
                label=job.label,
                run_id=run_id,
                started=time.time(),
                artifact=str(weights_file(directory, job.hash)),
                history=load_history(directory, job.hash),
                inputs=job.inputs,
            )
            statuses[job.hash] = JobStatus.DONE


def _pending_folds(jobs, statuses: dict, options: RunOptions, summary: RunSummary) -> list:
    pending = []
    for job in jobs:
        status = statuses.get(job.hash)
        if status == JobStatus.DONE:
            summary.folds_stored += 1
        elif status == JobStatus.FAILED and not options.retry_failed:
            summary.failed.append((job.label, "failed in an earlier run"))
        else:
            pending.append(job)
    return pending


def _pending_stages(
    plan: Plan, folds: list[FoldJob], statuses: dict, options: RunOptions, summary: RunSummary
) -> tuple[list[StageJob], set[str]]:
    """Stages to train (needed by a pending job and not usable from disk), and the hashes
    of stages that failed before and are not retried."""
    kept = {
        job.hash
        for job in plan.stage_jobs
        if statuses.get(job.hash) == JobStatus.DONE
        and is_complete(plan.suite.artifacts_dir, job.hash)
    }
    needed = {job.parent for job in folds if job.parent}
    for job in reversed(plan.stage_jobs):  # children before parents
        if job.hash in needed and job.hash not in kept and job.parent:
            needed.add(job.parent)
    pending, unavailable = [], set()
    for job in plan.stage_jobs:
        status = statuses.get(job.hash)
        if status == JobStatus.FAILED and not options.retry_failed:
            summary.failed.append((job.label, "failed in an earlier run"))
            unavailable.add(job.hash)
        elif status == JobStatus.DONE and (job.hash in kept or job.hash not in needed):
            summary.stages_reused += 1
        elif job.hash in needed:
            pending.append(job)
    return pending, unavailable


def _split_blocked(jobs: list, unavailable: set[str]) -> tuple[list, list]:
    """Jobs (parents first) split into runnable ones and those under an unavailable stage."""
    runnable, blocked, unavailable = [], [], set(unavailable)
    for job in jobs:
        if job.parent in unavailable:
            blocked.append(job)
            unavailable.add(job.hash)
        else:
            runnable.append(job)
    return runnable, blocked


def _dispatch(run: _RunState, schedule: Schedule, executor: Executor) -> None:
    """Keep every free slot busy with a ready job; store each outcome as it arrives."""
    running: dict[str, StageJob | FoldJob] = {}
    while True:
        for slot in executor.slots():
            job = None if slot in running else schedule.next_for(slot)
            if job is not None:
                running[slot] = job
                executor.submit(_task(run, job, executor), slot=slot)
        if not running:
            if schedule.ready():
                raise BenchError(
                    f"no {executor.name} worker is left to run the remaining jobs; start "
                    "workers and rerun the same command to resume"
                )
            return
        for slot, outcome in executor.wait():
            job = running.pop(slot)
            ok = _record(run, job, outcome)
            _block(run, schedule.finished(job, ok=ok))


def _task(run: _RunState, job: StageJob | FoldJob, executor: Executor):
    return make_task(job, suite=run.suite, reuse=run.options.reuse, artifacts=executor.artifacts)


def _record(run: _RunState, job: StageJob | FoldJob, outcome: Outcome) -> bool:
    """Store one outcome (a transaction per job); True when the job succeeded."""
    if outcome.fatal is not None:
        raise outcome.fatal
    run.summary.models_built += outcome.models_built
    run.summary.models_reused += outcome.models_reused
    if outcome.error is not None:
        run.progress.finished(job, error=f"failed: {outcome.error}")
        _fail(run, job, outcome)
        return False
    if isinstance(job, StageJob):
        artifact, history = outcome.result
        accuracy = stage_accuracy(history)
        if accuracy is not None and accuracy.near_chance:
            run.summary.weak_stages.append(near_chance_warning(job.label, accuracy))
        run.progress.finished(job, stage=accuracy)
        run.store.record_stage(
            job=job.hash,
            label=job.label,
            run_id=run.run_id,
            started=outcome.started,
            artifact=artifact,
            history=history,
            inputs=job.inputs,
        )
        run.summary.stages_trained += 1
    else:
        run.store.record_fold(
            outcome.result,
            label=job.label,
            run_id=run.run_id,
            started=outcome.started,
            process=outcome.process,
            inputs=job.inputs,
        )
        run.summary.folds_trained += 1
        if run.options.on_fold is not None:
            run.options.on_fold(outcome.result)
        if len(set(predict_labels(outcome.result.proba, threshold=outcome.result.threshold))) == 1:
            run.summary.one_class_folds.append(job.label)
        run.progress.finished(job, scores=outcome.result.scores)
    return True


def _fail(run: _RunState, job: StageJob | FoldJob, outcome: Outcome) -> None:
    run.store.record_failure(
        job=job.hash,
        kind=outcome.kind,
        label=job.label,
        run_id=run.run_id,
        started=outcome.started,
        error=outcome.error,
        traceback=outcome.traceback,
        inputs=job.inputs,
    )
    run.summary.failed.append((job.label, outcome.error))
    if run.options.fail_fast:
        raise BenchError(f"job {job.label} failed ({outcome.error}); stopping (--fail-fast)")


def _block(run: _RunState, jobs: list) -> None:
    """Jobs that cannot run because the shared stage they start from failed."""
    for job in jobs:
        run.summary.failed.append((job.label, f"shared stage {job.parent} failed"))
        run.progress.finished(job, error="not run: the shared stage it starts from failed")


__all__ = ["RunOptions", "RunSummary", "plan_rows", "run_suite"]
