"""Leak-free by construction: the outer test fold never reaches training, and pretraining
data may not contain target images."""

import numpy as np
import pytest

from bench.config import load_suite
from bench.data.sources import load_dataset
from bench.engine.jobs import Worker, train_fold
from bench.engine.plan import make_plan
from bench.errors import DataError
from bench.metrics import youden_threshold
from bench.train.fit import ModelPool, predict_proba

AUGMENTED_TUNED = """
[augmentation]
rotation = 10
horizontal_flip = true
mixup_alpha = 0.2
[balance]
method = "oversample"
[tuning]
n_trials = 2
pruner = "none"
[tuning.space]
learning_rate = { type = "float", low = 1e-3, high = 1e-2, log = true }
"""


def test_test_fold_pixels_never_enter_training_validation_augmentation_or_tuning(
    write_suite, monkeypatch
):
    """Poison the test images with NaN: any use in fitting, validation, balancing copies,
    augmentation sources or tuning trials would make a loss NaN."""
    suite = load_suite(
        write_suite(
            AUGMENTED_TUNED,
            replace={
                'optimizer = ["adam", "sgd"]': 'optimizer = ["adam"]',
                "validation = 0.25": 'validation = 0.25\nthreshold = "youden"',
            },
        )
    )
    plan = make_plan(suite)
    job = next(j for j in plan.fold_jobs if j.cell.strategy.name == "scratch")
    worker = Worker(suite=suite, pool=ModelPool(), artifacts=suite.artifacts_dir)
    clean = worker.inputs(suite.target)
    poisoned = clean.astype(np.float32)
    poisoned[job.fold.test] = np.nan
    monkeypatch.setattr(worker, "inputs", lambda name, image_size=None: poisoned)
    trained = train_fold(job, worker)
    losses = np.concatenate([h["loss"] + h["val_loss"] for h in trained.histories.values()])
    assert np.isfinite(losses).all() and np.isfinite(trained.threshold)
    assert set(trained.params) == {"learning_rate"}
    # Youden's threshold comes from the inner validation predictions alone
    labels = load_dataset(suite.datasets[suite.target], image_size=suite.image_size).labels
    proba_val = predict_proba(
        trained.model, poisoned, rows=job.fold.val, preprocessing=trained.preprocessing
    )
    assert trained.threshold == youden_threshold(labels[job.fold.val], proba_val[:, 1])
    assert all(np.isfinite(v) for v in trained.val_scores.values())


def test_pretraining_pool_containing_target_images_is_refused(write_suite):
    path = write_suite(
        """
        [datasets.copy]
        source = "synthetic:ultrasound"
        classes = ["benign", "malignant"]
        samples_per_class = 12
        images_per_patient = 2
        difficulty = 0.2
    """,
        replace={'pretrain = "natural"': 'pretrain = "copy"'},
    )
    with pytest.raises(
        DataError,
        match=r"dataset 'copy' \(stage 'pretrain'\) contains 24 "
        r"image\(s\) identical to images of the target",
    ):
        make_plan(load_suite(path))
    relaxed = write_suite(
        """
        [datasets.copy]
        source = "synthetic:ultrasound"
        classes = ["benign", "malignant"]
        samples_per_class = 12
        images_per_patient = 2
        difficulty = 0.2
    """,
        replace={
            'pretrain = "natural"': 'pretrain = "copy"',
            "folds = 3": 'folds = 3\nleakage = "warn"',
        },
        name="relaxed.toml",
    )
    with pytest.warns(UserWarning, match="identical to images of the target"):
        make_plan(load_suite(relaxed))
