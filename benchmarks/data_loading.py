"""Images per second loaded from files: cold (decode + resize) vs from the on-disk cache.

Writes a BUSI-sized folder dataset (ultrasound-like speckle, 500 x 450 px) as PNG and as
JPEG into a temporary folder, then loads each twice in this one process, as two runs
would: first with an empty cache, then with the in-process memo forgotten so only the
disk cache helps. Both loads include listing the files and hashing their content.

    python benchmarks/data_loading.py                # 300 images per format, 64 px
    python benchmarks/data_loading.py --images 1000 --image-size 128
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np


def write_dataset(root: Path, *, images: int, suffix: str, seed: int = 0) -> None:
    """Two class folders of speckled greyscale-looking RGB images, like BUSI's PNGs."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:450, 0:500]
    for i in range(images):
        cy, cx = rng.uniform(100, 350), rng.uniform(100, 400)
        lesion = np.exp(-((x - cx) ** 2 / 4000 + (y - cy) ** 2 / 2500))
        speckle = rng.rayleigh(40, (450, 500))
        grey = np.clip(120 - 90 * lesion + speckle - 50, 0, 255).astype(np.uint8)
        folder = root / ("benign" if i % 2 else "malignant")
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.repeat(grey[..., None], 3, axis=-1)).save(folder / f"{i}{suffix}")


def timed_load(source: str, *, image_size: int) -> tuple[float, int]:
    from bench.config.spec import DatasetSpec
    from bench.data import sources

    for memo in (sources._load, sources._fingerprint, sources._snapshot):
        memo.cache_clear()  # a new run: only the disk cache survives
    started = time.perf_counter()
    data = sources.load_dataset(DatasetSpec(name="bench", source=source), image_size=image_size)
    return time.perf_counter() - started, len(data.ids)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=300, help="images per format (300)")
    parser.add_argument("--image-size", type=int, default=64, help="side after resizing (64)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as root:
        os.environ["BENCH_CACHE"] = str(Path(root) / "cache")
        for suffix in (".png", ".jpg"):
            folder = Path(root) / suffix.strip(".")
            write_dataset(folder, images=args.images, suffix=suffix)
            megabytes = sum(p.stat().st_size for p in folder.rglob("*.*")) / 1e6
            cold, n = timed_load(f"folder:{folder}", image_size=args.image_size)
            warm, _ = timed_load(f"folder:{folder}", image_size=args.image_size)
            print(
                f"{suffix[1:]:>4}: {n} images 500x450 ({megabytes:.0f} MB) → {args.image_size} px: "
                f"cold {n / cold:7.0f} img/s, from cache {n / warm:7.0f} img/s "
                f"({cold / warm:.1f}x faster)"
            )
    print(f"cpu cores: {os.cpu_count()}")


if __name__ == "__main__":
    main()
