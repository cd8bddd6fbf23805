"""One prepared accelerator benchmark: bench vs raw Keras vs raw PyTorch, and the multistage
protocol at real scale. Prints one table.

(a) ResNet50 at 224 px on a folder of synthetic JPEGs: ``bench run`` (one cell, 2 folds,
    3 epochs; images/s from the stored fold-job durations: build, fit with validation,
    predict) against a hand-written Keras loop doing the same per fold on the same fold
    arrays, preprocessed into memory up front, on the same backend: the ratio (goal >= 0.9).
(b) Training throughput of Keras ``fit`` (epochs after the first) against a raw PyTorch
    loop over torchvision's ResNet50 at the same batch and precision: the ratio (goal >= 0.8);
    skipped, saying so, where torch or torchvision is absent.
(c) The multistage protocol (Kim et al.): EfficientNetB2, InceptionV3, ResNet50 x Adam x CTL
    and MSTL, 5 folds, 75 px, 780 synthetic ultrasound images and a 3-class synthetic cell
    set as the intermediate stage, with ``--jobs`` 2 and 4 on one GPU: wall time and mean
    GPU utilisation (nvidia-smi every second). Epochs are cut from the paper's 50 per stage.

    bash benchmarks/gpu.sh                  # on the GPU machine: install wheels, run at GPU sizes
    python benchmarks/gpu.py --cpu          # the same at CPU sizes (minutes on 2 cores)

CPU sizes (``CPU`` below) prove the path end to end, not the speed: 32 images at 64 px,
MobileNetV2 in place of ResNet50 in (a) and (b) and of the three backbones in (c), 2 folds,
1-2 epochs, ``--jobs 1``.

Every run is a fresh process with its own results folder and image cache; the backend is
torch unless ``--backend`` says otherwise (the lent GPU machine has no TensorFlow).
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from memory import write_folder


@dataclass(frozen=True)
class Sizes:
    images: int = 3072  # (a), (b)
    image_size: int = 224
    batch: int = 64
    epochs: int = 3
    target_per_class: int = 390  # (c): 780 target images
    cells_per_class: int = 200
    stage_epochs: int = 3  # (c): the paper trains 50 per stage
    folds: int = 5  # (c)
    backbone: str = "resnet50"  # (a), (b): a keras.applications model torchvision also has
    backbones: tuple[str, ...] = ("efficientnetb2", "inceptionv3", "resnet50")
    # (c) --jobs settings; 33 fits at --jobs 1 alone were estimated at 5-6 minutes on an
    # H200 (model builds dominate at 75 px), so it is left out to stay within 8 minutes
    jobs: tuple[int, ...] = (2, 4)


CPU = Sizes(
    images=32,
    image_size=64,
    batch=16,
    epochs=2,
    target_per_class=10,
    cells_per_class=5,
    stage_epochs=1,
    folds=2,
    backbone="mobilenetv2",  # ResNet50 folds took 430-470 s each on 2 shared cores
    backbones=("mobilenetv2",),  # the paper's three at 75 px: tens of minutes there
    jobs=(1,),  # a second worker on 2 shared cores measures the neighbours, not bench
)
PAPER_EPOCHS = 50
TORCHVISION = {"resnet50": "resnet50", "mobilenetv2": "mobilenet_v2"}  # (b)

THROUGHPUT_SUITE = """
[suite]
name = "gpu-a"
target = "target"
seed = 1
image_size = {size}
results = "{results}"

[datasets.target]
source = "folder:{folder}"

[base]
weights = "none"

[grid]
backbone = ["{backbone}"]
optimizer = ["adam"]
strategy = ["scratch"]

[train]
epochs = {epochs}
batch_size = {batch}
patience = 1000
precision = "{precision}"

[protocol]
folds = 2
"""

MULTISTAGE_SUITE = """
[suite]
name = "gpu-c"
target = "ultrasound"
intermediate = "cells"
seed = 2
image_size = 75
results = "{results}"

[datasets.ultrasound]
source = "synthetic:ultrasound"
classes = ["benign", "malignant"]
samples_per_class = {target}
images_per_patient = 2

[datasets.cells]
source = "synthetic:cells"
samples_per_class = {cells}

[base]
weights = "none"

