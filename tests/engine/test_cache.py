"""What `bench validate` and `bench run --dry-run` say of stored, stale and new jobs, and the
shared stage cache listed and pruned."""

from __future__ import annotations

import time

from bench.cli import main
from bench.config import load_suite
from bench.engine.artifacts import save_stage
from bench.engine.cache import Freshness, job_states, list_cache, prune_cache
from bench.engine.coordinator import plan_rows
from bench.engine.plan import make_plan
from bench.store.db import Store

CHANGED = {"validation = 0.25": "validation = 0.3"}


def store_as_trained(plan) -> None:
    """Record every job of ``plan`` as run (no training): stages done, folds failed."""
    suite = plan.suite
    store = Store(suite.store_path)
    try:
        run = store.begin_run(
            suite=suite.name, suite_hash=suite.hash, profile=suite.profile, command="t",
            provenance={},
        )  # fmt: skip
        store.record_plan(suite_hash=suite.hash, profile=suite.profile, rows=plan_rows(plan))
        for job in plan.stage_jobs:
            path = save_stage(suite.artifacts_dir, job.hash, [], {"loss": [1.0]})
            store.record_stage(
                job=job.hash, label=job.label, run_id=run, started=time.time(),
                artifact=str(path), history={"loss": [1.0]}, inputs=job.inputs,
            )  # fmt: skip
        for job in plan.fold_jobs:
            store.record_failure(
                job=job.hash, kind="fold", label=job.label, run_id=run, started=time.time(),
                error="E", traceback="", inputs=job.inputs,
            )  # fmt: skip
    finally:
        store.close()


def test_a_changed_validation_fraction_makes_every_job_stale_and_says_why(write_suite, capsys):
    before = make_plan(load_suite(write_suite()))
    store_as_trained(before)
    assert {s.state for s in job_states(before)} == {Freshness.STORED, "failed"}
    changed = load_suite(write_suite(replace=CHANGED))
    states = job_states(make_plan(changed))
    assert {s.state for s in states} == {Freshness.STALE}
    assert {s.why for s in states} == {"protocol.validation 0.25 → 0.3"}
    assert main(["validate", str(changed.path)]) == 0
    out = capsys.readouterr().out
    stage = before.stage_jobs[0].label
    assert f"stage {stage}: stale (protocol.validation 0.25 → 0.3)" in out
    assert main(["run", str(changed.path), "--dry-run"]) == 0
    assert "cache: 13 stale" in capsys.readouterr().out


def test_a_new_suite_is_all_to_train(write_suite):
    assert {s.state for s in job_states(make_plan(load_suite(write_suite())))} == {
        Freshness.TO_TRAIN
    }


def test_cache_lists_users_and_prunes_what_no_current_plan_uses(write_suite, capsys):
    first = make_plan(load_suite(write_suite()))
    store_as_trained(first)
    changed = make_plan(load_suite(write_suite(replace=CHANGED)))
    store_as_trained(changed)  # the suite's latest plan: the first stage is no longer used
    results = first.suite.results_dir
    entries = {e.job: e for e in list_cache(results)}
    old, new = first.stage_jobs[0].hash, changed.stage_jobs[0].hash
    assert entries[new].suites == ("tiny",) and entries[old].suites == ()
    assert entries[old].labels == (first.stage_jobs[0].label,)
    assert main(["cache", "list", "--results", str(results)]) == 0
    assert "no current suite (bench cache prune removes it)" in capsys.readouterr().out
    assert [e.job for e in prune_cache(results, dry_run=True)] == [old]
    assert entries[old].path.exists()
    assert main(["cache", "prune", "--results", str(results)]) == 0
    assert "removed 1 unused stage(s)" in capsys.readouterr().out
    assert not entries[old].path.exists() and entries[new].path.exists()
