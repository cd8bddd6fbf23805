"""The closed sets of words the store records: kinds of job, job statuses, run statuses.

Each is a :class:`enum.StrEnum`, so a member is stored, compared and printed as its value
(``JobStatus.DONE == "done"``) and the files written before these types existed read the same.
"""

from __future__ import annotations

from enum import StrEnum


class JobKind(StrEnum):
    STAGE = "stage"  # a fold-independent stage, trained once and shared
    FOLD = "fold"  # a cell's target stages on one outer fold


class JobStatus(StrEnum):
    DONE = "done"
    FAILED = "failed"
    PENDING = "pending"  # planned, never run: no row in the jobs table


class RunStatus(StrEnum):
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    INTERRUPTED = "interrupted"
    KILLED = "killed"  # still marked running when the next run took the lock
