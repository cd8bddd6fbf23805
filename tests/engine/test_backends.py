"""Keras backends: chosen before Keras starts, part of every job's identity, and torch
trains without TensorFlow installed."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import json
import sqlite3
import subprocess
import sys

import numpy as np
import pytest

from bench.backend import activate, check_precision, choose_backend
from bench.cli import main
from bench.config import load_suite
from bench.config.trainable import ALL
from bench.engine.plan import make_plan
from bench.errors import BenchError

TINY = """
[suite]
name = "tiny-backend"
target = "target"
seed = 3
image_size = 16
results = "{results}"
{extra}

[datasets.target]
source = "synthetic:ultrasound"
classes = ["benign", "malignant"]
samples_per_class = 12
images_per_patient = 2

[datasets.natural]
source = "synthetic:natural"
samples_per_class = 6

[base]
weights = "none"
pretrain = "natural"
epochs = 1

[grid]
backbone = ["small_cnn"]
optimizer = ["adam"]
strategy = ["scratch", "ctl"]

[augmentation]
rotation = 10
horizontal_flip = true
brightness = [0.8, 1.2]

[train]
epochs = 1
batch_size = 8

[protocol]
folds = 2
"""

# Run bench where `import tensorflow` fails, as on a machine that has only torch.
NO_TENSORFLOW = """
import sys
from importlib.abc import Loader, MetaPathFinder
from importlib.machinery import ModuleSpec

class Refuse(Loader):
    def create_module(self, spec):
        raise ImportError(f"No module named {spec.name!r} (blocked by the test)")

    def exec_module(self, module):
        pass

