"""Where a run happened: suite, command line, versions, git commit, hardware, executor.

Nothing here imports TensorFlow: versions are read from package metadata and GPUs from
``nvidia-smi``, so the coordinating process of a parallel run stays light.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path

from bench.engine.identity import versions

# Libraries whose versions can change numbers or behaviour, recorded beside the ones that
# enter every job hash.
PACKAGES = (
    "numpy",
    "scipy",
    "scikit-learn",
    "pandas",
    "optuna",
    "joblib",
    "dask",
    "distributed",
    "opencv-python-headless",  # resamples augmented images
)


@dataclass(frozen=True)
class Gpu:
    """A device a worker can be given: ``id`` is what CUDA_VISIBLE_DEVICES accepts."""

    id: str
    index: str = ""  # nvidia-smi's number, also accepted in CUDA_VISIBLE_DEVICES
    name: str = "unknown"
    memory_mib: int = 0


def provenance(
    *,
    suite_path: Path,
    seed: int,
    suite_hash: str | None = None,
    profile: str | None = None,
    executor: dict | None = None,
) -> dict:
    """The provenance record of a run, stored with it and printed in reports."""
    return {
        "suite_hash": suite_hash,
        "profile": profile,
        "command": " ".join(sys.argv),
        "versions": {**versions(), "python": platform.python_version(), **package_versions()},
        "git_commit": git_commit(suite_path.resolve().parent),
        "hardware": hardware(),
        "seed": seed,  # every job's seed derives from it (and the cell, repeat, fold)
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "executor": executor or {"name": "serial", "jobs": 1},
    }


def package_versions() -> dict[str, str]:
    """Installed versions of :data:`PACKAGES`, read without importing them."""
    found = {}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found


def git_commit(directory: Path) -> str | None:
    """The commit of the repository holding the suite, with '+dirty' for local changes."""
    try:
        commit = _git(directory, "rev-parse", "HEAD", check=True)
        dirty = _git(directory, "status", "--porcelain", check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return commit + ("+dirty" if dirty else "")


def _git(directory: Path, *args: str, check: bool) -> str:
    done = subprocess.run(
        ["git", *args], cwd=directory, capture_output=True, text=True, timeout=5, check=check
    )
    return done.stdout.strip()


def hardware() -> dict:
    return {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "host": platform.node(),
        "cpu": _cpu_name(),
        "cpus": os.cpu_count(),
        "memory_gib": _memory_gib(),
        "gpus": [asdict(gpu) for gpu in gpus()],
    }


def gpus() -> tuple[Gpu, ...]:
    """GPUs this process may use: nvidia-smi's list, narrowed by CUDA_VISIBLE_DEVICES.

    Devices are named by UUID, because CUDA numbers them fastest-first while nvidia-smi
    numbers them by PCI bus, so an index could pick another GPU than the one listed.
    """
    found = _nvidia_smi()
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is None:
        return found
    by_key = {key: gpu for gpu in found for key in (gpu.id, gpu.index)}
    wanted = [entry.strip() for entry in visible.split(",") if entry.strip()]
    if not wanted or wanted[0] == "-1":
        return ()
    return tuple(by_key.get(entry, Gpu(id=entry)) for entry in wanted)


def _nvidia_smi() -> tuple[Gpu, ...]:
    try:
        out = subprocess.run(
            [
                "nvidia-smi",
                "--query-gpu=index,uuid,name,memory.total",
                "--format=csv,noheader,nounits",
            ],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return ()
    rows = [[cell.strip() for cell in line.split(",")] for line in out.splitlines() if line]
    return tuple(_gpu_row(row) for row in rows if len(row) == 4)


def _gpu_row(row: list[str]) -> Gpu:
    index, uuid, name, memory = row
    return Gpu(id=uuid, index=index, name=name, memory_mib=_int(memory))


def _int(text: str) -> int:
    try:
        return int(float(text))
    except ValueError:
        return 0


def _memory_gib() -> float | None:
    try:
        pages, size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None
    return round(pages * size / 2**30, 1)


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()
