"""Local worker processes: ``bench run --jobs N``.

Each of the N *slots* is a one-process loky executor (loky is joblib's process backend),
so the coordinator decides which process runs which job — a worker keeps its model group
and its compiled models — and gives each process its own environment, set before Python
starts in it and hence before TensorFlow is imported. (A shared pool cannot say which
process takes a job, and Python 3.11's ``max_tasks_per_child`` can deadlock: cpython#115634.)

- TensorFlow and OpenMP threads fixed to ``threads`` (default 1: a job's numbers depend on
  its thread count, which is part of its identity, so it must not follow N);
- one GPU per worker (``CUDA_VISIBLE_DEVICES``, by UUID from ``nvidia-smi``) where GPUs
  exist; when workers outnumber GPUs they share them, each held to its share of the GPU's
  memory (``bench.engine.executors.gpus``).

A worker process is retired after ``max_jobs_per_worker`` jobs and the next job starts a
fresh one, so memory cannot creep over hundreds of fits. A worker that dies (out of
memory, a crash in native code) costs only its job, which is recorded as failed; the slot
starts a new process. A worker exits on its own when the coordinator dies, even by SIGKILL.
"""

from __future__ import annotations

import concurrent.futures
import os
import signal
import threading
import time

from joblib.externals.loky import process_executor
from joblib.externals.loky.process_executor import BrokenProcessPool, ProcessPoolExecutor

from bench.engine.executors.gpus import check_gpu_share, gpu_env
from bench.engine.executors.task import Outcome, Task, lost, run_task
from bench.engine.identity import DEFAULT_THREADS, thread_env
from bench.engine.provenance import gpus
from bench.quiet import quiet_tensorflow


class WorkerProcess:
    """One worker process at a time, started on demand with ``env``, replaced on request."""

    def __init__(self, name: str, env: dict[str, str], *, idle_timeout: float | None = None):
        self.name = name
        self.env = env
        self.idle_timeout = idle_timeout  # seconds before an idle process exits
        self.pool: ProcessPoolExecutor | None = None
        self.jobs = 0  # run by the current process

    def start(self) -> None:
        """Start the process and import TensorFlow in it, ahead of its first job."""
        if self.pool is None:
            self.pool = ProcessPoolExecutor(
                max_workers=1,
                env=self.env,
                timeout=self.idle_timeout,
                initializer=_init_worker,
                initargs=(os.getpid(),),
            )
            self.pool.submit(_warm_up)
            self.jobs = 0

    def submit(self, task: Task) -> concurrent.futures.Future:
        self.start()
        return self.pool.submit(run_task, task)

    def finished(self, future: concurrent.futures.Future, task: Task, *, max_jobs: int):
        """The outcome of ``future``; the process is replaced after ``max_jobs`` or a crash."""
        try:
            outcome = future.result()
        except BrokenProcessPool as exc:
            self.retire(kill=True)
            return lost(task, error=_died(exc), detail=exc)
        self.jobs += 1
        if self.jobs >= max_jobs:
            self.retire()
        return outcome

    def retire(self, *, kill: bool = False) -> None:
        """Let the process exit (it finishes its current job unless ``kill``)."""
        if self.pool is not None:
            self.pool.shutdown(wait=False, kill_workers=kill)
            self.pool = None


class LocalExecutor:
    """N local worker processes, one job each at a time."""

    name = "local"

    def __init__(
        self, *, jobs: int, artifacts: str, threads: int | None = None, max_jobs_per_worker: int
    ):
        self.artifacts = artifacts
        self.threads = threads or DEFAULT_THREADS
        self.max_jobs_per_worker = max_jobs_per_worker
        self.devices = gpus()
        check_gpu_share(jobs, self.devices)
        self._slots = {
            f"worker-{i}": WorkerProcess(f"worker-{i}", self._env(i, jobs)) for i in range(jobs)
        }
        self._running: dict[concurrent.futures.Future, tuple[WorkerProcess, Task]] = {}

    def slots(self) -> list[str]:
        return list(self._slots)

    def submit(self, task: Task, *, slot: str) -> None:
        for worker in self._slots.values():  # all start importing TensorFlow at once
            worker.start()
        worker = self._slots[slot]
        self._running[worker.submit(task)] = (worker, task)

    def wait(self) -> list[tuple[str, Outcome]]:
        done, _ = concurrent.futures.wait(
            self._running, return_when=concurrent.futures.FIRST_COMPLETED
        )
        return [self._finish(future) for future in done]

    def close(self, *, kill: bool) -> None:
        for worker in self._slots.values():
            worker.retire(kill=kill)

    def describe(self) -> dict:
        return {
            "name": self.name,
            "jobs": len(self._slots),
            "threads_per_worker": self.threads,
            "max_jobs_per_worker": self.max_jobs_per_worker,
            "gpus": {
                slot: w.env["CUDA_VISIBLE_DEVICES"]
                for slot, w in self._slots.items()
                if "CUDA_VISIBLE_DEVICES" in w.env
            },
        }

    def _finish(self, future: concurrent.futures.Future) -> tuple[str, Outcome]:
        worker, task = self._running.pop(future)
        return worker.name, worker.finished(future, task, max_jobs=self.max_jobs_per_worker)

    def _env(self, index: int, jobs: int) -> dict[str, str]:
        env = thread_env(self.threads)
        if self.devices:
            env.update(gpu_env(index, jobs=jobs, devices=self.devices))
        return env


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def _died(exc: BaseException) -> str:
    codes = str(exc).rsplit("exit codes of the workers are", 1)
    detail = f" (exit code {codes[1].strip()})" if len(codes) == 2 else ""
    return (
        f"WorkerDied: the worker process running this job died{detail}; "
        "out of memory, or a crash in native code"
    )


def _init_worker(coordinator: int) -> None:
    """In each worker: leave Ctrl-C to the coordinator, die with it, and leave recycling to
    ``max_jobs_per_worker``."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    quiet_tensorflow()
    threading.Thread(target=_watch, args=(coordinator,), daemon=True).start()
    # loky would restart a worker grown 300 MB past its size after the first task (here the
    # TensorFlow import): the compiled models of its pool grow past that by design, and a
    # restart throws them away after every job or two.
    process_executor._USE_PSUTIL = False


def _warm_up() -> None:
    import bench.engine.jobs  # noqa: F401  (Keras and TensorFlow: seconds to import)


def _watch(coordinator: int) -> None:
    # An orphan is re-parented: its parent pid changes when the coordinator dies.
    while os.getppid() == coordinator:
        time.sleep(1.0)
    os._exit(1)


__all__ = ["LocalExecutor", "WorkerProcess", "thread_env", "usable_cores"]
