"""The report's examples section: a fold model's own test images, correctly and wrongly
classified per class, each with the Grad-CAM of its predicted class.

``bench explain MODEL --examples SUITE`` draws it into ``reports/<suite>/figures/`` with a
caption file; ``bench report`` then shows it. Only a model exported with ``--fold R:F`` has
test images it never saw: a refit model has trained on every labelled image.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from bench.config.spec import Suite
from bench.data.sources import load_dataset
from bench.errors import BenchError
from bench.report.figures import EXAMPLES
from bench.report.figures.canvas import save
from bench.report.target import target_from_suite
from bench.serve.bundle import Bundle
from bench.serve.export import stored_predictions
from bench.serve.gradcam import examples_figure

METHOD_NAMES = {"gradcam": "Grad-CAM", "shap": "SHAP"}


def write_examples(
    bundle: Bundle, suite: Suite, *, per_class: int = 3, method: str | None = None
) -> Path:
    """Draw the examples figure of ``bundle``'s test fold with ``method``'s maps (default:
    the suite's ``[report] explain``); return the PNG's path."""
    method = method or suite.report.explain
    meta, where = bundle.metadata, bundle.metadata.trained_on
    if where.get("data") != "fold":
        raise BenchError(
            f"{bundle.path}: examples need a model exported with `bench export --fold "
            "R:F`; this one was refit on every labelled image, so it has no test images"
        )
    if meta.suite_hash != suite.hash:
        raise BenchError(
            f"{suite.path}: the model comes from suite hash {meta.suite_hash}, this suite "
            f"has hash {suite.hash}; export the model again from this suite"
        )
    tested = stored_predictions(suite, where["job"])
    if not tested:
        raise BenchError(
            f"{suite.store_path}: no stored predictions for fold r{where['repeat']} "
            f"f{where['fold']}; run the suite first (`bench run {suite.path}`)"
        )
    target = load_dataset(suite.datasets[suite.target], image_size=suite.image_size)
    position = {sample: i for i, sample in enumerate(target.ids)}
    rows = np.array([position[sample] for sample in tested])
    images, labels, names = target.images[rows], target.labels[rows], target.ids[rows]
    figure = examples_figure(
        bundle, images, labels, per_class=per_class, names=names, method=method
    )
    directory = target_from_suite(suite).out_dir / "figures"
    png, _ = save(figure, directory, EXAMPLES)
    caption = (
        f"Test images of outer fold r{where['repeat']} f{where['fold']} of {meta.cell}, "
        f"correctly and wrongly classified per true class (up to {per_class} each, most "
        "confident first; title: predicted class and its probability), overlaid with the "
        f"{METHOD_NAMES[method]} map of the predicted class."
    )
    (directory / f"{EXAMPLES}.json").write_text(
        json.dumps({"caption": caption, "method": METHOD_NAMES[method]})
    )
    return png
