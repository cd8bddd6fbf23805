"""The two built-in small backbones: shapes, widths, depth for the trainable rules, weights."""

import numpy as np
import pytest

from bench.config.spec import HeadSpec
from bench.config.trainable import parse_trainable
from bench.models.build import BACKBONE, build_model, set_trainable
from bench.models.registry import check_backbone


def _resnet(**options):
    return build_model("small_resnet", image_size=16, n_classes=3, head=HeadSpec(), options=options)


def test_small_resnet_pools_four_times_its_width_and_halves_the_resolution_twice():
    model = _resnet(width=4)
    backbone = model.get_layer(BACKBONE)
    assert backbone.output.shape[-1] == 16
    assert backbone.get_layer("stage3_block2_out").output.shape[1:3] == (4, 4)
    assert model.output.shape[-1] == 3
    # stem (3 layers) + 6 basic blocks of 7 layers + 2 projections of 2 + input + pooling
    assert len(backbone.layers) == 1 + 3 + 6 * 7 + 2 * 2 + 1


def test_residual_blocks_add_their_shortcut():
    backbone = _resnet(width=4).get_layer(BACKBONE)
    add = backbone.get_layer("stage2_block1_add")
    sources = {node.operation.name for node in add._inbound_nodes[0].parent_nodes}
    assert sources == {"stage2_block1_project_bn", "stage2_block1_2_bn"}


def test_last_n_unfreezes_the_last_stage_only():
    model = _resnet(width=4)
    set_trainable(model, parse_trainable("last:17"))  # what the shipped suites' DTL stages train
    layers = model.get_layer(BACKBONE).layers
    trainable = [layer.name for layer in layers if layer.trainable]
    assert len(trainable) == 17
    assert trainable[0] == "stage3_block1_1_conv" and trainable[-1] == "gap"
    assert {name.split("_")[0] for name in trainable} == {"stage3", "gap"}


def test_weights_move_between_widths_only_when_they_match(tmp_path):
    source = _resnet(width=4).get_layer(BACKBONE)
    path = tmp_path / "backbone.weights.h5"
    source.save_weights(path)
    loaded = build_model(
        "small_resnet",
        image_size=16,
        n_classes=2,
        head=HeadSpec(),
        weights=str(path),
        options={"width": 4},
    ).get_layer(BACKBONE)
    for a, b in zip(source.get_weights(), loaded.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    from bench.errors import BenchError

    with pytest.raises(BenchError, match="does not fit backbone 'small_resnet'"):
        build_model(
            "small_resnet",
            image_size=16,
            n_classes=2,
            head=HeadSpec(),
            weights=str(path),
            options={"width": 8},
        )


def test_the_registry_knows_small_resnet_and_its_width():
    assert (
        check_backbone("small_resnet", image_size=16, options={"width": 8}).preprocessing == "unit"
    )
    from bench.errors import ConfigError

    with pytest.raises(ConfigError, match=r"'backbones\.small_resnet\.alpha' is not an option"):
        check_backbone("small_resnet", image_size=16, options={"alpha": 0.5})
