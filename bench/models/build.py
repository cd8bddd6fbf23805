"""Build Keras models: a backbone (keras.applications or a small CNN) plus a head.

A model is ``input → backbone (a nested model named "backbone") → head``, so backbone
weights can move between stages while the head is replaced.
"""

from __future__ import annotations

from pathlib import Path

import keras

from bench.config.spec import HeadSpec
from bench.config.trainable import Trainable
from bench.errors import BenchError
from bench.models.registry import backbone_info

BACKBONE = "backbone"


def build_model(
    backbone: str,
    *,
    image_size: int,
    n_classes: int,
    head: HeadSpec,
    options: dict | None = None,
    weights: str = "none",
) -> keras.Model:
    """A full classifier; sigmoid heads have one unit (binary tasks only)."""
    inputs = keras.Input((image_size, image_size, 3), name="image")
    base = build_backbone(backbone, image_size=image_size, options=options or {}, weights=weights)
    x = base(inputs)
    for i, units in enumerate(head.dense):
        x = keras.layers.Dense(units, activation=head.activation, name=f"head_dense{i + 1}")(x)
        if head.dropout:
            x = keras.layers.Dropout(head.dropout, name=f"head_dropout{i + 1}")(x)
    if not head.dense and head.dropout:
        x = keras.layers.Dropout(head.dropout, name="head_dropout")(x)
    units, activation = (1, "sigmoid") if head.output == "sigmoid" else (n_classes, "softmax")
    # float32 output under mixed precision too: probabilities and the loss need its range.
    outputs = keras.layers.Dense(units, activation=activation, name="head_output", dtype="float32")(
        x
    )
    return keras.Model(inputs, outputs, name=f"{backbone}_classifier")


def build_backbone(name: str, *, image_size: int, options: dict, weights: str) -> keras.Model:
    """The feature extractor, globally average-pooled, named ``backbone``."""
    info = backbone_info(name)
    shape = (image_size, image_size, 3)
    options = dict(options)
    momentum = options.pop("bn_momentum", None)
    model = _backbone(info, shape=shape, options=options, weights=weights)
    if momentum is not None:
        _set_bn_momentum(model, momentum)
    return model


def _set_bn_momentum(model: keras.Model, momentum: float) -> None:
    """Faster-moving BatchNorm statistics: with a few hundred steps the Keras default (0.99,
    0.999 in some applications) leaves inference statistics near their initial values."""
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.momentum = momentum


def _backbone(info, *, shape, options: dict, weights: str) -> keras.Model:
    name = info.name
    if info.constructor in SMALL:
        model = SMALL[info.constructor](shape, **options)
        if weights not in ("none", "imagenet"):
            _load_backbone_weights(model, weights, name)
        elif weights == "imagenet":
            raise BenchError(
                f"backbone '{name}' has no ImageNet weights; use base.weights = \"none\" with "
                "base.pretrain, or a weights file"
            )
        return model
    constructor = getattr(keras.applications, info.constructor)
    kwargs = options
    if info.constructor.startswith("EfficientNetV2"):
        kwargs["include_preprocessing"] = True
    model = _application(constructor, name, shape=shape, weights=weights, kwargs=kwargs)
    return keras.Model(model.input, model.output, name=BACKBONE)


def _application(constructor, name: str, *, shape, weights: str, kwargs: dict) -> keras.Model:
    keras_weights = "imagenet" if weights == "imagenet" else None
    try:
        model = constructor(
            include_top=False, weights=keras_weights, input_shape=shape, pooling="avg", **kwargs
        )
    except Exception as exc:  # Keras raises plain Exception when the download fails
        if keras_weights is None:
            raise
        raise BenchError(
            f"backbone '{name}': ImageNet weights could not be fetched ({type(exc).__name__}); "
            "offline, set base.weights to a local .weights.h5 file, pre-populate "
            '~/.keras/models/, or use base.weights = "none" with base.pretrain = "<dataset>"'
        ) from None
    if weights not in ("none", "imagenet"):
        _load_backbone_weights(model, weights, name)
    return model


def _load_backbone_weights(model: keras.Model, path: str, name: str) -> None:
    if not Path(path).is_file():
        raise BenchError(
            f"base.weights = {path!r}: file not found; give a .weights.h5 file saved from a "
            f'\'{name}\' backbone, "imagenet" or "none"'
        )
    try:
        model.load_weights(path)
    except ValueError as exc:
        raise BenchError(f"base.weights = {path!r} does not fit backbone '{name}': {exc}") from None


