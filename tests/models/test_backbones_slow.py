"""Every keras.applications backbone trains at its minimum input size through each built-in
strategy's trainable rule, with the layer counts the rule promises (``pytest -m slow``)."""

from __future__ import annotations

import numpy as np
import pytest

from bench.config.spec import HeadSpec
from bench.config.strategy import builtin_strategies
from bench.config.trainable import parse_trainable
from bench.models.build import BACKBONE
from bench.models.registry import BACKBONES
from bench.train.fit import Arrays, FitSpec, ModelKey, ModelPool, fit_stage

APPLICATIONS = [name for name, info in BACKBONES.items() if info.constructor != "small_cnn"]
RULES = sorted({st["trainable"] for s in builtin_strategies().values() for st in s["stages"]})


def expected_trainable(rule: str, n: int) -> int:
    """How many backbone layers (input layer included) a rule leaves trainable."""
    if rule == "all":
        return n
    if rule == "head":
        return 0
    form, _, count = rule.partition(":")
    k = min(int(count), n)
    return {"last": k, "all_but_last": n - k, "freeze_first": n - k}[form]


@pytest.mark.slow
@pytest.mark.parametrize("backbone", APPLICATIONS)
def test_backbone_trains_through_every_builtin_trainable_rule(backbone):
    info = BACKBONES[backbone]
    size = info.min_size
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (8, size, size, 3), dtype=np.uint8)
    y = np.array([0, 1] * 4)
    data = Arrays(x, y, fit=np.arange(6), val=np.arange(6, 8))
    pool = ModelPool()
    for rule in RULES:
        spec = FitSpec(
            key=ModelKey(backbone, (), size, 2, HeadSpec(), parse_trainable(rule), "adam", ()),
            weights="none",
            learning_rate=1e-3,
            lr_decay=1.0,
            epochs=1,
            batch_size=4,
            patience=1,
            seed=1,
            preprocessing=info.preprocessing,
        )
        before = [w.copy() for w in pool.acquire(spec)[0].get_layer(BACKBONE).get_weights()]
        result = fit_stage(spec, data, pool=pool)
        layers = result.model.get_layer(BACKBONE).layers
        trainable = sum(layer.trainable for layer in layers)
        assert trainable == expected_trainable(rule, len(layers)), (backbone, rule)
        after = result.model.get_layer(BACKBONE).get_weights()
        moved = any(not np.array_equal(a, b) for a, b in zip(before, after, strict=True))
        assert moved == (rule != "head"), f"{backbone} {rule}: backbone weights moved: {moved}"
        assert np.isfinite(result.history["loss"]).all()
