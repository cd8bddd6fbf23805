"""Backbones and optimizers bench knows, as plain data (no Keras import).

Planning and validation read this registry; :mod:`bench.models.build` turns an entry into
a Keras model.
"""

from __future__ import annotations

from dataclasses import dataclass

from bench.config.schema import suggest
from bench.config.spec import HeadSpec
from bench.errors import ConfigError


@dataclass(frozen=True)
class BackboneInfo:
    name: str
    constructor: str  # attribute of keras.applications, or a key of bench.models.build.SMALL
    min_size: int  # smallest input side Keras accepts without the top
    preprocessing: str  # see bench.models.preprocess.MODES
    layers: int  # len(backbone.layers) as bench builds it: input and pooling layers included
    options: tuple[str, ...] = ("bn_momentum",)


BACKBONES = {
    info.name: info
    for info in (
        BackboneInfo("small_cnn", "small_cnn", 16, "unit", 15),
        BackboneInfo("small_resnet", "small_resnet", 16, "unit", 51, ("width", "bn_momentum")),
        BackboneInfo("johri_cnn", "johri_cnn", 46, "unit", 12, ()),
        BackboneInfo("vgg16", "VGG16", 32, "caffe", 20, ()),
        BackboneInfo("resnet50", "ResNet50", 32, "caffe", 176),
        BackboneInfo("resnet50v2", "ResNet50V2", 32, "tf", 191),
        BackboneInfo("xception", "Xception", 71, "tf", 133),
        BackboneInfo("mobilenetv2", "MobileNetV2", 32, "tf", 155, ("alpha", "bn_momentum")),
        BackboneInfo("inceptionv3", "InceptionV3", 75, "tf", 312),
        BackboneInfo("efficientnetb0", "EfficientNetB0", 32, "raw", 238),
        BackboneInfo("efficientnetb2", "EfficientNetB2", 32, "raw", 340),
        BackboneInfo("efficientnetv2b0", "EfficientNetV2B0", 32, "raw", 271),
    )
}

OPTIMIZERS = {
    "sgd": ("learning_rate", "momentum", "nesterov", "weight_decay"),
    "adam": ("learning_rate", "beta_1", "beta_2", "epsilon", "weight_decay"),
    "adagrad": ("learning_rate", "initial_accumulator_value", "epsilon", "weight_decay"),
    "rmsprop": ("learning_rate", "rho", "momentum", "epsilon", "weight_decay"),
}


def head_layers(head: HeadSpec) -> int:
    """Layers :func:`bench.models.build.build_model` puts after the backbone (always trained)."""
    dense = len(head.dense) * (2 if head.dropout else 1)  # each Dense with its Dropout
    lone_dropout = int(not head.dense and head.dropout > 0)
    return dense + lone_dropout + 1  # and the output layer


def backbone_info(name: str, *, key: str = "grid.backbone") -> BackboneInfo:
    """The registry entry for ``name``, or a ConfigError with a did-you-mean."""
    if name not in BACKBONES:
        raise ConfigError(
            f"'{key}' names unknown backbone '{name}'{suggest(name, BACKBONES)} "
            f"(known: {', '.join(BACKBONES)})"
        )
    return BACKBONES[name]


def check_backbone(name: str, *, image_size: int, options: dict) -> BackboneInfo:
    """Check the backbone exists, accepts ``image_size`` and knows its options."""
    info = backbone_info(name)
    if image_size < info.min_size:
        raise ConfigError(
            f"backbone '{name}' needs images of at least {info.min_size} px, but "
            f"suite.image_size = {image_size}; raise suite.image_size or pick another backbone"
        )
    for option in options:
        if option not in info.options:
            allowed = ", ".join(info.options) or "none"
            raise ConfigError(
                f"'backbones.{name}.{option}' is not an option of {name} (options: {allowed})"
            )
    return info


def check_optimizer(name: str, *, options: dict, key: str = "grid.optimizer") -> None:
    """Check the optimizer exists and that its ``[optimizers.NAME]`` keys apply to it."""
    if name not in OPTIMIZERS:
        raise ConfigError(
            f"'{key}' names unknown optimizer '{name}'{suggest(name, OPTIMIZERS)} "
            f"(known: {', '.join(OPTIMIZERS)})"
        )
    for option in options:
        if option not in OPTIMIZERS[name]:
            raise ConfigError(
                f"'optimizers.{name}.{option}' does not apply to {name} "
                f"(it takes: {', '.join(OPTIMIZERS[name])})"
            )
