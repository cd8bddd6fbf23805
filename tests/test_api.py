"""The Python API: bench.load's frames reproduce the report's numbers; errors are BenchErrors."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from scipy import stats

import bench
from bench.report.write import ReportRequest, write_report
from tests.report.conftest import METRICS, StoreSpec, build_store, tiny_target

FACTORS = ["backbone", "optimizer", "strategy"]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """The tuned binary test store, its report, and its results loaded through the API."""
    root = tmp_path_factory.mktemp("api")
    target = tiny_target(root)
    build_store(target.store_path, StoreSpec(tuned=True))
    files = write_report(target, request=ReportRequest())
    return target, {p.name: p for p in files}


@pytest.fixture
def results(tiny, monkeypatch):
    target, _ = tiny
    monkeypatch.chdir(target.store_path.parents[2])  # results/<name> is read from here
    return bench.load("tiny")


def _leaderboard_rows(markdown: str) -> dict[tuple[str, ...], list[str]]:
    """The report's leaderboard.md as {(backbone, optimizer, strategy): [score cells]}."""
    rows = {}
    for line in markdown.splitlines()[2:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) > 5:
            rows[tuple(cells[1:4])] = cells[5 : 5 + len(METRICS)]
    return rows


def test_folds_reproduce_the_report_leaderboard(results, tiny):
    _, files = tiny
    folds = results.folds()
    assert len(folds) == 8 * 2 * 3
    means = folds.groupby(FACTORS)[list(METRICS)].mean()
    sds = folds.groupby(FACTORS)[list(METRICS)].std(ddof=1)
    rows = _leaderboard_rows(files["leaderboard.md"].read_text())
    assert len(rows) == 8
    for levels, cells in rows.items():
        for metric, cell in zip(METRICS, cells):
            mean, sd = re.findall(r"\d+\.\d+", cell)[:2]
            assert f"{means.loc[levels, metric]:.3f}" == mean
            assert f"{sds.loc[levels, metric]:.3f}" == sd


def test_cells_are_the_leaderboard_best_first(results):
    cells = results.cells()
    assert cells["rank"].tolist() == list(range(1, 9))
    assert cells["auc_mean"].is_monotonic_decreasing
    best = cells.iloc[0]
    folds = results.folds()
    mine = folds[folds["cell"] == best["cell"]]
    assert best["auc_mean"] == pytest.approx(mine["auc"].mean())
    assert best["n"] == len(mine) == 6
    assert best["params"] == mine["params"].mean()  # cost beside accuracy
    assert best["latency_cpu_b1_ms"] == pytest.approx(mine["latency_cpu_b1_ms"].mean())


def test_one_comparison_by_hand_matches_the_api_and_the_report(results, tiny):
    """Nadeau-Bengio corrected t-test of ctl vs scratch on AUC over backbone × optimizer."""
    _, files = tiny
    folds = results.folds()
    side = folds.pivot_table(index=["repeat", "fold"], columns="strategy", values="auc")
    d = (side["ctl"] - side["scratch"]).to_numpy()
    j = d.size
    ratio = folds["n_test"].iloc[0] / folds["n_train"].iloc[0]
    se = math.sqrt((1 / j + ratio) * d.var(ddof=1))
    t = d.mean() / se
    p = 2 * stats.t.sf(abs(t), j - 1)
    half = stats.t.ppf(0.975, j - 1) * se

    row = results.compare("auc", factor="strategy", baseline="scratch").iloc[0]
    assert (row["a"], row["b"], row["test"]) == ("ctl", "scratch", "Nadeau-Bengio corrected t-test")
    assert row["mean_diff"] == pytest.approx(d.mean())
    assert row["p"] == pytest.approx(p)
    assert row["p_adjusted"] == pytest.approx(p)  # one comparison: Holm leaves it
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((d.mean() - half, d.mean() + half))

    report = files["report.md"].read_text()
    line = next(x for x in report.splitlines() if x.startswith("| AUC ") and "ctl" in x)
    assert f"{d.mean():+.3f}" in line
    assert f"[{d.mean() - half:+.3f}, {d.mean() + half:+.3f}]" in line


def test_folds_hold_thresholds_tuned_values_and_sizes(results):
    folds = results.folds()
    assert {"threshold", "n_train", "n_test", "tuned_learning_rate", "tuned_head"} <= set(folds)
    scratch = folds[folds["strategy"] == "scratch"]
    assert set(scratch["threshold"]) == {0.4}
    assert set(folds["tuned_head"]) == {"dense128", "dense256"}
    assert folds.attrs["factors"] == FACTORS


def test_predictions_are_one_row_per_test_sample(results):
    predictions = results.predictions()
    assert len(predictions) == 48 * 12
    assert not predictions.duplicated(["cell", "repeat", "fold", "sample"]).any()
    np.testing.assert_allclose(predictions["proba_0"] + predictions["proba_1"], 1.0, atol=1e-6)
    assert set(predictions["y_true"]) == {0, 1}
    assert set(FACTORS) <= set(predictions)


def test_histories_hold_fold_and_shared_stage_curves(results):
    histories = results.histories()
    shared = histories[histories["kind"] == "stage"]
    # two stages × (loss, val_loss, val_accuracy) × 3 epochs, and each stage's val_chance
    assert len(shared) == 2 * (3 * 3 + 1)
    assert shared["cell"].isna().all()
    folds = histories[histories["kind"] == "fold"]
    assert set(folds["stage"]) == {"target"}
    # 4 or 5 epochs per fold (4 + fold % 2), two metrics
    per_fold = folds.groupby(["cell", "repeat", "fold"]).size()
    assert set(per_fold) == {8, 10}


def test_plan_lists_every_job_with_its_status(results):
    plan = results.plan()
    assert plan["kind"].value_counts().to_dict() == {"fold": 48, "stage": 2}
    assert set(plan["status"]) == {"done"}


def test_missing_results_raise_a_bench_error(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(bench.BenchError, match=r"results/nothing/bench.sqlite: .*bench run"):
        bench.load("nothing")


def test_compare_with_an_unknown_level_raises_a_stats_error(results):
    with pytest.raises(bench.BenchError, match="mstl"):
        results.compare("auc", factor="strategy", baseline="mstl")


def test_import_bench_stays_light():
    import subprocess
    import sys

    code = "import bench, sys; print('pandas' in sys.modules, 'tensorflow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
