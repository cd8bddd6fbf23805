"""The registry's layer counts are the models' own: plans count trainable layers without Keras."""

from __future__ import annotations

import pytest

from bench.config.spec import HeadSpec
from bench.config.trainable import parse_trainable
from bench.models.build import BACKBONE, build_backbone, build_model, set_trainable
from bench.models.registry import BACKBONES, head_layers


@pytest.mark.parametrize("name", sorted(BACKBONES))
def test_registry_layers_equal_the_built_backbone(name):
    size = max(BACKBONES[name].min_size, 75)
    model = build_backbone(name, image_size=size, options={}, weights="none")
    assert len(model.layers) == BACKBONES[name].layers


@pytest.mark.parametrize(
    "head",
    [
        HeadSpec(),
        HeadSpec(dense=(256,), dropout=0.5),
        HeadSpec(dense=(8, 4)),
        HeadSpec(dropout=0.2),
    ],
)
def test_head_layers_and_trainable_count_match_the_built_model(head):
    model = build_model("small_cnn", image_size=32, n_classes=2, head=head)
    # the image input and the nested backbone, then the head's layers
    assert len(model.layers) == 2 + head_layers(head)
    set_trainable(model, parse_trainable("last:4"))
    backbone = model.get_layer(BACKBONE)
    trained = sum(layer.trainable for layer in backbone.layers)
    head_trained = sum(layer.trainable for layer in model.layers[2:])
    assert (trained, head_trained) == (4, head_layers(head))
