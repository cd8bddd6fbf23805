"""Stages: what trains, what stays frozen, what carries over, which labels each stage sees."""

import numpy as np

from bench.config import load_suite
from bench.config.spec import HeadSpec
from bench.config.trainable import parse_trainable
from bench.engine.artifacts import load_weights
from bench.engine.catalog import read_catalog, stage_classes
from bench.engine.jobs import Worker, _stage_data, run_stage_job
from bench.engine.plan import make_plan
from bench.models.build import BACKBONE
from bench.train.fit import Arrays, FitSpec, ModelKey, ModelPool, fit_stage

DTL_MSTL = """
[datasets.pool]
source = "synthetic:ultrasound-pool"
samples_per_class = 6

[datasets.cells]
source = "synthetic:cells"
samples_per_class = 6
"""
ROLES = {
    'target = "target"': 'target = "target"\npool = "pool"\nintermediate = "cells"',
    'strategy = ["scratch", "ctl"]': 'strategy = ["scratch", "ctl", "dtl", "mstl"]',
}


def _fit(trainable, start=None, seed=0, head=None):
    head = head or HeadSpec()
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 255, (24, 16, 16, 3)).astype(np.float32)
    y = np.arange(24) % 2
    key = ModelKey("small_cnn", (), 16, 2, head, parse_trainable(trainable), "adam", ())
    spec = FitSpec(key, "none", 1e-2, 1.0, 2, 8, 5, seed)
    return fit_stage(
        spec, Arrays(x, y, np.arange(16), np.arange(16, 24)), pool=ModelPool(), backbone_start=start
    )


def _backbone(result):
    return result.model.get_layer(BACKBONE)


def test_frozen_layers_keep_exact_weights_and_trainable_layers_change():
    start = _backbone(_fit("all", seed=1)).get_weights()
    result = _fit("last:3", start=start)  # conv4 (+ its activation-free tail) trains
    backbone = _backbone(result)
    frozen = {layer.name for layer in backbone.layers[:-3]}
    for layer in backbone.layers:
        if not layer.weights:
            continue
        before = [w for l2 in _fresh_backbone_layers(start) if l2[0] == layer.name for w in l2[1]]
        after = layer.get_weights()
        same = all(np.array_equal(a, b) for a, b in zip(after, before))
        assert same == (layer.name in frozen), layer.name


def _fresh_backbone_layers(weights):
    """(layer name, weights) of a small_cnn backbone holding ``weights``, in layer order."""
    from bench.models.build import small_cnn

    model = small_cnn((16, 16, 3))
    model.set_weights(weights)
    return [(layer.name, layer.get_weights()) for layer in model.layers]


def test_head_is_replaced_between_stages_and_backbone_carries_over():
    first = _fit("all", seed=1, head=HeadSpec(dense=(8,)))
    carried = _backbone(first).get_weights()
    second = _fit("head", start=carried, seed=2, head=HeadSpec(dense=(16,), dropout=0.5))
    assert second.model.get_layer("head_dense1").kernel.shape == (128, 16)
    for a, b in zip(_backbone(second).get_weights(), carried):
        np.testing.assert_array_equal(a, b)  # head-only stage: backbone exactly as handed over
    fresh = _fit("head", start=carried, seed=2, head=HeadSpec(dense=(16,), dropout=0.5))
    np.testing.assert_array_equal(
        second.model.get_layer("head_output").kernel.numpy(),
        fresh.model.get_layer("head_output").kernel.numpy(),
    )


def test_each_distinct_stage_is_trained_once(write_suite):
    suite = load_suite(write_suite(DTL_MSTL, replace=ROLES))
    plan = make_plan(suite)
    # per backbone: one natural pretraining; per optimizer: one pool and one cells stage
    assert len(plan.stage_jobs) == 1 + 2 + 2
    assert len({job.hash for job in plan.stage_jobs}) == len(plan.stage_jobs)
    parents = {job.parent for job in plan.fold_jobs} - {None}  # scratch starts from nothing
    assert parents <= {job.hash for job in plan.stage_jobs}


def test_dtl_phase_one_trains_on_origin_pseudo_labels(write_suite):
    suite = load_suite(write_suite(DTL_MSTL, replace=ROLES))
    plan = make_plan(suite)
    pool_job = next(j for j in plan.stage_jobs if j.stage.name == "pool")
    assert pool_job.stage.labels == "origin"
    scanners = stage_classes(pool_job.stage, read_catalog(suite))
    assert len(scanners) >= 3 and all(name.startswith("scanner") for name in scanners)
    worker = Worker(suite=suite, pool=ModelPool(), artifacts=suite.artifacts_dir)
    _, y, _ = _stage_data(worker, pool_job.stage)
    assert sorted(set(y.tolist())) == list(range(len(scanners)))
    parent = next(j for j in plan.stage_jobs if j.hash == pool_job.parent)
    run_stage_job(parent, worker)
    _, history = run_stage_job(pool_job, worker)
    assert len(load_weights(suite.artifacts_dir, pool_job.hash)) > 0 and history["loss"]


def test_a_shared_stage_holds_out_whole_patients(write_suite):
    from bench.data.splits import holdout

    two_per_patient = "samples_per_class = 8\nimages_per_patient = 2"
    suite = load_suite(write_suite(replace={"samples_per_class = 8": two_per_patient}))
    pretrain = make_plan(suite).stage_jobs[0]
    worker = Worker(suite=suite, pool=ModelPool(), artifacts=suite.artifacts_dir)
    _, y, groups = _stage_data(worker, pretrain.stage)
    assert len(set(groups.tolist())) < len(groups)  # patients with several images
    fit, val = holdout(y, groups, fraction=suite.protocol.validation, seed=pretrain.seed)
    assert len(val) and not set(groups[fit]) & set(groups[val])


def test_patience_zero_trains_every_epoch_and_keeps_the_last_weights():
    """Random labels and a large learning rate: validation loss stops improving at once, so
    patience 1 ends the fit early while patience 0 (no early stopping) runs every epoch."""
    rng = np.random.default_rng(1)
    x = rng.uniform(0, 255, (24, 16, 16, 3)).astype(np.float32)
    y = rng.integers(0, 2, 24)
    key = ModelKey("small_cnn", (), 16, 2, HeadSpec(), parse_trainable("all"), "adam", ())
    arrays = Arrays(x, y, np.arange(16), np.arange(16, 24))
    runs = {
        patience: fit_stage(
            FitSpec(key, "none", 0.5, 1.0, 8, 8, patience, 0), arrays, pool=ModelPool()
        )
        for patience in (0, 1)
    }
    assert len(runs[0].history["loss"]) == 8 and runs[0].best_epoch == 7
    assert len(runs[1].history["loss"]) < 8
