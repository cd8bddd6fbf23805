"""Which job runs next, and where: parents before children, model groups kept on a worker.

A stage job waits for its parent stage, a fold job for its shared stage. Ready stages go
first, since each unblocks many folds. Fold jobs form *model groups* (same backbone,
options and target stages, hence the same compiled models): a worker keeps to its group
while it has ready jobs, then takes a group nobody works on, and only then helps with the
biggest group — so each worker's model pool is reused instead of retraced. With one
worker this is the plan's order: stages, then folds group by group.
"""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass, field

from bench.engine.plan import FoldJob, StageJob

Job = StageJob | FoldJob


def model_group(job: FoldJob) -> tuple:
    """Fold jobs with equal groups train the same compiled models (see ModelKey)."""
    return (job.cell.backbone, repr(job.cell.backbone_options), repr(job.stages))


@dataclass
class Schedule:
    stages: deque[StageJob] = field(default_factory=deque)
    groups: dict[tuple, deque[FoldJob]] = field(default_factory=dict)
    waiting: dict[str, list[Job]] = field(default_factory=dict)  # by the stage they need
    last_group: dict[str, tuple] = field(default_factory=dict)  # by slot
    active: Counter = field(default_factory=Counter)  # running fold jobs per group

    @classmethod
    def of(cls, stages: list[StageJob], folds: list[FoldJob]) -> Schedule:
        """Jobs to run; one whose parent is among ``stages`` waits for it."""
        schedule, pending = cls(), {job.hash for job in stages}
        for job in [*stages, *sorted(folds, key=_fold_order)]:
            if job.parent in pending:
                schedule.waiting.setdefault(job.parent, []).append(job)
            else:
                schedule._release(job)
        return schedule

    def next_for(self, slot: str) -> Job | None:
        """The job ``slot`` should run next, or None when nothing is ready."""
        if self.stages:
            return self.stages.popleft()
        group = self._group_for(slot)
        if group is None:
            return None
        job = self.groups[group].popleft()
        if not self.groups[group]:
            del self.groups[group]
        self.last_group[slot] = group
        self.active[group] += 1
        return job

    def ready(self) -> bool:
        """Whether a job could start now."""
        return bool(self.stages or self.groups)

    def finished(self, job: Job, *, ok: bool) -> list[Job]:
        """Release what waited on ``job``; return the jobs a failed stage leaves blocked."""
        if isinstance(job, FoldJob):
            self.active[model_group(job)] -= 1
            return []
        dependents = self.waiting.pop(job.hash, [])
        if ok:
            for dependent in dependents:
                self._release(dependent)
            return []
        return [blocked for d in dependents for blocked in [d, *self._drop(d)]]

    def _group_for(self, slot: str) -> tuple | None:
        if not self.groups:
            return None
        mine = self.last_group.get(slot)
        if mine in self.groups:
            return mine
        idle = [group for group in self.groups if not self.active[group]]
        if idle:
            return idle[0]
        return max(self.groups, key=lambda group: len(self.groups[group]))

    def _release(self, job: Job) -> None:
        if isinstance(job, StageJob):
            self.stages.append(job)
        else:
            self.groups.setdefault(model_group(job), deque()).append(job)

    def _drop(self, job: Job) -> list[Job]:
        """Every job that transitively waits on ``job``."""
        dependents = self.waiting.pop(job.hash, [])
        return [blocked for d in dependents for blocked in [d, *self._drop(d)]]


def _fold_order(job: FoldJob) -> tuple:
    return (*model_group(job), job.cell.id, job.repeat, job.fold.fold)


__all__ = ["Schedule", "model_group"]
