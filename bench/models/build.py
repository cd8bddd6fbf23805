"""Build Keras models: a backbone (keras.applications or the small CNN) plus a head.

A model is ``input → backbone (a nested model named "backbone") → head``, so backbone
weights can move between stages while the head is replaced.
"""

from __future__ import annotations

from pathlib import Path

import keras

from bench.config.spec import HeadSpec
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
    if info.constructor == "small_cnn":
        model = small_cnn(shape)
        if weights not in ("none", "imagenet"):
            _load_backbone_weights(model, weights, name)
        elif weights == "imagenet":
            raise BenchError(
                "backbone 'small_cnn' has no ImageNet weights; use base.weights = \"none\" with "
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


def set_trainable(model: keras.Model, trainable: str) -> None:
    """Apply a stage's trainable rule to the backbone; the head always trains.

    Counts run over ``backbone.layers`` (input layer included), as published protocols
    count them ("freeze the first 100 layers of ResNet50").
    """
    backbone = model.get_layer(BACKBONE)
    layers = backbone.layers
    flags = _trainable_flags(trainable, len(layers))
    backbone.trainable = True
    for layer, flag in zip(layers, flags, strict=True):
        layer.trainable = flag


def _trainable_flags(trainable: str, n: int) -> list[bool]:
    if trainable == "all":
        return [True] * n
    if trainable == "head":
        return [False] * n
    form, _, count = trainable.partition(":")
    k = min(int(count), n)
    if form == "last":
        return [False] * (n - k) + [True] * k
    if form == "all_but_last":
        return [True] * (n - k) + [False] * k
    if form == "freeze_first":
        return [False] * k + [True] * (n - k)
    raise ValueError(f"unknown trainable rule {trainable!r}")


def backbone_weights(model: keras.Model) -> list:
    return model.get_layer(BACKBONE).get_weights()
