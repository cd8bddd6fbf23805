"""One gradient helper behind the three Keras backends (Keras 3 has no portable autodiff).

Grad-CAM needs ∂(class score)/∂(feature maps) for a model split in two; this gives the
value and gradient of any scalar function of one tensor with TensorFlow's GradientTape,
torch's autograd or ``jax.value_and_grad``, whichever backend Keras runs on.
"""

from __future__ import annotations

from collections.abc import Callable

import keras


def value_and_gradient(fn: Callable, x):
    """``fn(x)`` (a scalar tensor) and its gradient with respect to ``x``."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        x = tf.convert_to_tensor(x)
        with tf.GradientTape() as tape:
            tape.watch(x)
            value = fn(x)
        return value, tape.gradient(value, x)
    if backend == "torch":
        import torch

        x = keras.ops.convert_to_tensor(x).detach().requires_grad_(True)
        value = fn(x)
        (gradient,) = torch.autograd.grad(value, x)
        return value, gradient
    if backend == "jax":
        import jax

        return jax.value_and_grad(fn)(keras.ops.convert_to_tensor(x))
    raise ValueError(f"no gradients for Keras backend {backend!r}")
