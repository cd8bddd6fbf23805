"""Harness overhead: one cell through ``bench`` vs a minimal hand-written Keras loop.

All train the same small CNN on the same synthetic ultrasound folds for the same number of
epochs (early stopping is disabled by a patience above the epoch count) and predict the
test folds. Two hand-written loops: a notebook's (a fresh model compiled per fold) and a
careful one that compiles once and resets weights and optimizer state per fold, as bench
does; bench / careful loop is the harness overhead (planning, batching, storing every
prediction). All run in this one process, so the ratios share the machine's load.

    python benchmarks/overhead.py            # prints the three wall times and the ratios
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

SUITE = """
[suite]
name = "overhead"
target = "ultrasound"
seed = 1
image_size = 32
results = "{root}/results"

[datasets.ultrasound]
source = "synthetic:ultrasound"
classes = ["benign", "malignant"]
samples_per_class = 150
images_per_patient = 3

[grid]
backbone = ["small_cnn"]
optimizer = ["adam"]
strategy = ["scratch"]

[train]
epochs = {epochs}
batch_size = 32
patience = 1000

[protocol]
folds = 5
"""


def hand_written(suite, epochs: int, *, reuse: bool) -> float:
    """A hand-written loop over the same folds; ``reuse`` compiles the model only once and
    resets its weights and optimizer state per fold."""
    import keras
    import numpy as np

    from bench.config.spec import HeadSpec
    from bench.data.sources import load_dataset
    from bench.data.splits import make_folds
    from bench.models.build import build_model
    from bench.models.preprocess import preprocess

    data = load_dataset(suite.datasets["ultrasound"], image_size=32)
    x, y = preprocess(data.images, "unit"), data.labels

    def compiled():
        model = build_model("small_cnn", image_size=32, n_classes=2, head=HeadSpec())
        model.compile(
            optimizer=keras.optimizers.Adam(1e-3),
            loss="sparse_categorical_crossentropy",
            jit_compile=False,
        )
        return model

    started = time.perf_counter()
    model = compiled() if reuse else None
    initial = model.get_weights() if reuse else None
    for fold in make_folds(y, data.groups, folds=5, repeats=1, validation=0.2, seed=suite.seed):
        if reuse:
            model.set_weights(initial)
            for variable in model.optimizer.variables:
                variable.assign(np.zeros(variable.shape, variable.dtype))
        else:
            model = compiled()
        model.fit(
            x[fold.train],
            y[fold.train],
            validation_data=(x[fold.val], y[fold.val]),
            epochs=epochs,
            batch_size=32,
            verbose=0,
        )
        np.asarray(model.predict(x[fold.test], verbose=0))
    return time.perf_counter() - started


def through_bench(suite) -> float:
    import shutil

    from bench.engine.coordinator import RunOptions, run_suite

    shutil.rmtree(suite.results_dir, ignore_errors=True)  # train everything again
    started = time.perf_counter()
    run_suite(suite, options=RunOptions(progress=False))
    return time.perf_counter() - started


def main(epochs: int = 15, rounds: int = 3) -> None:
    """Each contender runs ``rounds`` times, interleaved; the fastest round counts, so a
    burst of load on the machine or TensorFlow's start-up cost favours none of them."""
    from bench.config import load_suite

    times = {"fresh": [], "careful": [], "bench": []}
    with tempfile.TemporaryDirectory() as root:
        path = Path(root) / "overhead.toml"
        path.write_text(SUITE.format(root=root, epochs=epochs))
        suite = load_suite(path)
        for _ in range(rounds):
            times["fresh"].append(hand_written(suite, epochs, reuse=False))
            times["careful"].append(hand_written(suite, epochs, reuse=True))
            times["bench"].append(through_bench(suite))
    fresh, careful, harness = (min(times[k]) for k in ("fresh", "careful", "bench"))
    for label, key in [
        ("hand-written loop, fresh model per fold", "fresh"),
        ("hand-written loop, compiled once", "careful"),
        ("bench (plan, train, store)", "bench"),
    ]:
        rounds_text = ", ".join(f"{t:.1f}" for t in times[key])
        print(f"{label:<40} {min(times[key]):5.1f} s  (rounds: {rounds_text})")
    print(f"ratio bench / compiled-once loop: {harness / careful:.2f} (harness overhead)")
    print(f"ratio bench / fresh-model loop:   {harness / fresh:.2f}")


if __name__ == "__main__":
    main()
