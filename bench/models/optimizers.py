"""Keras optimizers by name, with the options a suite may set."""

from __future__ import annotations

import keras

from bench.models.registry import check_optimizer

CLASSES = {
    "sgd": keras.optimizers.SGD,
    "adam": keras.optimizers.Adam,
    "adagrad": keras.optimizers.Adagrad,
    "rmsprop": keras.optimizers.RMSprop,
}


def build_optimizer(name: str, *, learning_rate: float, options: dict) -> keras.Optimizer:
    """A fresh optimizer; the learning rate is a variable so schedules can set it per epoch."""
    check_optimizer(name, options=options)
    kwargs = {k: v for k, v in options.items() if k != "learning_rate"}
    return CLASSES[name](learning_rate=learning_rate, **kwargs)
