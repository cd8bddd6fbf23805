"""Stage artifacts on disk: one ``<job hash>.npz`` per trained stage, holding the backbone
weights and the stage's training history, written atomically.

A complete file is a trained stage whatever store recorded it, so any suite whose plan has
the same stage hash takes it instead of training again. This module needs only NumPy: the
coordinating process reads artifacts without importing TensorFlow.
"""

from __future__ import annotations

import io
import json
import os
import socket
import tempfile
import zipfile
from pathlib import Path

import numpy as np

_HISTORY = "history"  # the npz entry holding the history as JSON; weights are arr_0, arr_1...


def weights_file(directory: Path, job: str) -> Path:
    return Path(directory) / f"{job}.npz"


def write_artifact(directory: Path, job: str, data: bytes) -> Path:
    """Write a stage's file atomically: readers see no file or a complete one."""
    path = weights_file(directory, job)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=_writer_prefix(), suffix=".tmp")
    with os.fdopen(handle, "wb") as file:
        file.write(data)
    os.replace(tmp, path)
    return path


def remove_stray_files(directory: Path) -> list[Path]:
    """Remove temporary files of writes interrupted on this machine (their writer is gone)."""
    removed = []
    for path in Path(directory).glob(f".{socket.gethostname()}-*.tmp"):
        pid = path.name.split("-")[-2] if path.name.count("-") >= 2 else ""
        if pid.isdigit() and not _alive(int(pid)):
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def _writer_prefix() -> str:
    return f".{socket.gethostname()}-{os.getpid()}-"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def save_stage(
    directory: Path, job: str, weights: list[np.ndarray], history: dict[str, list[float]]
) -> Path:
    buffer = io.BytesIO()
    np.savez(buffer, *weights, **{_HISTORY: np.array(json.dumps(history))})
    return write_artifact(directory, job, buffer.getvalue())


def load_weights(directory: Path, job: str) -> list[np.ndarray]:
    with np.load(weights_file(directory, job)) as data:
        count = len(data.files) - (_HISTORY in data.files)
        return [data[f"arr_{i}"] for i in range(count)]


def load_history(directory: Path, job: str) -> dict[str, list[float]]:
    with np.load(weights_file(directory, job)) as data:
        return json.loads(str(data[_HISTORY])) if _HISTORY in data.files else {}


def is_complete(directory: Path, job: str) -> bool:
    """A finished artifact: present and a readable zip (a torn write is neither)."""
    path = weights_file(directory, job)
    return path.is_file() and zipfile.is_zipfile(path)