def small_cnn(shape: tuple[int, int, int]) -> keras.Model:
    """Three conv-BN-ReLU-pool blocks and a pooled conv: a fast baseline for small images."""
    inputs = keras.Input(shape)
    x = inputs
    for i, filters in enumerate((32, 64, 128), start=1):
        x = keras.layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"conv{i}")(x)
        x = keras.layers.BatchNormalization(momentum=0.9, name=f"bn{i}")(x)
        x = keras.layers.Activation("relu", name=f"relu{i}")(x)
        x = keras.layers.MaxPooling2D(name=f"pool{i}")(x)
    x = keras.layers.Conv2D(128, 3, padding="same", activation="relu", name="conv4")(x)
    x = keras.layers.GlobalAveragePooling2D(name="gap")(x)
    return keras.Model(inputs, x, name=BACKBONE)


def johri_cnn(shape: tuple[int, int, int]) -> keras.Model:
    """The baseline CNN of Johri et al. (2025), their Fig. 7: four 3x3 valid convolutions
    (32, 64, 128, 128 filters, ReLU), each followed by 2x2 max pooling, then flatten, dense
    512 (ReLU) and dropout 0.5; bench's head adds the softmax layer. At 224 px and 8 classes
    that is the paper's 9,682,632 parameters. Needs at least 46 px (four valid convolutions
    and poolings must leave a pixel)."""
    inputs = keras.Input(shape)
    x = inputs
    for i, filters in enumerate((32, 64, 128, 128), start=1):
        x = keras.layers.Conv2D(filters, 3, activation="relu", name=f"conv{i}")(x)
        x = keras.layers.MaxPooling2D(name=f"pool{i}")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    x = keras.layers.Dense(512, activation="relu", name="dense")(x)
    x = keras.layers.Dropout(0.5, name="dropout")(x)
    return keras.Model(inputs, x, name=BACKBONE)


def small_resnet(shape: tuple[int, int, int], *, width: int = 16) -> keras.Model:
    """A compact residual network for small images: a conv stem and three stages of two
    basic residual blocks (``width``, 2 × and 4 × ``width`` filters; the last two stages
    halve the resolution), pooled.

    The identity shortcuts let it train deeper than the small CNN from few images, and its
    18 conv-BN blocks give the trainable rules ("last:N") a real depth to choose from.
    """
    inputs = keras.Input(shape)
    x = _conv_bn(inputs, width, name="stem")
    for stage, filters in enumerate((width, 2 * width, 4 * width), start=1):
        for block in (1, 2):
            stride = 2 if stage > 1 and block == 1 else 1
            x = _residual_block(x, filters, stride=stride, name=f"stage{stage}_block{block}")
    x = keras.layers.GlobalAveragePooling2D(name="gap")(x)
    return keras.Model(inputs, x, name=BACKBONE)


def _residual_block(x, filters: int, *, stride: int, name: str):
    shortcut = x
    if stride != 1 or x.shape[-1] != filters:
        shortcut = keras.layers.Conv2D(
            filters, 1, strides=stride, use_bias=False, name=f"{name}_project"
        )(x)
        shortcut = keras.layers.BatchNormalization(momentum=0.9, name=f"{name}_project_bn")(
            shortcut
        )
    y = _conv_bn(x, filters, stride=stride, name=f"{name}_1")
    y = _conv_bn(y, filters, name=f"{name}_2", activate=False)
    y = keras.layers.Add(name=f"{name}_add")([shortcut, y])
    return keras.layers.Activation("relu", name=f"{name}_out")(y)


def _conv_bn(x, filters: int, *, name: str, stride: int = 1, activate: bool = True):
    x = keras.layers.Conv2D(
        filters, 3, strides=stride, padding="same", use_bias=False, name=f"{name}_conv"
    )(x)
    x = keras.layers.BatchNormalization(momentum=0.9, name=f"{name}_bn")(x)
    return keras.layers.Activation("relu", name=f"{name}_relu")(x) if activate else x


SMALL = {"small_cnn": small_cnn, "small_resnet": small_resnet, "johri_cnn": johri_cnn}


def set_trainable(model: keras.Model, trainable: Trainable) -> None:
    """Apply a stage's trainable rule to the backbone; the head always trains.

    Counts run over ``backbone.layers`` (input layer included), as published protocols
    count them ("freeze the first 100 layers of ResNet50").
    """
    backbone = model.get_layer(BACKBONE)
    layers = backbone.layers
    flags = trainable.flags(len(layers))
    backbone.trainable = True
    for layer, flag in zip(layers, flags, strict=True):
        layer.trainable = flag


def backbone_weights(model: keras.Model) -> list:
    return model.get_layer(BACKBONE).get_weights()
