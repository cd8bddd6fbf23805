"""A small scores table shaped like the ones bench stores: 3 backbones x 2 optimizers x 3
strategies, 2 repeats x 3 folds, with fold sizes, deterministic from a seed."""

import itertools

import numpy as np
import pandas as pd
import pytest

FACTORS = ("backbone", "optimizer", "strategy")
BACKBONES = ("small_cnn", "mobilenet_v2", "resnet50")
OPTIMIZERS = ("adam", "sgd")
STRATEGIES = ("ctl", "mstl", "dtl")
GAIN = {"ctl": 0.0, "mstl": 0.03, "dtl": 0.01}
N_TEST = (34, 33, 33)  # 100 images in 3 outer folds


def cell_id(backbone, optimizer, strategy):
    return f"backbone={backbone}|optimizer={optimizer}|strategy={strategy}"


def make_scores(*, seed=0, repeats=2, drop=(), metrics=("accuracy", "auc", "loss")):
    """One row per (cell, repeat, fold); ``drop`` lists (backbone, optimizer, strategy) to omit."""
    rng = np.random.default_rng(seed)
    rows = []
    for backbone, optimizer, strategy in itertools.product(BACKBONES, OPTIMIZERS, STRATEGIES):
        if (backbone, optimizer, strategy) in drop:
            continue
        base = 0.7 + 0.05 * BACKBONES.index(backbone) + GAIN[strategy]
        for repeat, fold in itertools.product(range(repeats), range(len(N_TEST))):
            row = {
                "cell": cell_id(backbone, optimizer, strategy),
                "backbone": backbone,
                "optimizer": optimizer,
                "strategy": strategy,
                "repeat": repeat,
                "fold": fold,
                "n_train": 100 - N_TEST[fold],
                "n_test": N_TEST[fold],
            }
            for metric in metrics:
                noise = rng.normal(0.0, 0.02)
                value = base + noise if metric != "loss" else 1.0 - base + noise
                row[metric] = value
            rows.append(row)
    frame = pd.DataFrame(rows)
    frame.attrs["factors"] = list(FACTORS)
    return frame


@pytest.fixture
def scores():
    return make_scores()
