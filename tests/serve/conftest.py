"""A tiny suite run once per session, its fold model and refit model exported, and the fold's
test images written as PNG files: what the serve tests predict, serve and explain."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from bench.cli import main
from bench.config import load_suite
from bench.config.spec import Suite
from bench.data.sources import load_dataset
from bench.engine.coordinator import RunOptions, run_suite
from bench.engine.plan import FoldJob, make_plan
from bench.serve.export import ExportRequest, ExportResult, export_model
from tests.conftest import TINY_SUITE

CTL = "backbone=small_cnn|optimizer=adam|strategy=ctl"


@dataclass(frozen=True)
class Exported:
    suite: Suite
    fold_job: FoldJob  # the fold exported with --fold 0:1
    fold_model: Path  # its export folder
    refit: ExportResult  # the best-AUC cell refit on all labelled data
    images: Path  # PNG files of fold 0:1's test images, named by sample id


@pytest.fixture(scope="session")
def exported(tmp_path_factory) -> Exported:
    root = tmp_path_factory.mktemp("serve")
    path = root / "tiny.toml"
    path.write_text(
        TINY_SUITE.format(root=root).replace('optimizer = ["adam", "sgd"]', 'optimizer = ["adam"]')
    )
    suite = load_suite(path)
    run_suite(suite, options=RunOptions(progress=False))
    assert main(["export", str(path), "--cell", "strategy=ctl", "--fold", "0:1"]) == 0
    job = next(
        j
        for j in make_plan(suite).fold_jobs
        if j.cell.id == CTL and (j.repeat, j.fold.fold) == (0, 1)
    )
    refit = export_model(suite, request=ExportRequest(best="auc"))
    return Exported(
        suite=suite,
        fold_job=job,
        fold_model=suite.results_dir / "tiny" / "exports" / "small_cnn-adam-ctl-r0f1",
        refit=refit,
        images=_write_test_images(suite, job, root / "images"),
    )


def _write_test_images(suite: Suite, job: FoldJob, folder: Path) -> Path:
    from PIL import Image

    target = load_dataset(suite.datasets[suite.target], image_size=suite.image_size)
    folder.mkdir()
    for index in job.fold.test:
        pixels = target.images[index]
        Image.fromarray(pixels[..., 0] if pixels.shape[-1] == 1 else pixels).save(
            folder / f"{target.ids[index]}.png"
        )
    return folder


def png_bytes(pixels: np.ndarray) -> bytes:
    """An in-memory PNG of uint8 pixels (H, W) or (H, W, 3)."""
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()
