"""Grad-CAM: the split model is exact, maps have the input's size and show structure."""

from __future__ import annotations

import numpy as np
import pytest
from keras import ops
from PIL import Image

from bench.cli import main
from bench.config.spec import HeadSpec
from bench.data.sources import load_dataset
from bench.models.build import build_model
from bench.report.write import write_report
from bench.serve.bundle import load_bundle
from bench.serve.gradcam import cam_model, examples_figure, gradcam, pick_examples


@pytest.fixture(scope="module")
def bundle(exported):
    return load_bundle(exported.fold_model)


@pytest.fixture(scope="module")
def target(exported):
    suite = exported.suite
    return load_dataset(suite.datasets[suite.target], image_size=suite.image_size)


@pytest.mark.parametrize(
    ("backbone", "size", "head"),
    [
        ("small_cnn", 16, HeadSpec(output="sigmoid")),
        ("mobilenetv2", 64, HeadSpec(dense=(8,), dropout=0.5)),
    ],
)
def test_split_model_gives_the_models_own_outputs(backbone, size, head):
    model = build_model(
        backbone,
        image_size=size,
        n_classes=2,
        head=head,
        options={"alpha": 0.35} if backbone == "mobilenetv2" else {},
    )
    x = np.random.default_rng(0).uniform(-1, 1, (3, size, size, 3)).astype("float32")
    cam = cam_model(model)
    assert len(cam.features.output.shape) == 4
    logits = cam.logits(cam.features(x))
    np.testing.assert_allclose(
        ops.convert_to_numpy(ops.softmax(logits))[:, 1],
        np.asarray(model(x, training=False))[:, -1],
        atol=1e-5,
    )


def test_maps_have_the_input_size_and_are_not_constant(bundle, target):
    images = target.images[:8]
    maps = gradcam(bundle, images)
    assert maps.shape == (8, 16, 16)
    assert maps.min() >= 0 and maps.max() <= 1
    assert all(np.ptp(m) > 0.1 for m in maps)
    other = gradcam(bundle, images, classes=1 - bundle.labels(bundle.predict_proba(images)))
    assert not np.allclose(maps, other)  # each class has its own evidence


def test_explain_writes_overlays(exported, tmp_path, capsys):
    files = sorted(exported.images.iterdir())[:3]
    out = tmp_path / "cams"
    assert main(["explain", str(exported.fold_model), *map(str, files), "--out", str(out)]) == 0
    written = sorted(out.iterdir())
    assert [p.name for p in written] == sorted(f"{f.stem}_gradcam.png" for f in files)
    with Image.open(written[0]) as image:
        assert image.size == (224, 224) and image.mode == "RGB"
    assert capsys.readouterr().out.count("wrote ") == 3
    assert main(["explain", str(exported.fold_model), str(files[0]), "--class", "cyst"]) == 2


def test_pick_examples_most_confident_first():
    y = np.array([0, 0, 0, 1, 1, 1])
    proba = np.array([[0.9, 0.1], [0.6, 0.4], [0.2, 0.8], [0.3, 0.7], [0.45, 0.55], [0.8, 0.2]])
    picked = pick_examples(y, proba, proba.argmax(axis=1), per_class=1)
    assert [(e.index, e.true, e.predicted, e.correct) for e in picked] == [
        (0, 0, 0, True),
        (2, 0, 1, False),
        (3, 1, 1, True),
        (5, 1, 0, False),
    ]
    assert picked[1].confidence == pytest.approx(0.8)


def test_examples_figure_has_a_row_per_class_and_outcome(bundle, target):
    figure = examples_figure(bundle, target.images, target.labels, per_class=2, names=target.ids)
    axes = figure.axes
    assert len(axes) == 2 * 2 * 2  # (benign, malignant) x (correct, wrong) x 2 per row
    labels = [ax.get_ylabel() for ax in axes[::2]]
    assert labels == ["benign\ncorrect", "benign\nwrong", "malignant\ncorrect", "malignant\nwrong"]


def test_examples_of_a_fold_model_go_into_the_report(exported, capsys):
    suite = exported.suite
    args = ["explain", str(exported.fold_model), "--examples", str(suite.path), "--per-class", "2"]
    assert main(args) == 0
    png = suite.reports_dir / "tiny" / "figures" / "examples.png"
    assert f"wrote {png}" in capsys.readouterr().out
    with Image.open(png) as image:
        pixels = np.asarray(image.convert("L"), dtype=float)
    assert image.size[0] > 200 and pixels.std() > 10  # drawn, not blank
    report = write_report(suite)[0].read_text()
    assert "## Examples with Grad-CAM" in report and "figures/examples.png" in report
    assert "outer fold r0 f1 of backbone=small_cnn|optimizer=adam|strategy=ctl" in report


def test_examples_need_a_fold_model(exported, capsys):
    model = exported.refit.directory
    assert main(["explain", str(model), "--examples", str(exported.suite.path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "bench export --fold" in err and "no test images" in err
