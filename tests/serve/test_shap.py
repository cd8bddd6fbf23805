"""SHAP maps: shapes, attributions where the model looks, PNGs from the CLI, the examples
section, and one clear line when shap is missing."""

from __future__ import annotations

import sys
import threading
from dataclasses import dataclass

import numpy as np
import pytest
from PIL import Image

from bench.cli import main
from bench.report.write import write_report
from bench.serve.bundle import Bundle

pytest.importorskip("shap")

from bench.serve.shapley import shap_maps, shap_values


@dataclass
class _Meta:
    classes: tuple[str, ...] = ("dark", "bright")


class LeftHalf(Bundle):
    """A 'model' whose probability of "bright" depends only on the left half's mean."""

    def __init__(self):
        self.metadata, self.lock = _Meta(), threading.Lock()

    def predict_proba(self, images):
        left = np.asarray(images, dtype=np.float64)[:, :, :16].mean(axis=(1, 2, 3))
        p = 1 / (1 + np.exp(-(left - 128) / 16))
        return np.column_stack([1 - p, p])


def _pictures(n=3, size=32, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, size, size, 3)).astype(np.uint8)


def test_values_have_one_map_per_class_that_add_up_to_the_prediction():
    bundle, images = LeftHalf(), _pictures()
    values = shap_values(bundle, images, max_evals=200)
    assert values.shape == (3, 32, 32, 2)
    # efficiency: the attributions sum to f(image) - f(fully blurred image), per class
    from scipy import ndimage

    blurred = np.stack(
        [ndimage.uniform_filter(i.astype(np.float32), (5, 5, 1), mode="nearest") for i in images]
    )
    gap = bundle.predict_proba(images) - bundle.predict_proba(blurred)
    np.testing.assert_allclose(values.sum(axis=(1, 2)), gap, atol=0.05)


def test_attributions_concentrate_where_the_model_looks():
    values = shap_values(LeftHalf(), _pictures(seed=1), max_evals=300)
    magnitude = np.abs(values).sum(axis=-1)
    left = magnitude[:, :, :16].sum(axis=(1, 2)) / magnitude.sum(axis=(1, 2))
    assert (left > 0.95).all(), left


def test_maps_are_positive_evidence_scaled_per_image():
    bundle, images = LeftHalf(), _pictures(n=2)
    maps = shap_maps(bundle, images, classes=[1, 1], max_evals=200)
    assert maps.shape == (2, 32, 32) and maps.min() >= 0
    assert np.allclose(maps.max(axis=(1, 2)), 1) or (maps == 0).all(axis=(1, 2)).any()
    assert maps[:, :, 16:].max() < 0.05


def test_the_cli_writes_shap_overlays(exported, tmp_path, capsys):
    files = sorted(exported.images.iterdir())[:2]
    out = tmp_path / "shap"
    args = ["explain", str(exported.fold_model), *map(str, files), "--out", str(out)]
    assert main([*args, "--method", "shap"]) == 0
    written = sorted(out.glob("*_shap.png"))
    assert [p.name for p in written] == [f"{f.stem}_shap.png" for f in files]
    with Image.open(written[0]) as image:
        assert min(image.size) >= 224
    assert f"wrote {written[0]}" in capsys.readouterr().out


def test_examples_with_shap_go_into_the_report(exported, capsys):
    suite = exported.suite
    args = ["explain", str(exported.fold_model), "--examples", str(suite.path)]
    assert main([*args, "--per-class", "1", "--method", "shap"]) == 0
    report = write_report(suite)[0].read_text()
    assert "## Examples with SHAP" in report and "overlaid with the SHAP map" in report
    assert main([*args, "--per-class", "1"]) == 0  # the suite's [report] explain: Grad-CAM
    assert "## Examples with Grad-CAM" in write_report(suite)[0].read_text()


def test_without_shap_the_method_says_how_to_install_it(exported, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "shap", None)  # import shap raises ImportError
    file = next(iter(sorted(exported.images.iterdir())))
    code = main(["explain", str(exported.fold_model), str(file), "--method", "shap"])
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "pip install 'medbench[explain]'" in err[0]
