"""Which Keras backend trains: TensorFlow, torch or JAX, chosen before Keras is imported.

Keras reads ``KERAS_BACKEND`` once, when it is first imported, so the choice is made at the
command line's boundary and put into the environment, where every worker process inherits
it and where :func:`bench.engine.plan.versions` reads it into every job's identity.
Precedence: ``--backend``, then the suite's ``[suite] backend``, then ``KERAS_BACKEND``,
then TensorFlow. Nothing here imports Keras or a backend.
"""

from __future__ import annotations

import importlib.machinery
import os
import sys
from typing import Literal, get_args

from bench.errors import BenchError

Backend = Literal["tensorflow", "torch", "jax"]  # each the name of its module
Precision = Literal["float32", "mixed_float16", "mixed_bfloat16"]
BACKENDS = {name: name for name in get_args(Backend)}  # name: module
DEFAULT = "tensorflow"
PRECISIONS: tuple[str, ...] = get_args(Precision)


def choose_backend(flag: str | None, suite_backend: str | None) -> str:
    """The backend a command uses (see the module docstring for the precedence)."""
    return flag or suite_backend or os.environ.get("KERAS_BACKEND") or DEFAULT


def activate(backend: str) -> str:
    """Check ``backend`` can run here and select it for Keras in this process and its
    workers; a :class:`BenchError` names the fix otherwise."""
    if backend not in BACKENDS:
        raise BenchError(f"unknown backend '{backend}'; use one of {', '.join(BACKENDS)}")
    # PathFinder, not importlib.util.find_spec: that would consume the finder that keeps
    # TensorFlow's import quiet (bench.quiet) without importing anything.
    if importlib.machinery.PathFinder.find_spec(BACKENDS[backend]) is None:
        raise BenchError(
            f"backend '{backend}' is not installed; install it (pip install "
            f"{_package(backend)}) or choose another with --backend"
        )
    loaded = sys.modules.get("keras")
    if loaded is not None and loaded.backend.backend() != backend:
        raise BenchError(
            f"Keras is already running on '{loaded.backend.backend()}' in this process; "
            f"start a new one with --backend {backend}"
        )
    os.environ["KERAS_BACKEND"] = backend
    return backend


def check_precision(precision: str, *, backend: str, has_gpu: bool) -> None:
    """Refuse a precision (one of :data:`PRECISIONS`, as the suite loader checks) this
    machine cannot train with: float16 needs a GPU (on a CPU every backend emulates it,
    many times slower than float32)."""
    if precision == "mixed_float16" and not has_gpu:
        raise BenchError(
            f"train.precision = 'mixed_float16' needs a GPU for {backend}, and nvidia-smi "
            "lists none here; use 'mixed_bfloat16' or 'float32' on a CPU"
        )


def _package(backend: str) -> str:
    return {"tensorflow": "tensorflow", "torch": "torch", "jax": "'jax[cpu]'"}[backend]
