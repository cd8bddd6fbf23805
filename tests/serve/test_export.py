"""``bench export``: the chosen cell, the saved bundle, and reproduction of a stored fold."""

from __future__ import annotations

import csv
import json
import sqlite3

import numpy as np
import pandas as pd
import pytest

from bench.cli import main
from bench.errors import BenchError
from bench.serve.bundle import load_bundle
from bench.serve.choose import best_cell, cv_summary, match_cell
from bench.store.db import Store
from bench.store.scores import load_scores
from tests.serve.conftest import CTL


def _scores(suite):
    store = Store(suite.store_path)
    try:
        return load_scores(store, suite_hash=suite.hash, profile=suite.profile)
    finally:
        store.close()


def test_fold_export_metadata(exported):
    meta = load_bundle(exported.fold_model).metadata
    suite, job = exported.suite, exported.fold_job
    assert meta.classes == ("benign", "malignant") and meta.image_size == 16
    assert (meta.preprocessing, meta.backbone, meta.threshold) == ("unit", "small_cnn", 0.5)
    assert (meta.cell, meta.suite, meta.suite_hash) == (CTL, "tiny", suite.hash)
    assert meta.trained_on == {
        "data": "fold",
        "repeat": 0,
        "fold": 1,
        "job": job.hash,
        "seed": job.seed,
        "n_fit": len(job.fold.train),
        "n_val": len(job.fold.val),
        "params": {},
    }
    stored = _scores(suite)
    aucs = stored.loc[stored["cell"] == CTL, "auc"]
    assert meta.cv_metrics["auc"]["mean"] == pytest.approx(aucs.mean())
    assert meta.cv_metrics["auc"]["sd"] == pytest.approx(aucs.std(ddof=1))
    assert meta.cv_metrics["auc"]["n"] == 3
    assert {"bench", "keras", "backend", "python"} <= set(meta.versions)


def test_predict_reproduces_the_stored_out_of_fold_predictions(exported, tmp_path):
    out = tmp_path / "fold.csv"
    assert main(["predict", str(exported.fold_model), str(exported.images), "--out", str(out)]) == 0
    rows = {r["path"].rsplit("/", 1)[1].removesuffix(".png"): r for r in csv.DictReader(out.open())}
    db = sqlite3.connect(exported.suite.store_path)
    stored = db.execute(
        "SELECT sample, proba FROM predictions WHERE job = ?", (exported.fold_job.hash,)
    ).fetchall()
    db.close()
    assert len(stored) == len(rows) == len(exported.fold_job.fold.test)
    for sample, proba in stored:
        row = rows[sample]
        got = [float(row["p_benign"]), float(row["p_malignant"])]
        np.testing.assert_allclose(got, json.loads(proba), atol=1e-5)
        assert row["label"] == ("malignant" if got[1] >= 0.5 else "benign")


def test_refit_trains_the_best_cell_on_all_labelled_data(exported):
    meta = exported.refit.metadata
    means = _scores(exported.suite).groupby("cell")["auc"].mean()
    assert meta.cell == means.idxmax()
    assert meta.trained_on["data"] == "all"
    assert meta.trained_on["n_fit"] + meta.trained_on["n_val"] == 24  # every labelled image
    assert meta.trained_on["n_val"] > 0  # an inner split for early stopping and threshold
    bundle = load_bundle(exported.refit.directory / "model.keras")  # the file works as well
    proba = bundle.predict_proba(np.zeros((2, 16, 16, 1), np.uint8))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-6)


def test_best_export_carries_the_nested_estimate_as_its_expected_performance(exported):
    from bench.stats.selection import nested_estimate
    from bench.store.scores import with_validation_scores

    store = Store(exported.suite.store_path)
    try:
        suite = exported.suite
        scores = with_validation_scores(
            store, _scores(suite), suite_hash=suite.hash, profile=suite.profile
        )
    finally:
        store.close()
    estimate = nested_estimate(scores, metric="auc")
    expected = exported.refit.metadata.expected_performance
    assert expected["metric"] == "auc" and expected["folds"] == 3
    assert expected["nested"] == pytest.approx(estimate.nested)
    assert expected["naive"] == pytest.approx(scores.groupby("cell")["auc"].mean().max())
    assert expected["optimism"] == pytest.approx(expected["naive"] - expected["nested"])
    line = next(x for x in exported.refit.lines() if x.startswith("chosen as best"))
    assert "naive mean" in line and "nested" in line and "optimism" in line
    assert load_bundle(exported.fold_model).metadata.expected_performance is None


def _table(cells, metric, means):
    return pd.DataFrame(
        {"cell": [c.id for c in cells for _ in range(2)], metric: np.repeat(means, 2)}
    )


def test_best_is_highest_mean_and_lowest_for_loss_and_brier(exported):
    cells = exported.suite.cells  # scratch, ctl
    assert best_cell(cells, _table(cells, "auc", [0.6, 0.8]), metric="auc") == cells[1]
    assert best_cell(cells, _table(cells, "loss", [0.6, 0.8]), metric="loss") == cells[0]
    assert best_cell(cells, _table(cells, "brier", [0.3, 0.2]), metric="brier") == cells[1]
    assert best_cell(cells, _table(cells, "auc", [0.7, 0.7]), metric="auc") == cells[0]  # tie


def test_best_of_an_unknown_metric_names_the_stored_ones(exported):
    with pytest.raises(BenchError, match=r"'acuracy'.*did you mean 'accuracy'"):
        best_cell(exported.suite.cells, _scores(exported.suite), metric="acuracy")


def test_cv_summary_of_one_fold_has_no_sd():
    table = pd.DataFrame({"cell": ["a"], "auc": [0.7]})
    assert cv_summary(table, cell="a") == {"auc": {"mean": 0.7, "sd": None, "n": 1}}


def test_match_cell_by_id_or_pairs_and_refusals(exported):
    cells = exported.suite.cells
    assert match_cell(cells, CTL).id == CTL
    assert match_cell(cells, "strategy=ctl,optimizer=adam").id == CTL
    with pytest.raises(BenchError, match="matches 2 cells"):
        match_cell(cells, "optimizer=adam")
    with pytest.raises(BenchError, match="matches no cell"):
        match_cell(cells, "strategy=mstl")


def test_cli_errors_are_one_line(exported, capsys):
    suite = str(exported.suite.path)
    assert main(["export", suite, "--cell", "strategy=dtl"]) == 2
    assert main(["export", suite, "--cell", "strategy=ctl", "--fold", "0:7"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines[-2].startswith("bench: error: --cell 'strategy=dtl' matches no cell")
    assert lines[-1] == ("bench: error: --fold 0:7: no such fold; repeats run 0..0 and folds 0..2")
    with pytest.raises(SystemExit):
        main(["export", suite, "--best", "auc", "--fold", "one"])


def test_export_before_any_run_says_to_run_first(write_suite, capsys):
    assert main(["export", str(write_suite()), "--best", "auc"]) == 2
    assert "no results yet; run `bench run" in capsys.readouterr().err
