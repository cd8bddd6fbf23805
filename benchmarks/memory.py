"""Memory per image of ``bench run``: peak resident memory at two dataset sizes, and the slope.

Writes two folders of synthetic JPEGs (two classes, speckled RGB, 160 px so every image is
resized), then trains each once with ``bench run`` in a fresh process and an empty image
cache (small CNN, scratch, Adam, 2 folds, 1 epoch, serial): peak RSS of that process from
``wait4``. The slope between the two sizes is what one more image costs, set against the
image's uint8 size at the model's input (side x side x 3 bytes); the goal is at most 2x.

With ``--workers-images N [N ...]`` it instead trains each N-image folder with ``--jobs 2``
(local loky workers) and samples, once a second from ``/proc/PID/smaps``, the coordinator's
and every worker's private memory (USS: Private_Clean + Private_Dirty), the part of it
outside the memory-mapped image file, and that file's resident and shared pages; after the
run, the file's pages in the page cache (``fincore``): the one copy all processes share.
With two or more counts it fits the slope of the workers' own memory against the count.

    python benchmarks/memory.py                         # 400 and 2000 images at 128 px
    python benchmarks/memory.py --workers-images 40000  # 2 GB of uint8, 2 workers
    python benchmarks/memory.py --workers-images 10000 20000
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
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
    so no two files are identical. NumPy and ``cv2.imencode``: 40,000 files in about a minute."""
    import cv2

    rng = np.random.default_rng(seed)
    bases = rng.integers(20, 216, (8, side, side, 3), dtype=np.uint8)
    for name in ("benign", "malignant"):
        (root / name).mkdir(parents=True, exist_ok=True)
    for i in range(images):
        noise = rng.integers(0, 40, (side, side, 3), dtype=np.uint8)
        pixels = bases[i % 8] + noise - np.uint8(20)  # 0..254: no uint8 wrap-around
        _, encoded = cv2.imencode(".jpg", pixels, [cv2.IMWRITE_JPEG_QUALITY, 90])
        folder = root / ("benign" if i % 2 else "malignant")
        (folder / f"{i:06d}.jpg").write_bytes(encoded.tobytes())
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


MAPPING = re.compile(r"[0-9a-f]+-[0-9a-f]+ ")  # the first line of each mapping in smaps


@dataclass
class Footprint:
    """Peaks of one process over a run, MiB, from /proc/PID/smaps (each field's own peak).

    A page of a memory-mapped file that only this process has touched counts as private
    (Private_Clean) until another process maps it too, so the image file's pages are kept
    apart: ``uss`` is every private page, ``own`` those outside the image file (heap,
    libraries, models), ``image_rss`` the image file's resident pages in this process."""

    uss: float = 0.0
    own: float = 0.0
    image_rss: float = 0.0
    image_shared: float = 0.0

    def update(self, sample: dict[str, float]) -> None:
        for name, value in sample.items():
            setattr(self, name, max(getattr(self, name), value))


class ProcessMemory:
    """Peak footprint of a coordinator and each process under it, sampled every second."""

    def __init__(self, image_suffix: str = ".pixels"):
        self.image_suffix = image_suffix
        self.peaks: dict[int, Footprint] = {}
        self.roles: dict[int, str] = {}
        self.samples = 0

    def __call__(self, coordinator: int) -> None:
        self.roles[coordinator] = "coordinator"
        while Path(f"/proc/{coordinator}").exists():
            for pid in [coordinator, *_children(coordinator)]:
                self.roles.setdefault(pid, _role(pid))
                sample = _smaps(pid, self.image_suffix)
                if sample:
                    self.peaks.setdefault(pid, Footprint()).update(sample)
            self.samples += 1
            time.sleep(1.0)

    def of(self, role: str) -> list[tuple[int, Footprint]]:
        return [(pid, f) for pid, f in self.peaks.items() if self.roles.get(pid) == role]


def _role(pid: int) -> str:
    """``worker`` for a loky worker process (bench's local executor), else ``helper``."""
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return "gone"
    return "worker" if b"popen_loky_posix" in command else "helper"


def _children(pid: int) -> list[int]:
    try:
        tasks = Path(f"/proc/{pid}/task").iterdir()
        found = [int(c) for t in tasks for c in (t / "children").read_text().split()]
    except OSError:
        return []
    return found + [g for c in found for g in _children(c)]