[grid]
backbone = [{backbones}]
optimizer = ["adam"]
strategy = ["ctl", "mstl"]

[train]
epochs = {epochs}
batch_size = 16
learning_rate = 1e-3
lr_decay = 0.96
patience = 8
precision = "{precision}"

[protocol]
folds = {folds}
"""


def bench_run(suite: Path, *args: str, backend: str, work: Path) -> float:
    """Wall seconds of ``bench run`` in a fresh process with its own image cache."""
    env = {**os.environ, "BENCH_CACHE": str(work / "cache"), "TF_CPP_MIN_LOG_LEVEL": "3"}
    started = time.perf_counter()
    command = [sys.executable, "-m", "bench.cli", "run", str(suite), "--quiet"]
    subprocess.run(
        [*command, "--backend", backend, *args], check=True, env=env, stdout=subprocess.DEVNULL
    )
    return time.perf_counter() - started


def stored_throughput(store: Path, epochs: int) -> tuple[float, float]:
    """(images trained per second of fold-job time, fold-job seconds) from a results store."""
    with sqlite3.connect(store) as db:
        rows = db.execute(
            "SELECT f.n_train - f.n_val, j.duration FROM fold_results f "
            "JOIN jobs j ON j.hash = f.job"
        ).fetchall()
    trained = sum(n for n, _ in rows) * epochs
    seconds = sum(d for _, d in rows)
    return trained / seconds, seconds


def part_a(sizes: Sizes, *, backend: str, precision: str, work: Path) -> dict:
    folder = write_folder(work / "images", sizes.images, side=sizes.image_size + 32)
    suite = work / "a.toml"
    suite.write_text(
        THROUGHPUT_SUITE.format(
            size=sizes.image_size,
            results=work / "results",
            folder=folder,
            backbone=sizes.backbone,
            epochs=sizes.epochs,
            batch=sizes.batch,
            precision=precision,
        )
    )
    bench_run(suite, backend=backend, work=work)
    bench_rate, _ = stored_throughput(work / "results" / "gpu-a" / "bench.sqlite", sizes.epochs)
    raw = _in_fresh_process("raw_keras", suite, sizes, backend=backend, work=work)
    return {"bench": bench_rate, **raw}


def raw_keras(suite_path: str, sizes: Sizes) -> dict:
    """In a fresh process: per fold, build, compile, fit (with validation), predict, the
    way a careful notebook does it, on the same folds and pixels bench used."""
    import keras
    import numpy as np

    from bench.config import load_suite
    from bench.data.sources import load_dataset
    from bench.engine.plan import make_plan
    from bench.models.preprocess import preprocess
    from bench.models.registry import backbone_info

    suite = load_suite(Path(suite_path))
    keras.config.set_dtype_policy(suite.train.precision)
    data = load_dataset(suite.datasets["target"], image_size=sizes.image_size)
    info = backbone_info(sizes.backbone)
    x = preprocess(np.asarray(data.images), info.preprocessing)  # all in memory, as notebooks do
    y = keras.utils.to_categorical(data.labels, 2)
    trained, seconds, fit_rate = 0, 0.0, []
    for job in make_plan(suite).fold_jobs:
        fold = job.fold
        started = time.perf_counter()
        model = _keras_classifier(info.constructor, sizes.image_size)
        model.compile(optimizer="adam", loss="categorical_crossentropy", jit_compile=False)
        timer = _epoch_timer()
        model.fit(
            x[fold.train],
            y[fold.train],
            batch_size=sizes.batch,
            epochs=sizes.epochs,
            validation_data=(x[fold.val], y[fold.val]),
            verbose=0,
            callbacks=[timer],
        )
        model.predict(x[fold.test], batch_size=sizes.batch, verbose=0)
        seconds += time.perf_counter() - started
        trained += len(fold.train) * sizes.epochs
        fit_rate.append(len(fold.train) / np.mean(timer.seconds[1:] or timer.seconds))
    return {"raw_keras": trained / seconds, "keras_fit": float(np.mean(fit_rate))}


def _epoch_timer():
    """A Keras callback recording each epoch's seconds (the first includes tracing)."""
    import keras

    class EpochTimer(keras.callbacks.Callback):
        seconds: list

        def on_train_begin(self, logs=None):
            self.seconds = []

        def on_epoch_begin(self, epoch, logs=None):
            self._started = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.seconds.append(time.perf_counter() - self._started)

    return EpochTimer()


