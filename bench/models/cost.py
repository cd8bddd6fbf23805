"""What a trained model costs to use: parameters, FLOPs per image, inference latency.

Measured in the worker from the fold's model, so the report (which never imports Keras) can
show cost beside accuracy. FLOPs count one multiply and one add as two operations, at the
suite's input size, as TensorFlow's profiler counts them on the frozen inference graph (None
on another Keras backend). Latency is the median wall time of ``predict_on_batch`` — the
compiled inference path — per image at batch 1 and per image at batch 32, after warm-up
calls, on the device the model runs on.
"""

from __future__ import annotations

import time

import keras
import numpy as np

LATENCY_BATCHES = (1, 32)
_WARMUP = 2
_MIN_CALLS, _MIN_SECONDS = 5, 0.2


def model_cost(model: keras.Model, *, image_size: int) -> dict[str, float]:
    """Parameters, FLOPs per image and ms per image at each of :data:`LATENCY_BATCHES`."""
    device = inference_device()
    cost = {"params": float(model.count_params())}
    flops = flops_per_image(model, image_size=image_size)
    if flops is not None:
        cost["flops"] = float(flops)
    for batch in LATENCY_BATCHES:
        key = f"latency_{device}_b{batch}_ms"
        cost[key] = 1e3 * latency_seconds(model, image_size=image_size, batch=batch) / batch
    return cost


def inference_device() -> str:
    """ "gpu" when the backend sees one (Keras places the model there), else "cpu"."""
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        return "gpu" if tf.config.list_logical_devices("GPU") else "cpu"
    if keras.backend.backend() == "torch":
        import torch

        return "gpu" if torch.cuda.is_available() else "cpu"
    return "cpu"


def latency_seconds(model: keras.Model, *, image_size: int, batch: int) -> float:
    """Median seconds of one ``predict_on_batch`` call on ``batch`` images."""
    x = np.random.default_rng(0).uniform(0, 1, (batch, image_size, image_size, 3))
    x = x.astype(np.float32)
    for _ in range(_WARMUP):
        model.predict_on_batch(x)
    times, spent = [], 0.0
    while len(times) < _MIN_CALLS or spent < _MIN_SECONDS:
        start = time.perf_counter()
        model.predict_on_batch(x)
        times.append(time.perf_counter() - start)
        spent += times[-1]
    return float(np.median(times))


def flops_per_image(model: keras.Model, *, image_size: int) -> int | None:
    """Floating-point operations of one forward pass on one image (TensorFlow backend)."""
    if keras.backend.backend() != "tensorflow":
        return None
    import tensorflow as tf
    from tensorflow.python.framework.convert_to_constants import (
        convert_variables_to_constants_v2_as_graph,
    )
    from tensorflow.python.util import deprecation

    spec = tf.TensorSpec((1, image_size, image_size, 3), tf.float32)
    forward = tf.function(lambda x: model(x, training=False)).get_concrete_function(spec)
    frozen, _ = convert_variables_to_constants_v2_as_graph(forward)
    options = (
        tf.compat.v1.profiler.ProfileOptionBuilder(
            tf.compat.v1.profiler.ProfileOptionBuilder.float_operation()
        )
        .with_empty_output()
        .build()
    )
    with deprecation.silence():  # the v1 profiler is still how TensorFlow counts FLOPs
        profile = tf.compat.v1.profiler.profile(graph=frozen.graph, cmd="op", options=options)
    return int(profile.total_float_ops)
