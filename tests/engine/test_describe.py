"""`bench validate` shows everything that will happen: training per stage, tuning, cost."""

from bench.config import load_suite
from bench.engine.describe import augmentation_text, describe_plan
from bench.engine.plan import make_plan

TUNING = """
[tuning]
n_trials = 3
inner_folds = 2
pruner = "none"
timeout = 60
[tuning.space]
learning_rate = { type = "float", low = 1e-4, high = 1e-2, log = true }
epochs = { type = "int", low = 1, high = 4 }
"""
AUGMENT = """
[augmentation]
rotation = 15
horizontal_flip = true
mixup_alpha = 0.2
[balance]
method = "oversample"
"""


def _plan(write_suite, extra="", replace=None):
    return make_plan(load_suite(write_suite(extra, replace=replace)))


def test_cost_is_fits_times_epochs_times_images(write_suite):
    plan = _plan(write_suite)
    text = describe_plan(plan)
    train_images = sum(len(job.fold.train) for job in plan.fold_jobs)  # each fits 2 epochs
    assert (
        "estimated cost (upper bounds; early stopping ends most fits sooner): 13 jobs, 13 fits"
        in text
    )
    assert (
        "  shared stages: 1 fits, ≤ 1 epochs, ≤ 48 images × epochs" in text
    )  # 64 natural, 25% val
    assert f"  fold jobs: 12 fits, ≤ 24 epochs, ≤ {2 * train_images:,} images × epochs" in text
    assert f"  in all: ≤ {48 + 2 * train_images:,} images × epochs" in text
    assert "tuning: none" in text


def test_tuning_plan_and_its_cost(write_suite):
    plan = _plan(write_suite, TUNING)
    text = describe_plan(plan)
    assert (
        "tuning: Optuna TPE sampler (seeded per fold), 3 trials per outer fold, at most 60 s, "
        "pruner none; each trial judged on an inner 2-fold split of the outer training set"
    ) in text
    assert "    learning_rate: float [0.0001, 0.01] log\n    epochs: int [1, 4]" in text
    # every fold job: 1 fit + 3 trials x 2 inner folds, each up to 4 epochs
    assert "  fold jobs: 84 fits, ≤ 336 epochs" in text


def test_augmentation_and_balancing_per_stage(write_suite):
    plan = _plan(write_suite, AUGMENT, replace={"[train]": "augment = [false, true]\n[train]"})
    text = describe_plan(plan)
    assert "  1 shared stage(s), listed under jobs: augmentation off, balancing none" in text
    assert (
        "  ctl stage target: augmentation rotation 15, horizontal_flip, mixup_alpha 0.2 in 2 of 4 "
        "cells, balancing oversample"
    ) in text


def test_augmentation_text_lists_only_what_is_set(write_suite):
    suite = load_suite(write_suite(AUGMENT))
    assert augmentation_text(suite.augmentation) == "rotation 15, horizontal_flip, mixup_alpha 0.2"


def test_mixup_balancing_and_segmentation_are_described(write_suite):
    extra = '[balance]\nmethod = "mixup"\nmixup_alpha = 0.3\n[preprocess]\nsegment = "kmeans"\n'
    text = describe_plan(_plan(write_suite, extra + 'segment_output = "crop"\n'))
    assert "balancing mixup (alpha 0.3) up to the majority count" in text
    assert "target images: kmeans lesion segmentation, crop" in text
