"""Optuna search inside the outer training set: stored per fold, resumable."""

import json

import optuna
import pytest

from bench.config import load_suite
from bench.engine import tuning
from bench.engine.coordinator import RunOptions, run_suite
from bench.errors import ConfigError
from bench.store.db import Store

TUNED = """
[tuning]
n_trials = 3
pruner = "none"
[tuning.space]
learning_rate = { type = "float", low = 1e-4, high = 1e-2, log = true }
epochs = { type = "int", low = 1, high = 2 }
"""
ONE_CELL = {
    'optimizer = ["adam", "sgd"]': 'optimizer = ["adam"]',
    'strategy = ["scratch", "ctl"]': 'strategy = ["scratch"]',
    "folds = 3": "folds = 2",
}


def _trials(suite):
    storage = f"sqlite:///{suite.studies_path}"
    return {
        s.study_name: [
            t for t in optuna.load_study(study_name=s.study_name, storage=storage).trials
        ]
        for s in optuna.get_all_study_summaries(storage)
    }


def test_chosen_parameters_are_stored_per_fold(write_suite):
    suite = load_suite(write_suite(TUNED, replace=ONE_CELL))
    summary = run_suite(suite, options=RunOptions(progress=False))
    assert summary.folds_trained == 2
    store = Store(suite.store_path)
    params = [json.loads(p) for (p,) in store.db.execute("SELECT params FROM fold_results")]
    store.close()
    assert all(
        set(p) == {"learning_rate", "epochs"} and 1e-4 <= p["learning_rate"] <= 1e-2 for p in params
    )
    studies = _trials(suite)
    assert len(studies) == 2 and all(len(t) == 3 for t in studies.values())


def test_interrupted_search_resumes_without_repeating_trials(write_suite, monkeypatch):
    suite = load_suite(write_suite(TUNED, replace=ONE_CELL))
    real = tuning.best_loss
    calls = {"n": 0}

    def interrupt_on_second_trial(history):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return real(history)

    monkeypatch.setattr(tuning, "best_loss", interrupt_on_second_trial)
    first = run_suite(suite, options=RunOptions(progress=False))
    assert first.interrupted and first.folds_trained == 0
    (before,) = _trials(suite).values()
    finished = [t.params for t in before if t.state == optuna.trial.TrialState.COMPLETE]
    assert len(finished) == 1

    monkeypatch.setattr(tuning, "best_loss", real)
    second = run_suite(suite, options=RunOptions(progress=False))
    assert second.folds_trained == 2
    for trials in _trials(suite).values():
        complete = [t for t in trials if t.state == optuna.trial.TrialState.COMPLETE]
        assert len(complete) == 3  # not 1 + 3: the finished trial is kept, not repeated
    assert any(trials[0].params == finished[0] for trials in _trials(suite).values())


@pytest.mark.parametrize(
    ("space", "message"),
    [
        (
            'learning_rat = { type = "float", low = 1e-4, high = 1e-2 }',
            r"'tuning.space.learning_rat' is not a tunable parameter; did you mean 'learning_rate'",
        ),
        ('dropout = { type = "float", low = 0.5, high = 0.1 }', r"needs low <= high"),
        ('epochs = { type = "integer", low = 1, high = 3 }', r"'tuning.space.epochs.type' must be"),
        ('batch_size = { type = "categorical", choices = [] }', r"choices' must list"),
    ],
)
def test_bad_search_spaces(write_suite, space, message):
    with pytest.raises(ConfigError, match=message):
        load_suite(write_suite(f"[tuning]\n[tuning.space]\n{space}\n"))


def test_inner_folds_score_each_trial_on_grouped_splits_of_the_outer_training_set(
    write_suite, monkeypatch
):
    from bench.engine import jobs
    from bench.engine.plan import make_plan

    inner = TUNED.replace('pruner = "none"', 'pruner = "none"\ninner_folds = 2')
    suite = load_suite(write_suite(inner, replace=ONE_CELL))
    assert suite.tuning.inner_folds == 2
    splits, losses = [], []
    real_split, real_loss = jobs.inner_folds, tuning.best_loss

    def spy_split(train, labels, groups, **kwargs):
        result = real_split(train, labels, groups, **kwargs)
        splits.append((train, groups, result))
        return result

    def spy_loss(history):
        losses.append(history)
        return real_loss(history)

    monkeypatch.setattr(jobs, "inner_folds", spy_split)
    monkeypatch.setattr(tuning, "best_loss", spy_loss)
    run_suite(suite, options=RunOptions(progress=False))
    plan = make_plan(suite)
    assert len(splits) == 2 and len(losses) == 2 * 3 * 2  # folds x trials x inner folds
    for job, (train, groups, inner) in zip(plan.fold_jobs, splits, strict=True):
        assert set(train) == set(job.fold.train) | set(job.fold.val)
        assert not set(train) & set(job.fold.test)  # the outer test fold never enters
        assert len(inner) == 2
        for fit, val in inner:
            assert set(fit) | set(val) == set(train) and not set(fit) & set(val)
            assert not set(groups[fit]) & set(groups[val])  # no patient on both sides
