"""The dispatch order: parents before children, model groups kept on one worker."""

import itertools

import pytest

from bench.config import load_suite
from bench.engine.executors import Schedule, model_group
from bench.engine.plan import FoldJob, StageJob, make_plan


@pytest.fixture
def plan(write_suite):
    return make_plan(load_suite(write_suite()))


def _drain(schedule: Schedule, slot: str) -> list:
    jobs = []
    while (job := schedule.next_for(slot)) is not None:
        jobs.append(job)
        schedule.finished(job, ok=True)
    return jobs


def test_one_worker_runs_stages_first_then_one_model_group_at_a_time(plan):
    jobs = _drain(Schedule.of(list(plan.stage_jobs), list(plan.fold_jobs)), "main")
    assert sorted(j.hash for j in jobs) == sorted(j.hash for j in plan.stage_jobs + plan.fold_jobs)
    assert isinstance(jobs[0], StageJob)
    groups = [model_group(j) for j in jobs[1:]]
    changes = sum(a != b for a, b in itertools.pairwise(groups))
    assert changes == len(set(groups)) - 1  # each group runs back to back


def test_fold_jobs_wait_for_their_shared_stage(plan):
    schedule = Schedule.of(list(plan.stage_jobs), list(plan.fold_jobs))
    (stage,) = plan.stage_jobs
    assert schedule.next_for("a") == stage
    waiting = [schedule.next_for("b") for _ in range(6)]
    assert all(isinstance(j, FoldJob) and j.parent is None for j in waiting)
    assert schedule.next_for("b") is None  # the rest start from the stage still training
    schedule.finished(stage, ok=True)
    assert schedule.next_for("b").parent == stage.hash


def test_a_failed_stage_blocks_exactly_its_dependents(plan):
    schedule = Schedule.of(list(plan.stage_jobs), list(plan.fold_jobs))
    stage = schedule.next_for("a")
    blocked = schedule.finished(stage, ok=False)
    assert {j.hash for j in blocked} == {j.hash for j in plan.fold_jobs if j.parent == stage.hash}
    assert len(_drain(schedule, "a")) == 6  # the folds that start from scratch still run


def test_workers_keep_to_their_group_and_spread_over_idle_groups(plan):
    schedule = Schedule.of([], [j for j in plan.fold_jobs if j.parent is None])
    first_a, first_b = schedule.next_for("a"), schedule.next_for("b")
    assert model_group(first_a) != model_group(first_b)  # a group nobody works on
    schedule.finished(first_a, ok=True)
    assert model_group(schedule.next_for("a")) == model_group(first_a)  # its warm model
