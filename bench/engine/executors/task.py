"""What travels between the coordinator and a worker: a :class:`Task` out, an :class:`Outcome` back.

A task names its job function as ``"module:name"`` and the worker imports it, so the
coordinating process never imports TensorFlow. Whatever a job raises comes back inside the
outcome (error line and the worker's traceback), so one failing job never takes a worker or
the run down; a :class:`~bench.errors.BenchError` (a user mistake, e.g. weights that cannot
be fetched) comes back as ``fatal`` and stops the run as it does in a serial run.
"""

from __future__ import annotations

import importlib
import os
import socket
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from bench.config.spec import Suite
from bench.engine.plan import FoldJob, StageJob
from bench.errors import BenchError
from bench.store.states import JobKind

# The functions that run a job, looked up in the worker when the task runs.
JOB_FUNCTIONS = {
    JobKind.STAGE: "bench.engine.jobs:run_stage_job",
    JobKind.FOLD: "bench.engine.jobs:run_fold_job",
}
_state = threading.local()  # the Worker of the suite being run


@dataclass(frozen=True)
class Task:
    """One job to run, with what a worker process needs to build its state."""

    job: StageJob | FoldJob
    suite: Suite
    function: str  # "module:name" of a function (job, worker) -> result
    reuse: bool  # share compiled models between jobs of a worker
    artifacts: str | None  # stage weights directory; None: the Dask worker picks its own
    backend: str = "tensorflow"  # the Keras backend the job was planned for

    @property
    def kind(self) -> JobKind:
        return job_kind(self.job)


@dataclass(frozen=True)
class Outcome:
    """What running a task produced: a result, or an error with the worker's traceback."""

    job: str
    kind: str
    started: float
    duration: float
    result: object = None  # FoldRecord, or (weights file, history) of a stage
    error: str | None = None
    traceback: str | None = None
    fatal: BenchError | None = None
    weights: bytes | None = None  # a stage's weights file, when no directory is shared
    models_built: int = 0
    models_reused: int = 0
    process: dict = field(default_factory=dict)  # host, pid and resident memory of the worker


def job_kind(job: StageJob | FoldJob) -> JobKind:
    return JobKind.STAGE if isinstance(job, StageJob) else JobKind.FOLD


def make_task(job: StageJob | FoldJob, *, suite: Suite, reuse: bool, artifacts: str | None):
    """The task of ``job``, naming the function :data:`JOB_FUNCTIONS` gives for its kind."""
    function = JOB_FUNCTIONS[job_kind(job)]
    backend = os.environ.get("KERAS_BACKEND", "tensorflow")
    return Task(
        job=job, suite=suite, function=function, reuse=reuse, artifacts=artifacts, backend=backend
    )


def describe_error(exc: BaseException) -> str:
    """The one line a failure is grouped by: exception type and first message line."""
    message = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {message}"


def lost(task: Task, *, error: str, detail: BaseException) -> Outcome:
    """The outcome of a task whose worker could not report one: it died, or was lost."""
    return Outcome(
        job=task.job.hash,
        kind=task.kind,
        started=time.time(),
        duration=0.0,
        error=error,
        traceback="".join(traceback.format_exception(detail)),
    )


def execute_task(task: Task, worker) -> Outcome:
    """Run one job with ``worker`` (a :class:`bench.engine.jobs.Worker`)."""
    built, reused = worker.models_built, worker.models_reused
    started = time.time()
    try:
        result, failure = _function(task.function)(task.job, worker), {}
    except BenchError as exc:
        result, failure = None, {"fatal": exc}
    except Exception as exc:
        result = None
        failure = {"error": describe_error(exc), "traceback": traceback.format_exc()}
    return Outcome(
        job=task.job.hash,
        kind=task.kind,
        started=started,
        duration=time.time() - started,
        result=result,
        models_built=worker.models_built - built,
        models_reused=worker.models_reused - reused,
        process=_process(),
        **failure,
    )


def run_task(task: Task) -> Outcome:
    """Entry point in a worker process: this process's Worker for the suite runs the task."""
    return execute_task(task, _worker(task))


def _worker(task: Task):
    """This process's Worker for the task's suite, built once and kept between tasks."""
    key = (task.suite.hash, task.suite.profile, task.reuse, task.artifacts)
    if getattr(_state, "key", None) != key:
        from bench.engine.jobs import Worker
        from bench.train.fit import ModelPool
        from bench.train.seeding import bound_gpu_memory, seed_process

        bound_gpu_memory()
        seed_process(task.suite.seed, deterministic=task.suite.protocol.deterministic)
        pool = ModelPool(reuse=task.reuse)
        _state.worker = Worker(suite=task.suite, pool=pool, artifacts=Path(task.artifacts))
        _state.key = key
    return _state.worker


def _function(name: str):
    module, _, attribute = name.partition(":")
    return getattr(importlib.import_module(module), attribute)


def _process() -> dict:
    return {"host": socket.gethostname(), "pid": os.getpid(), "rss_mib": _resident_mib()}


def _resident_mib() -> float | None:
    """Resident memory of this process now (Linux), in MiB."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return None
    return round(pages * os.sysconf("SC_PAGE_SIZE") / 2**20, 1)
