"""Figures over setting axes: the axis heatmap and the learning-rate curves, from a stored
run of backbone × train.learning_rate × train.epochs with known scores and histories."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from bench.report.figures.axis_heatmap import axis_grids
from bench.report.figures.rate_curves import rate_axis, rate_panels
from bench.report.inputs import load_inputs
from bench.report.write import ReportRequest, write_report
from bench.store.db import FoldRecord, PlanRow, Store
from tests.report.conftest import PROVENANCE, STARTED, tiny_target
from tests.report.test_figures import assert_not_blank

BACKBONES = ("small_cnn", "mobilenetv2")
RATES = (5e-4, 1e-5, 1e-3)  # stored out of order: figures sort numeric levels
EPOCHS = (2, 4)
FOLDS = 3
FACTORS = ("backbone", "optimizer", "strategy", "train.learning_rate", "train.epochs")
SUITE_HASH = "fedcba9876543210"


def accuracy(b: int, r: int, e: int, fold: int) -> float:
    interaction = 0.005 * (b + e) * r + 0.002 * fold * r
    return round(0.6 + 0.05 * b + 0.04 * r + 0.02 * e + 0.01 * fold + interaction, 6)


def val_accuracy(b: int, r: int, fold: int, epoch: int) -> float:
    """Validation accuracy per epoch: rises with the epoch, offset by backbone, rate, fold."""
    return round(0.5 + 0.03 * epoch + 0.1 * b + 0.05 * r + 0.01 * fold, 6)


def records():
    for b, backbone in enumerate(BACKBONES):
        for r, rate in enumerate(RATES):
            for e, epochs in enumerate(EPOCHS):
                levels = [backbone, "adam", "ctl", f"{rate:g}", str(epochs)]
                factors = dict(zip(FACTORS, levels, strict=True))
                cell = "|".join(f"{k}={v}" for k, v in factors.items())
                for fold in range(FOLDS):
                    y = [0, 1] * 4
                    history = [val_accuracy(b, r, fold, i) for i in range(epochs)]
                    yield FoldRecord(
                        job=f"{cell}|f{fold}",
                        cell=cell,
                        factors=factors,
                        repeat=0,
                        fold=fold,
                        n_train=40,
                        n_val=10,
                        n_test=8,
                        threshold=0.5,
                        params={},
                        scores={"accuracy": accuracy(b, r, e, fold), "auc": 0.7},
                        samples=[f"img{i}" for i in range(8)],
                        y_true=y,
                        proba=[[0.6, 0.4] if v == 0 else [0.3, 0.7] for v in y],
                        history={"fine": {"loss": [0.5] * epochs, "val_accuracy": history}},
                        val_scores={"accuracy": accuracy(b, r, e, fold), "auc": 0.7},
                        cost={},
                    )


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    root = tmp_path_factory.mktemp("swept")
    target = tiny_target(root, baseline=None, name="swept")
    target = type(target)(
        **{
            **target.__dict__,
            "suite_hash": SUITE_HASH,
            "factors": FACTORS,
            "metrics": ("accuracy", "auc"),
            "sort": "accuracy",
            "base_cells": frozenset(),
        }
    )
    store = Store(target.store_path)
    run = store.begin_run(
        suite="swept",
        suite_hash=SUITE_HASH,
        profile="default",
        command="bench run swept.toml",
        provenance=PROVENANCE,
    )
    rows = list(records())
    store.record_plan(
        suite_hash=SUITE_HASH,
        profile="default",
        rows=[PlanRow.of_fold(r, label=r.job) for r in rows],
    )
    for record in rows:
        store.record_fold(record, label=record.job, run_id=run, started=STARTED)
    store.end_run(run, status="done")
    store.close()
    return target


def test_heatmap_means_are_the_fold_means_per_pair_of_levels(swept):
    inputs = load_inputs(swept.store_path, suite_hash=SUITE_HASH, profile="default")
    grids = axis_grids(
        inputs.scores,
        rows="train.learning_rate",
        columns="train.epochs",
        metric="accuracy",
        factors=FACTORS,
    )
    assert grids.row_levels == ("1e-05", "0.0005", "0.001")  # numeric order
    assert grids.column_levels == ("2", "4")
    titles = [p.title for p in grids.panels]
    assert sorted(titles) == ["backbone=mobilenetv2", "backbone=small_cnn"]
    order = [RATES.index(float(level)) for level in grids.row_levels]
    for panel in grids.panels:
        b = BACKBONES.index(panel.title.split("=")[1])
        expected = [
            [np.mean([accuracy(b, r, e, f) for f in range(FOLDS)]) for e in range(len(EPOCHS))]
            for r in order
        ]
        np.testing.assert_allclose(panel.values, expected)


def test_rate_curves_average_each_epoch_over_the_jobs_that_reached_it(swept):
    inputs = load_inputs(swept.store_path, suite_hash=SUITE_HASH, profile="default")
    assert rate_axis(FACTORS) == "train.learning_rate"
    assert rate_axis(("backbone", "train.epochs")) is None
    panels = rate_panels(
        inputs.histories, inputs.folds, inputs.scores, rate="train.learning_rate", factors=FACTORS
    )
    titles = [p.title for p in panels]
    assert sorted(titles) == ["backbone=mobilenetv2", "backbone=small_cnn"]
    curves = panels[titles.index("backbone=mobilenetv2")].curves
    assert [c.rate for c in curves] == ["1e-05", "0.0005", "0.001"]
    rate = curves[0]  # 1e-05, index 1 in RATES
    assert rate.jobs == FOLDS * len(EPOCHS)
    assert rate.epochs.tolist() == [1, 2, 3, 4]
    # epochs 1-2: every job (both budgets); epochs 3-4: only the 4-epoch jobs
    expected = [np.mean([val_accuracy(1, 1, f, i) for f in range(FOLDS)]) for i in range(4)]
    np.testing.assert_allclose(rate.accuracy, expected)


def test_the_report_draws_both_figures_and_compares_along_a_setting(swept, monkeypatch):
    files = write_report(swept, request=ReportRequest(latex=True, html=True))
    figures = swept.out_dir / "figures"
    assert_not_blank(figures / "axis_heatmap.png")
    assert_not_blank(figures / "learning_rate_curves.png")
    assert figures / "learning_rate_curves.pdf" in files
    text = (swept.out_dir / "report.md").read_text(encoding="utf-8")
    assert "train.learning_rate × train.epochs" in text
    assert "one line per train.learning_rate" in text
    header = next(line for line in text.splitlines() if "train.learning_rate" in line)
    assert "| train.epochs" in header  # a leaderboard column per axis
    latex = (swept.out_dir / "leaderboard.tex").read_text(encoding="utf-8")
    assert r"train.learning\_rate" in latex
    assert '"train.learning_rate"' in (swept.out_dir / "report.html").read_text(encoding="utf-8")


def test_bench_compare_tests_levels_of_a_setting_axis(swept, monkeypatch, capsys):
    from bench.cli import main

    monkeypatch.chdir(Path(swept.store_path).parents[1].parent)
    code = main(
        [
            "compare",
            "swept",
            "--metric",
            "accuracy",
            "--factor",
            "train.learning_rate",
            "--baseline",
            "1e-05",
            "--format",
            "json",
        ]
    )
    assert code == 0, capsys.readouterr().err
    rows = json.loads(capsys.readouterr().out)
    assert {row["b"] for row in rows} == {"1e-05"}
    assert sorted(row["a"] for row in rows) == ["0.0005", "0.001"]
    # against 1e-05 (r=1) over the matched backbone × epochs cells, from accuracy(): for
    # r=0 -0.04 - 0.005 * mean(b + e) - 0.002 * mean(fold); for r=2 the same, positive
    gains = {row["a"]: row["mean_diff"] for row in rows}
    assert gains["0.0005"] == pytest.approx(-0.047) and gains["0.001"] == pytest.approx(0.047)


def test_grids_without_setting_axes_leave_both_figures_out_silently(binary_store):
    write_report(binary_store, request=ReportRequest())
    figures = binary_store.out_dir / "figures"
    assert not (figures / "axis_heatmap.png").exists()
    assert not (figures / "learning_rate_curves.png").exists()
    text = (binary_store.out_dir / "report.md").read_text(encoding="utf-8")
    assert "axis heatmap" not in text and "learning-rate curves" not in text