def _keras_classifier(constructor: str, size: int):
    import keras

    base = getattr(keras.applications, constructor)(
        weights=None, include_top=False, pooling="avg", input_shape=(size, size, 3)
    )
    outputs = keras.layers.Dense(2, activation="softmax", dtype="float32")(base.output)
    return keras.Model(base.input, outputs)


def raw_torch(suite_path: str, sizes: Sizes) -> dict:
    """In a fresh process: torchvision's model of the same name (ResNet50, MobileNetV2)
    trained by a plain loop on fold 0's training images, images/s over the epochs after the
    first."""
    import numpy as np
    import torch
    import torchvision

    from bench.config import load_suite
    from bench.data.sources import load_dataset
    from bench.engine.plan import make_plan
    from bench.models.preprocess import preprocess
    from bench.models.registry import backbone_info

    suite = load_suite(Path(suite_path))
    fold = make_plan(suite).fold_jobs[0].fold
    data = load_dataset(suite.datasets["target"], image_size=sizes.image_size)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    mode = backbone_info(sizes.backbone).preprocessing
    x = torch.from_numpy(preprocess(np.asarray(data.images[fold.train]), mode).copy())
    x = x.permute(0, 3, 1, 2).contiguous()
    y = torch.from_numpy(data.labels[fold.train])
    model = getattr(torchvision.models, TORCHVISION[sizes.backbone])(num_classes=2).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    dtype = {"mixed_float16": torch.float16, "mixed_bfloat16": torch.bfloat16}.get(
        suite.train.precision
    )
    seconds = []
    for _ in range(sizes.epochs):
        started = time.perf_counter()
        for i in range(0, len(x), sizes.batch):
            xb, yb = x[i : i + sizes.batch].to(device), y[i : i + sizes.batch].to(device)
            with torch.autocast(device, dtype=dtype, enabled=dtype is not None):
                loss = torch.nn.functional.cross_entropy(model(xb), yb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        if device == "cuda":
            torch.cuda.synchronize()
        seconds.append(time.perf_counter() - started)
    return {"raw_torch": len(x) / float(np.mean(seconds[1:] or seconds))}


def part_b(sizes: Sizes, *, backend: str, work: Path) -> dict:
    import importlib.util

    missing = [m for m in ("torch", "torchvision") if importlib.util.find_spec(m) is None]
    if missing:
        return {"raw_torch_skipped": f"{' and '.join(missing)} not installed"}
    return _in_fresh_process("raw_torch", work / "a.toml", sizes, backend=backend, work=work)


def part_c(sizes: Sizes, *, backend: str, precision: str, work: Path) -> dict:
    out = {}
    for jobs in sizes.jobs:
        folder = work / f"jobs{jobs}"
        folder.mkdir(parents=True)
        suite = folder / "c.toml"
        suite.write_text(
            MULTISTAGE_SUITE.format(
                results=folder / "results",
                target=sizes.target_per_class,
                cells=sizes.cells_per_class,
                backbones=", ".join(f'"{b}"' for b in sizes.backbones),
                epochs=sizes.stage_epochs,
                precision=precision,
                folds=sizes.folds,
            )
        )
        monitor = GpuMonitor()
        monitor.start()
        wall = bench_run(suite, "--jobs", str(jobs), backend=backend, work=folder)
        out[jobs] = {"wall_s": wall, **monitor.stop()}
    return out


class GpuMonitor(threading.Thread):
    """Mean GPU utilisation and peak memory from nvidia-smi, sampled every second."""

    def __init__(self):
        super().__init__(daemon=True)
        self.samples: list[tuple[float, float]] = []
        self.running = True

    def run(self):
        while self.running:
            try:
                line = subprocess.run(
                    [
                        "nvidia-smi",
                        "--query-gpu=utilization.gpu,memory.used",
                        "--format=csv,noheader,nounits",
                    ],
                    capture_output=True,
                    text=True,
                    timeout=5,
                    check=True,
                ).stdout.splitlines()[0]
                util, memory = (float(v) for v in line.split(","))
                self.samples.append((util, memory))
            except (OSError, subprocess.SubprocessError, ValueError, IndexError):
                return
            time.sleep(1.0)

    def stop(self) -> dict:
        self.running = False
        self.join(timeout=10)
        if not self.samples:
            return {"gpu_util": None, "gpu_mib": None}
        utils, memory = zip(*self.samples)
        return {"gpu_util": sum(utils) / len(utils), "gpu_mib": max(memory)}


def _in_fresh_process(function: str, suite: Path, sizes: Sizes, *, backend: str, work: Path):
    env = {
        **os.environ,
        "KERAS_BACKEND": backend,
        "BENCH_CACHE": str(work / "cache"),
        "TF_CPP_MIN_LOG_LEVEL": "3",
    }
    done = subprocess.run(
        [sys.executable, __file__, "--child", function, str(suite), json.dumps(asdict(sizes))],
        check=True,
        env=env,
        capture_output=True,
        text=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def table(sizes: Sizes, a: dict, b: dict, c: dict, *, backend: str, precision: str) -> str:
    rows = [
        f"| (a) bench, {sizes.backbone} {sizes.image_size} px, {sizes.images} images, "
        f"2 folds x {sizes.epochs} epochs | "
        f"{a['bench']:.2f} img/s | |",
        f"| (a) raw Keras loop, same folds and arrays | {a['raw_keras']:.2f} img/s | "
        f"bench / raw = **{a['bench'] / a['raw_keras']:.2f}** (goal >= 0.9) |",
        f"| (b) Keras fit on {backend}, epochs after the first | {a['keras_fit']:.2f} img/s | |",
    ]
    if "raw_torch" in b:
        ratio = a["keras_fit"] / b["raw_torch"]
        rows.append(
            f"| (b) raw PyTorch loop, torchvision {TORCHVISION[sizes.backbone]} | "
            f"{b['raw_torch']:.2f} img/s | "
            f"Keras / raw torch = **{ratio:.2f}** (goal >= 0.8) |"
        )
    else:
        rows.append(f"| (b) raw PyTorch loop | skipped: {b['raw_torch_skipped']} | |")
    cut = PAPER_EPOCHS / sizes.stage_epochs
    best = min(c, key=lambda jobs: c[jobs]["wall_s"])
    for jobs, result in c.items():
        util = "n/a (no GPU)" if result["gpu_util"] is None else f"{result['gpu_util']:.0f}% util"
        memory = "" if result["gpu_mib"] is None else f", peak {result['gpu_mib']:.0f} MiB"
        note = " (best)" if jobs == best else ""
        rows.append(
            f"| (c) multistage, {len(sizes.backbones)} backbone(s) x CTL/MSTL "
            f"x {sizes.folds} folds, "
            f"{sizes.stage_epochs} epochs/stage ({cut:.0f}x fewer than 50), --jobs {jobs} | "
            f"{result['wall_s']:.0f} s | {util}{memory}{note} |"
        )
    head = f"backend {backend}, precision {precision}, {_device()}"
    return "\n".join([head, "", "| measurement | figure | note |", "|---|---|---|", *rows])


def _device() -> str:
    try:
        name = subprocess.run(
            ["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.splitlines()[0]
        return f"GPU {name}"
    except (OSError, subprocess.SubprocessError, IndexError):
        return f"CPU only, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cpu", action="store_true", help="CPU sizes (see CPU in the source)")
    parser.add_argument("--backend", default="torch", choices=["torch", "jax", "tensorflow"])
    parser.add_argument("--precision", default="float32")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        function, suite, sizes = args.child
        sizes = Sizes(
            **{k: tuple(v) if isinstance(v, list) else v for k, v in json.loads(sizes).items()}
        )
        print(json.dumps(globals()[function](suite, sizes)))
        return
    sizes = CPU if args.cpu else Sizes()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-gpu-") as root:
        kwargs = {"backend": args.backend, "work": Path(root) / "a"}
        a = part_a(sizes, precision=args.precision, **kwargs)
        b = part_b(sizes, **kwargs)
        c = part_c(sizes, backend=args.backend, precision=args.precision, work=Path(root) / "c")
    print(table(sizes, a, b, c, backend=args.backend, precision=args.precision))
    print(f"\n{time.perf_counter() - started:.0f} s in all")


if __name__ == "__main__":
    main()
