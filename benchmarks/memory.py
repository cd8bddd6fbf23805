"""Memory per image of ``bench run``: peak resident memory at two dataset sizes, and the slope.

Writes two folders of synthetic JPEGs (two classes, speckled RGB, 160 px so every image is
resized), then trains each once with ``bench run`` in a fresh process and an empty image
cache (small CNN, scratch, Adam, 2 folds, 1 epoch, serial): peak RSS of that process from
``wait4``. The slope between the two sizes is what one more image costs, set against the
image's uint8 size at the model's input (side x side x 3 bytes); the goal is at most 2x.

With ``--workers-images N`` it also trains an N-image folder with ``--jobs 2`` and samples
every worker's private memory (USS, from ``/proc/PID/smaps_rollup``) and its proportional
share (PSS) during the run: the memory-mapped dataset file is shared, so it counts once.

    python benchmarks/memory.py                         # 400 and 2000 images at 128 px
    python benchmarks/memory.py --sizes 1000 5000 --workers-images 10000
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

SUITE = """
[suite]
name = "memory"
target = "target"
seed = 1
image_size = {size}
results = "{results}"

[datasets.target]
source = "folder:{folder}"

[base]
weights = "none"

[grid]
backbone = ["small_cnn"]
optimizer = ["adam"]
strategy = ["scratch"]

[train]
epochs = 1
batch_size = 32

[protocol]
folds = 2
"""


def write_folder(root: Path, images: int, *, side: int = 160, seed: int = 0) -> Path:
    """``images`` JPEGs in two class folders; a few distinct textures, jittered per image,
    so no two files are identical."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    bases = rng.integers(0, 255, (8, side, side, 3), dtype=np.uint8)
    for i in range(images):
        folder = root / ("benign" if i % 2 else "malignant")
        folder.mkdir(parents=True, exist_ok=True)
        noise = rng.integers(-20, 20, (side, side, 3))
        pixels = np.clip(bases[i % 8].astype(int) + noise, 0, 255).astype(np.uint8)
        Image.fromarray(pixels).save(folder / f"{i:06d}.jpg", quality=90)
    return root


def suite_for(folder: Path, work: Path, *, size: int) -> Path:
    path = work / "suite.toml"
    path.write_text(SUITE.format(size=size, results=work / "results", folder=folder))
    return path


def peak_rss(suite: Path, *args: str, cache: Path, watch=None) -> tuple[float, float]:
    """(peak RSS in MiB, wall seconds) of ``bench run SUITE ARGS`` in a fresh process."""
    env = {**os.environ, "BENCH_CACHE": str(cache), "TF_CPP_MIN_LOG_LEVEL": "3"}
    command = [sys.executable, "-m", "bench.cli", "run", str(suite), "--quiet", *args]
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
    watcher = threading.Thread(target=watch, args=(process.pid,), daemon=True) if watch else None
    if watcher:
        watcher.start()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        raise SystemExit(f"bench run failed with exit code {process.returncode}")
    return usage.ru_maxrss / 1024, time.perf_counter() - started


class WorkerMemory:
    """Largest USS and PSS seen per child process of a coordinator, sampled every 0.5 s."""

    def __init__(self):
        self.uss: dict[int, float] = {}
        self.pss: dict[int, float] = {}

    def __call__(self, coordinator: int) -> None:
        while Path(f"/proc/{coordinator}").exists():
            for pid in _children(coordinator):
                fields = _smaps_rollup(pid)
                if fields:
                    uss = fields.get("Private_Clean", 0) + fields.get("Private_Dirty", 0)
                    self.uss[pid] = max(self.uss.get(pid, 0), uss / 1024)
                    self.pss[pid] = max(self.pss.get(pid, 0), fields.get("Pss", 0) / 1024)
            time.sleep(0.5)


def _children(pid: int) -> list[int]:
    try:
        tasks = Path(f"/proc/{pid}/task").iterdir()
        found = [int(c) for t in tasks for c in (t / "children").read_text().split()]
    except OSError:
        return []
    return found + [g for c in found for g in _children(c)]


def _smaps_rollup(pid: int) -> dict[str, int]:
    """kB figures of /proc/PID/smaps_rollup (empty when the process is gone)."""
    try:
        lines = Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]
    except OSError:
        return {}
    return {line.split(":")[0]: int(line.split()[1]) for line in lines if line.endswith("kB")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs=2, default=(400, 2000), help="images")
    parser.add_argument("--image-size", type=int, default=128, help="model input side (128)")
    parser.add_argument("--workers-images", type=int, help="also: --jobs 2 on this many")
    args = parser.parse_args()
    side = args.image_size
    per_image = side * side * 3 / 2**20
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as root:
        peaks = {}
        for n in args.sizes:
            work = Path(root) / str(n)
            folder = write_folder(work / "images", n)
            peaks[n], wall = peak_rss(suite_for(folder, work, size=side), cache=work / "cache")
            print(f"{n} images at {side} px: peak RSS {peaks[n]:.0f} MiB ({wall:.0f} s)")
        small, large = args.sizes
        slope = (peaks[large] - peaks[small]) / (large - small)
        print(
            f"slope {slope * 1024:.1f} KiB per image = {slope / per_image:.2f}x its uint8 size "
            f"({per_image * 1024:.1f} KiB at {side} px); goal <= 2x"
        )
        if args.workers_images:
            _workers(Path(root) / "workers", args.workers_images, side=side)


def _workers(work: Path, n: int, *, side: int) -> None:
    folder = write_folder(work / "images", n)
    memory = WorkerMemory()
    suite = suite_for(folder, work, size=side)
    peak, wall = peak_rss(suite, "--jobs", "2", cache=work / "cache", watch=memory)
    data = n * side * side * 3 / 2**20
    print(f"{n} images at {side} px ({data:.0f} MiB of uint8), --jobs 2: {wall:.0f} s wall")
    for pid in sorted(memory.uss, key=memory.uss.get, reverse=True)[:2]:
        print(f"  worker {pid}: USS {memory.uss[pid]:.0f} MiB, PSS {memory.pss[pid]:.0f} MiB")
    print(f"  coordinator peak RSS {peak:.0f} MiB")


if __name__ == "__main__":
    main()
