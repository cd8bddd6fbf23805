"""Where jobs run: in this process, in local worker processes, or on a Dask cluster.

Every executor offers the same small interface to the coordinator (bench.engine.coordinator),
which decides which job goes to which *slot* (a place that runs one job at a time) and
stores every outcome as it arrives; only the coordinator writes the results database.

- ``submit(task, slot=...)`` starts a job on a free slot;
- ``wait()`` blocks until at least one job finished and returns ``(slot, outcome)`` pairs;
- ``close(kill=...)`` stops the workers (``kill``: without waiting for running jobs);
- ``describe()`` is the executor's part of the run's provenance;
- ``artifacts`` is the stage weights directory workers share with the coordinator, or
  None when weights travel with the jobs.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Protocol

from bench.config.spec import Suite
from bench.engine.executors.schedule import Schedule, model_group
from bench.engine.executors.task import Outcome, Task, make_task
from bench.errors import BenchError

KINDS = ("serial", "local", "dask")


class Executor(Protocol):
    name: str
    artifacts: str | None

    def slots(self) -> list[str]: ...
    def submit(self, task: Task, *, slot: str) -> None: ...
    def wait(self) -> list[tuple[str, Outcome]]: ...
    def close(self, *, kill: bool) -> None: ...
    def describe(self) -> dict: ...


@dataclass(frozen=True)
class ExecutorSpec:
    """How to run jobs: ``kind`` None picks serial for one job, local processes for more."""

    kind: str | None = None
    jobs: int | None = None  # local: worker processes; dask: most jobs at once
    threads: int | None = None  # threads per job process (default: identity.DEFAULT_THREADS)
    max_jobs_per_worker: int = 50  # a local worker process is replaced after this many
    scheduler: str | None = None  # dask: tcp://HOST:PORT

    @property
    def resolved(self) -> str:
        return self.kind or ("local" if (self.jobs or 1) > 1 else "serial")


@contextmanager
def open_executor(spec: ExecutorSpec, *, suite: Suite, reuse: bool) -> Iterator[Executor]:
    """The executor ``spec`` asks for; its workers are killed if the body raises."""
    executor = _make(_checked(spec), suite=suite, reuse=reuse)
    try:
        yield executor
    except BaseException:
        executor.close(kill=True)
        raise
    executor.close(kill=False)


def _checked(spec: ExecutorSpec) -> ExecutorSpec:
    kind = spec.resolved
    if kind not in KINDS:
        raise BenchError(f"unknown executor '{kind}'; use one of {', '.join(KINDS)}")
    if spec.jobs is not None and spec.jobs < 1:
        raise BenchError(f"--jobs {spec.jobs}: use 1 or more")
    if spec.threads is not None and spec.threads < 1:
        raise BenchError(f"--threads {spec.threads}: use 1 or more")
    if spec.max_jobs_per_worker < 1:
        raise BenchError(f"--max-jobs-per-worker {spec.max_jobs_per_worker}: use 1 or more")
    if kind == "serial" and (spec.jobs or 1) > 1:
        raise BenchError(f"--jobs {spec.jobs} runs in parallel: use --executor local or dask")
    if (kind == "dask") != (spec.scheduler is not None):
        raise BenchError(
            "--executor dask needs --scheduler tcp://HOST:PORT"
            if kind == "dask"
            else "--scheduler is for --executor dask"
        )
    return spec


def _make(spec: ExecutorSpec, *, suite: Suite, reuse: bool) -> Executor:
    kind = spec.resolved
    if kind == "serial":
        from bench.engine.executors.serial import SerialExecutor

        return SerialExecutor(suite=suite, reuse=reuse, threads=spec.threads)
    if kind == "local":
        from bench.engine.executors.local import LocalExecutor

        return LocalExecutor(
            jobs=spec.jobs or 1,
            artifacts=str(suite.artifacts_dir.resolve()),
            threads=spec.threads,
            max_jobs_per_worker=spec.max_jobs_per_worker,
        )
    from bench.engine.executors.cluster import DaskExecutor

    return DaskExecutor(
        scheduler=spec.scheduler,
        stages=suite.artifacts_dir,
        max_jobs_per_worker=spec.max_jobs_per_worker,
        jobs=spec.jobs,
        threads=spec.threads,
    )


__all__ = [
    "Executor",
    "ExecutorSpec",
    "Outcome",
    "Schedule",
    "Task",
    "make_task",
    "model_group",
    "open_executor",
]
