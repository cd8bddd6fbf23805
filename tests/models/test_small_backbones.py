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


def test_johri_cnn_has_the_papers_layers_and_parameter_count():
    """Johri et al. (2025), Fig. 7: 9,682,632 parameters at 224 px with 8 classes."""
    model = build_model("johri_cnn", image_size=224, n_classes=8, head=HeadSpec())
    assert model.count_params() == 9_682_632
    backbone = model.get_layer(BACKBONE)
    shapes = {layer.name: layer.output.shape[1:] for layer in backbone.layers[1:]}
    assert shapes["conv1"] == (222, 222, 32) and shapes["pool1"] == (111, 111, 32)
    assert shapes["conv4"] == (24, 24, 128) and shapes["pool4"] == (12, 12, 128)
    assert shapes["flatten"] == (18432,) and shapes["dense"] == (512,)
    assert backbone.get_layer("dropout").rate == 0.5
    assert model.output.shape[-1] == 8


def test_johri_cnn_trainable_rules_count_its_layers():
    model = build_model("johri_cnn", image_size=48, n_classes=3, head=HeadSpec())
    layers = model.get_layer(BACKBONE).layers
    assert len(layers) == 1 + 4 * 2 + 3  # input, conv-pool blocks, flatten, dense, dropout
    set_trainable(model, parse_trainable("last:3"))
    assert [layer.name for layer in layers if layer.trainable] == ["flatten", "dense", "dropout"]
    set_trainable(model, parse_trainable("freeze_first:3"))
    assert not any(layer.trainable for layer in layers[:3])  # input, conv1, pool1
    assert layers[3].name == "conv2" and all(layer.trainable for layer in layers[3:])


def test_johri_cnn_needs_46_px():
    from bench.errors import ConfigError

    assert check_backbone("johri_cnn", image_size=46, options={}).preprocessing == "unit"
    build_model("johri_cnn", image_size=46, n_classes=2, head=HeadSpec())
    with pytest.raises(ConfigError, match="backbone 'johri_cnn' needs images of at least 46 px"):
        check_backbone("johri_cnn", image_size=45, options={})
