"""A fixed reference workload, timed to express the suite's runtime in machine-free units.

The workload mirrors what a fold job does — build a small convolutional Keras model,
compile it, trace and fit it for a few epochs, predict — so it speeds up and slows down with
the same things (CPU speed, thread count, Python overhead, graph tracing). It is defined here
and not built from bench.models on purpose: a slower bench model must show up as a slower
suite, not as a slower calibration that hides it.
"""

from __future__ import annotations

import time

SIZE, SAMPLES, EPOCHS, BATCH = 32, 256, 3, 32


def calibration_seconds(*, repeats: int = 3) -> float:
    """CPU seconds one run of the reference workload takes here: the fastest of ``repeats``.

    The minimum is the least noisy estimate of a machine's speed (noise only adds time), and
    the first run also absorbs TensorFlow's one-off start-up, which later runs do not pay.
    """
    import keras
    import numpy as np

    rng = np.random.default_rng(0)
    x = rng.random((SAMPLES, SIZE, SIZE, 1), dtype=np.float32)
    y = rng.integers(0, 2, SAMPLES)
    return min(_timed(keras, x, y) for _ in range(repeats))


def _timed(keras, x, y) -> float:
    started = time.process_time()
    keras.utils.set_random_seed(0)
    model = _model(keras)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(x, y, batch_size=BATCH, epochs=EPOCHS, verbose=0)
    model.predict(x, batch_size=BATCH, verbose=0)
    elapsed = time.process_time() - started
    keras.backend.clear_session()
    return elapsed


def _model(keras):
    layers = keras.layers
    return keras.Sequential(
        [
            keras.Input((SIZE, SIZE, 1)),
            layers.Conv2D(16, 3, activation="relu"),
            layers.MaxPooling2D(),
            layers.Conv2D(32, 3, activation="relu"),
            layers.GlobalAveragePooling2D(),
            layers.Dense(32, activation="relu"),
            layers.Dense(2, activation="softmax"),
        ]
    )
