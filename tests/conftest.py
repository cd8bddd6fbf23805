"""Shared fixtures: throwaway suites built from a few TOML strings on tiny synthetic data."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# Tests train in this process as a serial `bench run` does: with the default thread count,
# which must be set before TensorFlow is imported.
from bench.engine.identity import DEFAULT_THREADS, thread_env

os.environ.update(thread_env(DEFAULT_THREADS))

TINY_SUITE = """
[suite]
name = "tiny"
target = "target"
seed = 7
image_size = 16
results = "{root}/results"
reports = "{root}/reports"

[datasets.target]
source = "synthetic:ultrasound"
classes = ["benign", "malignant"]
samples_per_class = 12
images_per_patient = 2
difficulty = 0.2

[datasets.natural]
source = "synthetic:natural"
samples_per_class = 8

[base]
pretrain = "natural"
epochs = 1

[grid]
backbone = ["small_cnn"]
optimizer = ["adam", "sgd"]
strategy = ["scratch", "ctl"]

[train]
epochs = 2
batch_size = 8
patience = 2

[protocol]
folds = 3
validation = 0.25
"""


@pytest.fixture
def write_suite(tmp_path: Path):
    """Write a suite file; ``extra`` TOML is appended, ``replace`` edits the base text."""

    def write(
        extra: str = "", *, replace: dict[str, str] | None = None, name: str = "tiny.toml"
    ) -> Path:
        text = TINY_SUITE.format(root=tmp_path)
        for old, new in (replace or {}).items():
            assert old in text, old
            text = text.replace(old, new)
        path = tmp_path / name
        path.write_text(text + textwrap.dedent(extra))
        return path

    return write
