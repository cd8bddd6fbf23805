"""Harness overhead: one cell through ``bench`` vs a minimal hand-written Keras loop.

All train the same small CNN on the same synthetic ultrasound folds for the same number of
epochs (early stopping is disabled by a patience above the epoch count) and predict the
test folds. Two hand-written loops: a notebook's (a fresh model compiled per fold) and a
careful one that compiles once and resets weights and optimizer state per fold, as bench
does; bench / careful loop is the harness overhead (planning, batching, storing every
prediction). All run in this one process, so the ratios share the machine's load.

    python benchmarks/overhead.py            # prints both wall times and the ratio
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
    """A hand-written loop over the same folds; ``reuse`` compiles the model only once."""
    import keras
    import numpy as np

    from bench.config.spec import HeadSpec
    from bench.data.sources import load_dataset
    from bench.data.splits import make_folds
    from bench.models.build import build_model
    from bench.models.preprocess import preprocess

    data = load_dataset(suite.datasets["ultrasound"], image_size=32)
    x, y = preprocess(data.images, "unit"), data.labels
    started = time.perf_counter()
    for fold in make_folds(y, data.groups, folds=5, repeats=1, validation=0.2, seed=suite.seed):
        model = build_model("small_cnn", image_size=32, n_classes=2, head=HeadSpec())
        model.compile(
            optimizer=keras.optimizers.Adam(1e-3),
            loss="sparse_categorical_crossentropy",
            jit_compile=False,
        )
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
    from bench.engine.runner import RunOptions, run_suite

    started = time.perf_counter()
    run_suite(suite, options=RunOptions(progress=False))
    return time.perf_counter() - started


def main(epochs: int = 15) -> None:
    from bench.config import load_suite

    with tempfile.TemporaryDirectory() as root:
        path = Path(root) / "overhead.toml"
        path.write_text(SUITE.format(root=root, epochs=epochs))
        suite = load_suite(path)
        notebook = hand_written(suite, epochs, reuse=False)
        careful = hand_written(suite, epochs, reuse=True)
        harness = through_bench(suite)
    print(f"hand-written loop, fresh model per fold: {notebook:.1f} s")
    print(f"hand-written loop, compiled once:        {careful:.1f} s")
    print(f"bench (plan, train, store):              {harness:.1f} s")
    print(f"ratio bench / compiled-once loop: {harness / careful:.2f} (harness overhead)")
    print(f"ratio bench / fresh-model loop:   {harness / notebook:.2f}")


if __name__ == "__main__":
    main()
