"""Helpers for benchmarks that time whole ``bench run`` invocations of a shipped suite."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def suite_copy(source: Path, results: Path, *, folds: int | None = None, optimizers=None) -> Path:
    """A copy of the suite whose results (and stage cache) live in ``results``, with fewer
    folds or optimizers when asked."""
    text = source.read_text().replace("[suite]\n", f"[suite]\nresults = '{results}'\n", 1)
    if folds:
        text = re.sub(r"(?m)^folds = \d+", f"folds = {folds}", text, count=1)
    if optimizers:
        listed = ", ".join(f'"{name}"' for name in optimizers)
        text = re.sub(r"(?m)^optimizer = \[.*\]", f"optimizer = [{listed}]", text, count=1)
    results.mkdir(parents=True, exist_ok=True)
    path = results / source.name
    path.write_text(text)
    return path


def timed_run(suite: Path, *args: str, env: dict | None = None) -> float:
    """Wall seconds of ``bench run SUITE ARGS`` in a fresh process (imports included)."""
    started, load = time.perf_counter(), os.getloadavg()[0]
    subprocess.run(
        [sys.executable, "-m", "bench.cli", "run", str(suite), "--quiet", *args],
        check=True,
        stdout=subprocess.DEVNULL,
        env={**os.environ, **(env or {})},
    )
    seconds = time.perf_counter() - started
    after = os.getloadavg()[0]
    print(f"bench run {' '.join(args)}: {seconds:.1f} s (load {load:.1f} → {after:.1f})")
    return seconds