def _smaps(pid: int, image_suffix: str) -> dict[str, float]:
    """MiB of private pages in all, private pages outside files ending in ``image_suffix``,
    and that file's resident and shared pages (empty when the process is gone)."""
    try:
        lines = Path(f"/proc/{pid}/smaps").read_text().splitlines()
    except OSError:
        return {}
    kib = {"uss": 0, "image_private": 0, "image_rss": 0, "image_shared": 0}
    in_image = False
    for line in lines:
        if MAPPING.match(line):
            in_image = line.rstrip().endswith(image_suffix)
            continue
        name, _, rest = line.partition(":")
        if not rest.endswith("kB"):
            continue
        value = int(rest.split()[0])
        if name in ("Private_Clean", "Private_Dirty"):
            kib["uss"] += value
            kib["image_private"] += value if in_image else 0
        elif in_image and name == "Rss":
            kib["image_rss"] += value
        elif in_image and name in ("Shared_Clean", "Shared_Dirty"):
            kib["image_shared"] += value
    return {
        "uss": kib["uss"] / 1024,
        "own": (kib["uss"] - kib["image_private"]) / 1024,
        "image_rss": kib["image_rss"] / 1024,
        "image_shared": kib["image_shared"] / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs=2, default=(400, 2000), help="images")
    parser.add_argument("--image-size", type=int, default=128, help="model input side (128)")
    parser.add_argument(
        "--workers-images", type=int, nargs="+", help="only: --jobs 2 on each of these counts"
    )
    args = parser.parse_args()
    side = args.image_size
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as root:
        if args.workers_images:
            own = {n: _workers(Path(root) / str(n), n, side=side) for n in args.workers_images}
            _slope(own, side=side)
        else:
            _serial(Path(root), args.sizes, side=side)


def _serial(root: Path, sizes: tuple[int, int], *, side: int) -> None:
    per_image = side * side * 3 / 2**20
    peaks = {}
    for n in sizes:
        work = root / str(n)
        folder = write_folder(work / "images", n)
        peaks[n], wall = peak_rss(suite_for(folder, work, size=side), cache=work / "cache")
        print(f"{n} images at {side} px: peak RSS {peaks[n]:.0f} MiB ({wall:.0f} s)")
    small, large = sizes
    slope = (peaks[large] - peaks[small]) / (large - small)
    print(
        f"slope {slope * 1024:.1f} KiB per image = {slope / per_image:.2f}x its uint8 size "
        f"({per_image * 1024:.1f} KiB at {side} px); goal <= 2x"
    )


def _workers(work: Path, n: int, *, side: int) -> float:
    """Train ``n`` images with ``--jobs 2``, print each process's peaks; the larger worker's
    peak USS outside the image file, MiB."""
    started = time.perf_counter()
    folder = write_folder(work / "images", n)
    print(f"{n} images written in {time.perf_counter() - started:.0f} s", flush=True)
    memory = ProcessMemory()
    suite = suite_for(folder, work, size=side)
    _, wall = peak_rss(suite, "--jobs", "2", cache=work / "cache", watch=memory)
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    data = n * side * side * 3 / 2**20
    print(f"{n} images at {side} px ({data:.0f} MiB of uint8), --jobs 2: {wall:.0f} s wall")
    print(f"  load average at the end {load}; {memory.samples} samples, one a second")
    for role in ("worker", "coordinator"):
        for pid, f in memory.of(role):
            print(
                f"  {role} {pid}: USS {f.uss:.0f} MiB, of which outside the image file "
                f"{f.own:.0f} MiB; image file resident {f.image_rss:.0f} MiB "
                f"({f.image_shared:.0f} MiB shared)"
            )
    for image_file in (work / "cache" / "datasets").glob("*.pixels"):
        cached = _page_cache_mib(image_file)
        print(
            f"  image file {image_file.stat().st_size / 2**20:.0f} MiB on disk, "
            f"{cached:.0f} MiB of it in the page cache after the run (counted once)"
        )
    workers = memory.of("worker")
    uss = max(f.uss for _, f in workers)
    verdict = "met" if uss < 2048 else "NOT met"
    print(f"  largest worker USS {uss:.0f} MiB: goal < 2048 MiB {verdict}", flush=True)
    return max(f.own for _, f in workers)


def _page_cache_mib(path: Path) -> float:
    """Resident page-cache MiB of a file (util-linux ``fincore``)."""
    done = subprocess.run(
        ["fincore", "--bytes", "--noheadings", "--output", "RES", str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(done.stdout.split()[0]) / 2**20


def _slope(own: dict[int, float], *, side: int) -> None:
    """Least-squares slope of the worker's own memory against the image count."""
    if len(own) < 2:
        return
    counts = sorted(own)
    slope = np.polyfit(counts, [own[n] for n in counts], 1)[0]
    uint8 = 1000 * side * side * 3 / 2**20
    print(
        f"worker USS outside the image file: {slope * 1000:+.1f} MiB per 1,000 images "
        f"(1,000 images are {uint8:.0f} MiB of uint8 at {side} px)"
    )


if __name__ == "__main__":
    main()
