"""Seeds for reproducible training that do not throw away traced graphs.

``keras.utils.set_random_seed`` also calls ``tf.random.set_seed``, which makes TensorFlow
retrace every function (measured: +3 s per fit of MobileNetV2 at 32 px on 2 CPU cores).
So the backend seed is set once per process, and each fit seeds only Python, NumPy and
Keras's own generator, which drive weight initialisation and dropout. Batch order comes
from :class:`bench.train.batches.ShuffledBatches`, not from the backend.
"""

from __future__ import annotations

import os
import random

import keras
import numpy as np

_process_seeded = False


def seed_process(seed: int = 0, *, deterministic: bool = True) -> None:
    """Seed the backend once and, with ``deterministic``, make its kernels deterministic."""
    global _process_seeded
    if _process_seeded:
        return
    backend = keras.backend.backend()
    if backend == "tensorflow":
        keras.utils.set_random_seed(seed)
    else:  # Keras's setter would import TensorFlow just to seed it, wherever it is installed
        _seed_keras(seed)
    if backend == "torch":
        import torch

        torch.manual_seed(seed)
    if deterministic:
        deterministic_kernels(keras.backend.backend())
    _process_seeded = True


def deterministic_kernels(backend: str) -> None:
    """Deterministic kernels where the backend offers a switch: TensorFlow's op determinism;
    torch's deterministic algorithms, with the cuBLAS workspace setting they need on CUDA
    (read when cuBLAS starts, so before any GPU work). JAX on CPU is deterministic as it is;
    on GPUs it needs ``XLA_FLAGS=--xla_gpu_deterministic_ops=true`` before it starts."""
    if backend == "tensorflow":
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()
    elif backend == "torch":
        import torch

        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True)
        torch.backends.cudnn.benchmark = False


def seed_fit(seed: int) -> None:
    """Seed weight initialisation and dropout for one fit, leaving the backend seed alone."""
    seed_process()
    _seed_keras(seed)


def _seed_keras(seed: int) -> None:
    """Python's, NumPy's and Keras's own generators (the backend's are left alone)."""
    # Private Keras state: the public setter would also reseed the backend (see above).
    from keras.src.backend.common import global_state
    from keras.src.random import seed_generator
    from keras.src.utils import rng_utils

    random.seed(seed)
    np.random.seed(seed)
    global_state.set_global_attribute(rng_utils.GLOBAL_RANDOM_SEED, seed)
    global_state.set_global_attribute(seed_generator.GLOBAL_SEED_GENERATOR, None)


def bound_gpu_memory() -> None:
    """Hold this process to ``BENCH_GPU_MEMORY_FRACTION`` of its GPU where torch trains
    (set by the local executor when workers share a GPU; JAX and TensorFlow read their
    own variables, see ``bench.engine.executors.gpus``)."""
    fraction = os.environ.get("BENCH_GPU_MEMORY_FRACTION")
    if fraction and keras.backend.backend() == "torch":
        import torch

        if torch.cuda.is_available():
            torch.cuda.set_per_process_memory_fraction(float(fraction))
