"""Dask distributed: ``bench run --executor dask --scheduler tcp://HOST:8786``.

Jobs go to the workers of an existing cluster, one job per worker thread. Each worker
thread runs its jobs in a child process of its own, as ``--jobs`` does locally: the
child's TensorFlow threads are capped (``threads``, by default the machine's cores divided
by the Dask worker threads on it), it is replaced after
``max_jobs_per_worker`` jobs or an hour idle, and — what makes numbers reproducible — no
Dask thread shares its interpreter: Keras seeds layers from Python's global random
generator, which Dask's own threads also draw from.

Stage weights travel with the jobs, so workers need no shared disk: a stage's weights
come back in its outcome and the coordinator stores them; a job that starts from a stage
gets those bytes (scattered to the cluster once per stage) and the worker writes them to a
local cache. Workers need the same bench, Keras and TensorFlow versions (checked when
connecting, since job hashes name them) and, for folder datasets, the data at the same path.
"""

from __future__ import annotations

import multiprocessing
import os
import tempfile
import threading
import uuid
from dataclasses import replace
from pathlib import Path

from bench.engine.artifacts import weights_file, write_artifact
from bench.engine.executors.local import WorkerProcess, thread_env
from bench.engine.executors.task import (
    Outcome,
    Task,
    describe_error,
    lost,
)
from bench.engine.identity import DEFAULT_THREADS, versions
from bench.engine.provenance import hardware
from bench.errors import BenchError
from bench.store.states import JobKind

CONNECT_TIMEOUT = 30  # seconds to reach the scheduler and see a first worker
IDLE_TIMEOUT = 3600  # seconds before an idle job process on a Dask worker exits
_local = threading.local()  # per Dask worker thread: its job process


class DaskExecutor:
    """The workers of a Dask cluster; at most ``jobs`` jobs at once when given."""

    name = "dask"
    artifacts = None  # no directory is shared with the workers

    def __init__(
        self,
        *,
        scheduler: str,
        stages: Path,
        max_jobs_per_worker: int,
        jobs: int | None = None,
        threads: int | None = None,
    ):
        self.scheduler = scheduler
        self.stages = Path(stages)
        self.jobs = jobs
        self.threads = threads or DEFAULT_THREADS
        self.max_jobs_per_worker = max_jobs_per_worker
        self.client = _connect(scheduler)
        self._scattered: dict[str, object] = {}
        self._running: dict[object, tuple[str, Task]] = {}
        self._workers = _check_versions(self.client, scheduler)

    def slots(self) -> list[str]:
        threads = sorted(self.client.nthreads().items())
        slots = [f"{address}#{i}" for address, count in threads for i in range(count)]
        return slots[: self.jobs] if self.jobs else slots

    def submit(self, task: Task, *, slot: str) -> None:
        address = slot.rpartition("#")[0]
        future = self.client.submit(
            run_on_worker,
            task,
            self._parent_weights(task.job.parent),
            max_jobs=self.max_jobs_per_worker,
            threads=self.threads,
            key=f"bench-{task.kind}-{task.job.hash}-{uuid.uuid4().hex[:8]}",
            pure=False,
            workers=[address],
            allow_other_workers=True,  # if that worker leaves, another one runs the job
        )
        self._running[future] = (slot, task)

    def wait(self) -> list[tuple[str, Outcome]]:
        from distributed import wait

        done, _ = wait(list(self._running), return_when="FIRST_COMPLETED")
        return [self._finish(future) for future in done]

    def close(self, *, kill: bool) -> None:
        if kill and self._running:
            self.client.cancel(list(self._running), force=True)
        self._running.clear()
        self.client.close()

    def describe(self) -> dict:
        return {
            "name": self.name,
            "scheduler": self.scheduler,
            "jobs": len(self.slots()),
            "max_jobs_per_worker": self.max_jobs_per_worker,
            "threads_per_job": self.threads,
            "workers": self._workers,
        }

    def _parent_weights(self, parent: str | None):
        if parent is None:
            return None
        if parent not in self._scattered:
            data = weights_file(self.stages, parent).read_bytes()
            self._scattered[parent] = self.client.scatter(data, hash=False)
        return self._scattered[parent]

    def _finish(self, future) -> tuple[str, Outcome]:
        slot, task = self._running.pop(future)
        try:
            outcome = future.result()
        except Exception as exc:
            error = f"{describe_error(exc)} (the Dask worker running this job was lost)"
            return slot, lost(task, error=error, detail=exc)
        if outcome.weights is None:
            return slot, outcome
        path = write_artifact(self.stages, task.job.hash, outcome.weights)
        return slot, replace(outcome, result=(str(path), outcome.result[1]), weights=None)


def run_on_worker(task: Task, parent: bytes | None, *, max_jobs: int, threads: int) -> Outcome:
    """On a Dask worker: run ``task`` in this thread's job process, weights via local disk."""
    cache = Path(tempfile.gettempdir()) / f"bench-stages-{os.getuid()}"
    if parent is not None:
        write_artifact(cache, task.job.parent, parent)
    task = replace(task, artifacts=str(cache))
    process = _job_process(threads, task.backend)
    outcome = process.finished(process.submit(task), task, max_jobs=max_jobs)
    if task.kind != JobKind.STAGE or outcome.error or outcome.fatal:
        return outcome
    return replace(outcome, weights=Path(outcome.result[0]).read_bytes())


def _job_process(threads: int, backend: str) -> WorkerProcess:
    """This Dask worker thread's job process, with ``threads`` TensorFlow threads and the
    Keras backend the coordinator planned for (a process on another backend is replaced)."""
    env = {**thread_env(threads), "KERAS_BACKEND": backend}
    current = getattr(_local, "process", None)
    if current is not None and current.env != env:
        current.retire()
        _local.process = None
    if getattr(_local, "process", None) is None:
        # Dask's nanny starts workers as daemonic processes, which multiprocessing forbids to
        # have children lest they outlive them; a job process exits with its parent anyway.
        multiprocessing.current_process().daemon = False
        name = threading.current_thread().name
        _local.process = WorkerProcess(name, env, idle_timeout=IDLE_TIMEOUT)
    return _local.process


def _connect(scheduler: str):
    from distributed import Client

    try:
        client = Client(scheduler, timeout=CONNECT_TIMEOUT)
    except OSError as exc:
        raise BenchError(
            f"cannot reach the Dask scheduler at {scheduler} ({exc}); start one with "
            "`dask scheduler` and workers with `dask worker ADDRESS --nthreads 1`"
        ) from None
    try:
        client.wait_for_workers(1, timeout=CONNECT_TIMEOUT)
    except TimeoutError:
        client.close()
        raise BenchError(
            f"the Dask scheduler at {scheduler} has no workers; start some with "
            f"`dask worker {scheduler} --nthreads 1`"
        ) from None
    return client


def _check_versions(client, scheduler: str) -> dict:
    """Refuse workers whose versions differ from ours: job hashes and numbers name them."""
    ours = versions()
    theirs = client.run(versions)
    for address, found in theirs.items():
        if found != ours:
            differ = ", ".join(
                f"{k} {found.get(k)} (here {v})" for k, v in ours.items() if found.get(k) != v
            )
            raise BenchError(
                f"Dask worker {address} of {scheduler} has {differ}; install the same bench, "
                "Keras and TensorFlow versions on every worker"
            )
    machines = client.run(hardware)
    threads = client.nthreads()
    return {address: {"threads": threads.get(address), **machines[address]} for address in theirs}
