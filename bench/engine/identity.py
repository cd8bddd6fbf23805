"""What a job's output depends on, as named inputs; a job's hash is the hash of its inputs.

Inputs are named by the suite key they come from (``protocol.validation``) where there is
one, so a stored job's inputs can be compared with a planned job's and the first input
that changed named (:func:`first_difference`). Besides the settings a job reads, every job
depends on its environment: a fingerprint of bench's own training code, the versions of
the libraries that compute its numbers, and the threads it trains with (reduction order,
hence the last bits of every weight, depends on them).

Nothing here imports TensorFlow, Keras or the backend: versions come from package metadata.
"""

from __future__ import annotations

import hashlib
import os
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

from bench.hashing import content_hash

# Threads per job process when none are asked for: fixed, so a job's numbers do not depend
# on how many jobs run at once (serial, --jobs N and Dask agree bit for bit).
DEFAULT_THREADS = 1

# Libraries whose versions can change a trained model's numbers (the backend is added;
# OpenCV resamples augmented images; CUDA and cuDNN as pip installs them for a GPU, "absent"
# elsewhere — torch's own CUDA build is in its version string).
LIBRARIES = (
    "keras",
    "numpy",
    "scipy",
    "pillow",
    "opencv-python-headless",
    "scikit-learn",
    "nvidia-cuda-runtime-cu12",
    "nvidia-cudnn-cu12",
)

# bench's code that trains and scores a job, relative to the package: an edit of any of it
# invalidates stored jobs. The report, statistics and CLI are left out on purpose.
TRAINING_CODE = (
    "data",
    "models",
    "train",
    "config/strategies.toml",
    "config/trainable.py",
    "engine/jobs.py",
    "engine/tuning.py",
    "engine/artifacts.py",
    "hashing.py",
    "metrics.py",
)
PACKAGE = Path(__file__).resolve().parents[1]


def thread_env(threads: int) -> dict[str, str]:
    """Environment that fixes TensorFlow's and OpenMP's threads (read when they start)."""
    value = str(threads)
    return {
        "TF_NUM_INTRAOP_THREADS": value,
        "TF_NUM_INTEROP_THREADS": value,
        "OMP_NUM_THREADS": value,
    }


def backend() -> str:
    return os.environ.get("KERAS_BACKEND", "tensorflow")


def versions(name: str | None = None) -> dict[str, str]:
    """The backend (``name``, else the environment's) and the versions of bench, Keras, the
    backend and the numeric libraries."""
    from bench import __version__

    name = name or backend()
    libraries = {library: _version(library) for library in (*LIBRARIES, name)}
    return {"backend": name, "bench": __version__, **libraries}


def environment(*, threads: int, backend: str | None = None) -> dict[str, Any]:
    """The inputs every job shares: code, library versions (on ``backend``) and threads."""
    return {"code": code_fingerprint(), "versions": versions(backend), "threads": threads}


@cache
def code_fingerprint() -> str:
    """Content hash of :data:`TRAINING_CODE`: of its files' bytes, not their names, so moving
    or renaming a module leaves stored jobs valid while an edit of any line does not."""
    contents = sorted(hashlib.sha256(path.read_bytes()).hexdigest() for path in _training_files())
    return content_hash(contents)


def weights_identity(weights: str) -> str:
    """A backbone's starting weights: a keyword as is, a file by the digest of its content."""
    if weights in ("none", "imagenet"):
        return weights
    path = Path(weights)
    if not path.is_file():
        return weights  # the planner refuses missing files; the name is all there is
    return f"sha256:{_file_digest(str(path.resolve()), path.stat().st_mtime_ns)}"


def job_hash(inputs: dict[str, Any]) -> str:
    return content_hash(inputs)


def first_difference(old: dict[str, Any], new: dict[str, Any]) -> str | None:
    """``'protocol.validation 0.2 → 0.3'`` for the first input that differs, or None."""
    flat_old, flat_new = _flatten(old), _flatten(new)
    for key in sorted(set(flat_old) | set(flat_new), key=_order(flat_new)):
        before, after = flat_old.get(key, "(absent)"), flat_new.get(key, "(absent)")
        if before != after:
            return f"{key} {_short(before)} → {_short(after)}"
    return None


def _order(new: dict) -> Any:
    keys = list(new)
    return lambda key: (keys.index(key) if key in new else len(keys), key)


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Leaves by dotted path; lists holding records (e.g. the stages) by index too."""
    if isinstance(value, dict):
        flat = {}
        for key, item in value.items():
            flat.update(_flatten(item, f"{prefix}.{key}" if prefix else str(key)))
        return flat
    if isinstance(value, list) and any(isinstance(item, dict) for item in value):
        flat = {}
        for index, item in enumerate(value):
            flat.update(_flatten(item, f"{prefix}[{index}]"))
        return flat
    return {prefix: value}


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _training_files() -> list[Path]:
    files = []
    for name in TRAINING_CODE:
        path = PACKAGE / name
        if path.is_dir():
            files += [p for p in path.rglob("*") if p.suffix in (".py", ".toml") and p.is_file()]
        else:
            files.append(path)
    return sorted(files)


@cache
def _file_digest(path: str, mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:16]


@cache
def _version(name: str) -> str:
    for distribution in (name, f"{name}-cpu"):
        try:
            return metadata.version(distribution)
        except metadata.PackageNotFoundError:
            continue
    return "absent"