class NoTensorFlow(MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "tensorflow" or name.startswith("tensorflow."):
            return ModuleSpec(name, Refuse())
        return None

sys.meta_path.insert(0, NoTensorFlow())
from bench.cli import main
code = main(["run", sys.argv[1], "--backend", "torch", "--quiet"])
assert "tensorflow" not in sys.modules, "the torch path imported TensorFlow"
import numpy as np
from keras import ops
from bench.models.gradients import value_and_gradient
value, gradient = value_and_gradient(lambda t: ops.sum(t * t), np.array([1.0, 2.0], "float32"))
assert ops.convert_to_numpy(gradient).tolist() == [2.0, 4.0], gradient
sys.exit(code)
"""


def tiny_suite(tmp_path, extra: str = ""):
    path = tmp_path / "tiny.toml"
    path.write_text(TINY.format(results=tmp_path / "results", extra=extra))
    return path


@pytest.mark.skipif(
    importlib.util.find_spec("torch") is None,
    reason="torch is not installed (pip install torch==2.13.0; .ci/run installs it)",
)
def test_torch_backend_trains_a_suite_without_tensorflow(tmp_path):
    suite = tiny_suite(tmp_path)
    done = subprocess.run(
        [sys.executable, "-c", NO_TENSORFLOW, str(suite)],
        capture_output=True,
        text=True,
        timeout=600,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "BENCH_CACHE": str(tmp_path / "c")},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    store = sqlite3.connect(tmp_path / "results" / "tiny-backend" / "bench.sqlite")
    (provenance,) = store.execute("SELECT provenance FROM runs").fetchone()
    assert json.loads(provenance)["versions"]["backend"] == "torch"
    (folds,) = store.execute("SELECT COUNT(*) FROM fold_results").fetchone()
    assert folds == 4  # 2 cells x 2 folds


def test_backend_precedence_flag_then_suite_then_environment(monkeypatch):
    monkeypatch.setenv("KERAS_BACKEND", "jax")
    assert choose_backend("torch", "tensorflow") == "torch"
    assert choose_backend(None, "tensorflow") == "tensorflow"
    assert choose_backend(None, None) == "jax"
    monkeypatch.delenv("KERAS_BACKEND")
    assert choose_backend(None, None) == "tensorflow"


def test_backend_and_numerics_are_part_of_every_job_identity(tmp_path, monkeypatch):
    def hashes(backend="tensorflow", old="", new=""):
        monkeypatch.setenv("KERAS_BACKEND", backend)
        path = tiny_suite(tmp_path)
        path.write_text(path.read_text().replace(old, new))
        plan = make_plan(load_suite(path))
        return {job.hash for job in (*plan.stage_jobs, *plan.fold_jobs)}

    tensorflow = hashes()
    assert len(tensorflow) == 5  # one shared stage, 2 cells x 2 folds
    assert hashes() == tensorflow
    assert not tensorflow & hashes("torch")
    assert not tensorflow & hashes(
        old="batch_size = 8", new="batch_size = 8\nprecision = 'mixed_bfloat16'"
    )
    assert not tensorflow & hashes(old="folds = 2", new="folds = 2\ndeterministic = false")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--backend", "theano"], "unknown backend 'theano'; use one of tensorflow, torch, jax"),
        (["--backend", "nosuch"], "unknown backend 'nosuch'"),
    ],
)
def test_unknown_backend_is_one_line_and_exit_2(tmp_path, capsys, args, message):
    assert main(["validate", str(tiny_suite(tmp_path)), *args]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1


def test_missing_backend_names_the_install(monkeypatch):
    real = importlib.machinery.PathFinder.find_spec
    monkeypatch.setattr(
        importlib.machinery.PathFinder,
        "find_spec",
        lambda name, *a: None if name == "jax" else real(name, *a),
    )
    with pytest.raises(BenchError, match=r"backend 'jax' is not installed; install it \(pip"):
        activate("jax")


def test_precision_is_checked_against_the_machine():
    check_precision("mixed_bfloat16", backend="torch", has_gpu=False)
    check_precision("mixed_float16", backend="torch", has_gpu=True)
    with pytest.raises(BenchError, match="'mixed_float16' needs a GPU"):
        check_precision("mixed_float16", backend="tensorflow", has_gpu=False)


def test_bad_precision_and_backend_keys_name_the_key(tmp_path, capsys):
    bad = tiny_suite(tmp_path, 'backend = "caffe"')
    assert main(["validate", str(bad)]) == 2
    err = capsys.readouterr().err
    assert """'suite.backend' must be one of "tensorflow", "torch", "jax", got 'caffe'""" in err
    text = (
        bad.read_text()
        .replace('backend = "caffe"', "")
        .replace("batch_size = 8", 'batch_size = 8\nprecision = "float8"')
    )
    bad.write_text(text)
    assert main(["validate", str(bad)]) == 2
    err = capsys.readouterr().err
    assert """'train.precision' must be one of "float32", "mixed_float16", """ in err
    assert "got 'float8'" in err


def test_mixed_bfloat16_trains_with_a_float32_output_layer():
    import keras

    from bench.config.spec import HeadSpec
    from bench.train.fit import Arrays, FitSpec, ModelKey, ModelPool, fit_stage

    x = np.random.default_rng(0).integers(0, 255, (24, 16, 16, 1), dtype=np.uint8)
    y = np.arange(24) % 2
    key = ModelKey("small_cnn", (), 16, 2, HeadSpec(), ALL, "adam", (), "mixed_bfloat16")
    try:
        result = fit_stage(
            FitSpec(key, "none", 1e-2, 1.0, 2, 8, 5, 0),
            Arrays(x, y, np.arange(16), np.arange(16, 24)),
            pool=ModelPool(),
        )
    finally:
        keras.config.set_dtype_policy("float32")
    model = result.model
    assert model.get_layer("head_output").dtype_policy.name == "float32"
    convs = [v for v in model.get_layer("backbone").layers if "conv" in v.name]
    assert convs[0].compute_dtype == "bfloat16"
    assert np.isfinite(result.history["loss"]).all()


FIT_ON_TORCH = """
import sys
import numpy as np
from bench.config.spec import AugmentSpec, HeadSpec
from bench.config.trainable import ALL
from bench.train.fit import Arrays, FitSpec, ModelKey, ModelPool, fit_stage, predict_proba

x = np.random.default_rng(0).integers(0, 255, (24, 16, 16, 1), dtype=np.uint8)
key = ModelKey("small_cnn", (), 16, 2, HeadSpec(), ALL, "adam", ())
spec = FitSpec(key, "none", 1e-2, 1.0, 1, 8, 5, 0, augment=AugmentSpec(rotation=10))
rows = np.arange(24)
result = fit_stage(spec, Arrays(x, rows % 2, rows[:16], rows[16:]), pool=ModelPool())
predict_proba(result.model, x, rows=rows, preprocessing="unit")
assert "tensorflow" not in sys.modules, "training on torch imported TensorFlow"
"""


@pytest.mark.skipif(
    importlib.util.find_spec("torch") is None or importlib.util.find_spec("tensorflow") is None,
    reason="needs torch and TensorFlow both installed (pip install torch==2.13.0)",
)
def test_training_on_torch_leaves_an_installed_tensorflow_unimported():
    done = subprocess.run(
        [sys.executable, "-c", FIT_ON_TORCH],
        capture_output=True,
        text=True,
        timeout=600,
        env={"PATH": "/usr/bin:/bin", "KERAS_BACKEND": "torch"},
    )
    assert done.returncode == 0, done.stderr[-3000:]
