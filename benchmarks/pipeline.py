"""Input pipeline alone (no model): augmented, preprocessed training batches per second.

Batches of 64 at 224 px, RGB, drawn by ``ShuffledBatches`` from a memory-mapped uint8
dataset file (as ``bench run`` reads one) with the dual-transfer paper's augmentation table
(Mukhlif et al. 2023, Table 2: rotation 10°, width and height shift 0.2, brightness
[0.1, 1.5], shear 0.2°, zoom 20%, both flips, nearest fill) and ResNet50's preprocessing,
through Keras's own PyDataset loader with 1 and 2 loader threads.

Per core is images per CPU-second of this process (CPU time, so other jobs on a shared
machine do not count against it); wall-clock images/s shows the 1 → 2 thread scaling.
Also times the resampling alone with OpenCV (chosen) and Pillow (constant fill only).

    python benchmarks/pipeline.py                  # 2 epochs over 1024 images
    python benchmarks/pipeline.py --images 4096 --epochs 3
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from functools import partial
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np

from bench.config.spec import AugmentSpec

PAPER = AugmentSpec(
    rotation=10,
    width_shift=0.2,
    height_shift=0.2,
    brightness=(0.1, 1.5),
    shear=0.2,
    zoom=0.2,
    horizontal_flip=True,
    vertical_flip=True,
    fill_mode="nearest",
)
SIDE, BATCH = 224, 64


def dataset(folder: Path, n: int) -> np.ndarray:
    """``n`` smooth random RGB images in a memory-mapped file, paged in once."""
    rng = np.random.default_rng(0)
    small = rng.integers(0, 255, (n, SIDE // 8, SIDE // 8, 3), dtype=np.uint8)
    images = np.memmap(folder / "images.u8", dtype=np.uint8, mode="w+", shape=(n, SIDE, SIDE, 3))
    images[:] = small.repeat(8, axis=1).repeat(8, axis=2)
    images.flush()
    return np.memmap(folder / "images.u8", dtype=np.uint8, mode="r", shape=images.shape)


def loader_rate(images: np.ndarray, *, workers: int, epochs: int) -> tuple[float, float]:
    """(images per wall second, images per CPU second) through Keras's PyDataset loader."""
    from keras.src.trainers.data_adapters.py_dataset_adapter import PyDatasetAdapter

    from bench.models.preprocess import preprocess
    from bench.train.batches import ShuffledBatches

    labels = np.arange(len(images)) % 2
    batches = ShuffledBatches(
        images,
        np.eye(2, dtype=np.float32)[labels],
        labels=labels,
        batch_size=BATCH,
        seed=0,
        prepare=partial(preprocess, mode="caffe"),
        augment=PAPER,
        workers=workers,
    )
    adapter = PyDatasetAdapter(batches, shuffle=False)
    wall, cpu, seen = time.perf_counter(), time.process_time(), 0
    for _ in range(epochs):
        adapter.on_epoch_begin()
        seen += sum(len(x) for x, _ in adapter.get_numpy_iterator())
        adapter.on_epoch_end()
    return seen / (time.perf_counter() - wall), seen / (time.process_time() - cpu)


def resampling_rates(images: np.ndarray) -> dict[str, float]:
    """Images per CPU second of the affine resampling alone, OpenCV vs Pillow."""
    import cv2
    import PIL
    from PIL import Image

    from bench.train.augment import _warp, affine_matrices

    x = np.array(images[:BATCH])
    matrices = affine_matrices(PAPER, np.random.default_rng(0), n=BATCH, height=SIDE, width=SIDE)

    def pillow():
        for image, m in zip(x, matrices):
            Image.fromarray(image).transform(
                (SIDE, SIDE), Image.AFFINE, m.ravel().tolist(), Image.BILINEAR
            )

    rates = {}
    for name, run in [
        (f"OpenCV {cv2.__version__} warpAffine", lambda: _warp(x, matrices, "nearest")),
        (f"Pillow {PIL.__version__} affine", pillow),
    ]:
        run()
        cpu = time.process_time()
        for _ in range(5):
            run()
        rates[name] = 5 * BATCH / (time.process_time() - cpu)
    return rates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=1024)
    parser.add_argument("--epochs", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-pipeline-") as folder:
        images = dataset(Path(folder), args.images)
        print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        for name, rate in resampling_rates(images).items():
            print(f"resampling alone, {name}: {rate:.0f} img per CPU-second")
        walls = {}
        for workers in (1, 2):
            walls[workers], per_cpu = loader_rate(images, workers=workers, epochs=args.epochs)
            print(
                f"{workers} loader thread(s): {walls[workers]:.0f} img/s wall, "
                f"{per_cpu:.0f} img per CPU-second (per core)"
            )
        print(f"1 -> 2 threads: {walls[2] / walls[1]:.2f}x wall (load {os.getloadavg()[0]:.1f})")


if __name__ == "__main__":
    main()
