"""In-process serial execution: the default for ``--jobs 1``, and the one to debug with."""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path

from bench.config.spec import Suite
from bench.engine.executors.local import thread_env
from bench.engine.executors.task import Outcome, Task, execute_task
from bench.engine.identity import DEFAULT_THREADS


class SerialExecutor:
    """Runs each job in this process, when the coordinator waits for it."""

    name = "serial"

    def __init__(self, *, suite: Suite, reuse: bool, threads: int | None = None):
        threads = threads or DEFAULT_THREADS
        _cap_threads(threads)
        from bench.engine.jobs import Worker
        from bench.train.fit import ModelPool
        from bench.train.seeding import seed_process

        seed_process(suite.seed, deterministic=suite.protocol.deterministic)
        self.artifacts = str(suite.artifacts_dir)
        self.threads = threads
        self.worker = Worker(
            suite=suite, pool=ModelPool(reuse=reuse), artifacts=Path(suite.artifacts_dir)
        )
        self._queued: Task | None = None

    def slots(self) -> list[str]:
        return ["main"]

    def submit(self, task: Task, *, slot: str) -> None:
        self._queued = task

    def wait(self) -> list[tuple[str, Outcome]]:
        task, self._queued = self._queued, None
        return [("main", execute_task(task, self.worker))]

    def close(self, *, kill: bool) -> None:
        self._queued = None

    def describe(self) -> dict:
        return {"name": self.name, "jobs": 1, "threads_per_worker": self.threads}


def _cap_threads(threads: int) -> None:
    """Cap TensorFlow's threads, which only works before TensorFlow is imported."""
    if "tensorflow" in sys.modules and os.environ.get("TF_NUM_INTRAOP_THREADS") != str(threads):
        warnings.warn(
            f"threads={threads} ignored: TensorFlow is already imported in this process",
            stacklevel=3,
        )
        return
    os.environ.update(thread_env(threads))
