"""Job functions that misbehave, for tests; importable by worker processes.

Tests point ``bench.engine.executors.task.JOB_FUNCTIONS`` at them; each task carries the
name, so worker processes and Dask workers run the same function as the coordinator asks.
"""

import os
import signal

from bench.engine import jobs


def fail_fold_1(job, worker):
    if job.fold.fold == 1:
        raise RuntimeError("simulated out of memory")
    return jobs.run_fold_job(job, worker)


def die_on_fold_1(job, worker):
    if job.fold.fold == 1:
        os.kill(os.getpid(), signal.SIGKILL)
    return jobs.run_fold_job(job, worker)
