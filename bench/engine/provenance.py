"""Where a run happened: versions, hardware, git commit, command line."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from pathlib import Path

from bench.engine.plan import versions


def provenance(*, suite_path: Path, seed: int) -> dict:
    return {
        "versions": {**versions(), "python": platform.python_version()},
        "git_commit": git_commit(suite_path.resolve().parent),
        "hardware": hardware(),
        "seed": seed,
        "command": " ".join(sys.argv),
    }


def git_commit(directory: Path) -> str | None:
    """The commit of the repository holding the suite, with '+dirty' for local changes."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=directory,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain"],
            cwd=directory,
            capture_output=True,
            text=True,
            timeout=5,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return commit + ("+dirty" if dirty else "")


def hardware() -> dict:
    return {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu": _cpu_name(),
        "cpus": os.cpu_count(),
        "gpus": os.environ.get("CUDA_VISIBLE_DEVICES", ""),
    }


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()
