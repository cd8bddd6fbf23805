"""The regression gate: non-inferiority tests, gate decisions, baseline files and the CLI.

Most tests feed the gate synthetic snapshots (fold scores and timings made up here) so they
run in milliseconds; one test trains a tiny suite for real, end to end through the CLI.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy import stats

from bench.cli import main
from bench.config import load_suite
from bench.config.spec import RegressionSpec
from bench.engine.coordinator import RunSummary
from bench.errors import BenchError
from bench.regress import (
    FoldScore,
    FreshRun,
    Snapshot,
    calibrate,
    compare_snapshots,
    fresh_run,
    paired_noninferiority,
    read_baseline,
    welch_noninferiority,
    workflow,
    write_baseline,
)

SPEC = RegressionSpec(margins=(("accuracy", 0.05), ("loss", 0.1)), runtime_tolerance=1.5)
CELLS = ("backbone=small_cnn", "backbone=mobilenetv2")
GOOD = np.array([0.90, 0.85, 0.88, 0.92, 0.86])
WIGGLE = np.array([0.02, -0.01, 0.015, -0.005, 0.01])  # another machine's rounding, say
REGRESSION_TOML = """
[regression]
alpha = 0.05
runtime_tolerance = 100.0
margins = { accuracy = 0.1, loss = 0.3 }
"""


def snapshot(
    accuracy=GOOD,
    *,
    seconds: float = 120.0,
    calibration: float = 0.8,
    fingerprint: str = "folds-a",
    cells=CELLS,
) -> Snapshot:
    """Five folds per cell; loss falls as accuracy rises, as it does in real runs."""
    folds = tuple(
        FoldScore(cell, 0, k, {"accuracy": float(acc), "loss": float(1.2 - acc)})
        for cell in cells
        for k, acc in enumerate(accuracy)
    )
    return Snapshot("regression", "hash1", "default", fingerprint, folds, seconds, calibration)


def verdicts(report) -> dict[tuple[str, str], str]:
    return {(c.cell, c.metric): c.verdict for c in report.metrics}


# --- the non-inferiority tests, against scipy ------------------------------------------------


def test_paired_p_matches_scipy_one_sample_t_for_higher_is_better():
    now = GOOD - 0.03 + WIGGLE
    result = paired_noninferiority(now, GOOD, margin=0.05)
    expected = stats.ttest_1samp(now - GOOD, -0.05, alternative="greater")
    assert result.p == pytest.approx(expected.pvalue, rel=1e-10)
    assert result.t == pytest.approx(expected.statistic, rel=1e-10)
    assert (result.test, result.df) == ("paired t", 4.0)


def test_paired_p_flips_for_lower_is_better():
    base = 1.2 - GOOD
    now = base + 0.04 + WIGGLE
    result = paired_noninferiority(now, base, margin=0.1, higher_is_better=False)
    expected = stats.ttest_1samp(now - base, 0.1, alternative="less")
    assert result.p == pytest.approx(expected.pvalue, rel=1e-10)
    assert result.gain == pytest.approx(-(0.04 + WIGGLE.mean()))


def test_paired_p_by_hand():
    d = np.array([-0.02, 0.01, -0.04, 0.0, -0.01])
    t = (d.mean() + 0.05) / (d.std(ddof=1) / math.sqrt(5))
    result = paired_noninferiority(GOOD + d, GOOD, margin=0.05)
    assert result.t == pytest.approx(t)
    assert result.p == pytest.approx(stats.t.sf(t, 4))


def test_welch_p_matches_scipy():
    now = np.array([0.8, 0.84, 0.79, 0.83, 0.86, 0.81])
    result = welch_noninferiority(now, GOOD, margin=0.05)
    expected = stats.ttest_ind(now + 0.05, GOOD, equal_var=False, alternative="greater")
    assert result.p == pytest.approx(expected.pvalue, rel=1e-10)
    lower = welch_noninferiority(1 - now, 1 - GOOD, margin=0.05, higher_is_better=False)
    assert lower.p == pytest.approx(expected.pvalue, rel=1e-10)


def test_identical_folds_have_no_spread_and_pass_outright():
    assert paired_noninferiority(GOOD, GOOD, margin=0.05).p == 0.0
    assert paired_noninferiority(GOOD - 0.1, GOOD, margin=0.05).p == 1.0


# --- the gate --------------------------------------------------------------------------------


def test_unchanged_rerun_passes():
    report = compare_snapshots(baseline=snapshot(), now=snapshot(), spec=SPEC)
    assert report.passed and report.paired
    assert set(verdicts(report).values()) == {"ok"}
    assert report.runtime.ratio == pytest.approx(1.0)


def test_rerun_with_small_fold_noise_passes():
    report = compare_snapshots(baseline=snapshot(), now=snapshot(GOOD + WIGGLE), spec=SPEC)
    assert report.passed


def test_degraded_pipeline_fails():
    degraded = snapshot(GOOD - 0.25 + WIGGLE)  # as heavy label noise does to accuracy
    report = compare_snapshots(baseline=snapshot(), now=degraded, spec=SPEC)
    assert not report.passed
    assert verdicts(report)[(CELLS[0], "accuracy")] == "REGRESSION"
    assert verdicts(report)[(CELLS[0], "loss")] == "REGRESSION"  # lower is better: it rose
    assert report.runtime.verdict == "ok"


def test_improvement_passes():
    better = snapshot(np.minimum(GOOD + 0.05 + WIGGLE, 1.0))
    assert compare_snapshots(baseline=snapshot(), now=better, spec=SPEC).passed


def test_uniformly_slower_machine_is_not_a_runtime_regression():
    slow_machine = snapshot(seconds=120.0 * 3, calibration=0.8 * 3)
    report = compare_snapshots(baseline=snapshot(), now=slow_machine, spec=SPEC)
    assert report.runtime.verdict == "ok" and report.passed


def test_slower_pipeline_is_a_runtime_regression():
    slow_pipeline = snapshot(seconds=120.0 * 3)
    report = compare_snapshots(baseline=snapshot(), now=slow_pipeline, spec=SPEC)
    assert report.runtime.ratio == pytest.approx(3.0)
    assert report.runtime.verdict == "REGRESSION" and not report.passed


def test_a_lost_cell_fails_and_a_new_cell_does_not():
    lost = compare_snapshots(baseline=snapshot(), now=snapshot(cells=CELLS[:1]), spec=SPEC)
    assert verdicts(lost)[(CELLS[1], "accuracy")] == "MISSING" and not lost.passed
    grown = snapshot(cells=(*CELLS, "backbone=vgg16"))
    added = compare_snapshots(baseline=snapshot(), now=grown, spec=SPEC)
    assert verdicts(added)[("backbone=vgg16", "accuracy")] == "new" and added.passed


def test_a_failed_fold_is_missing():
    now = snapshot()
    now = Snapshot(**{**now.__dict__, "folds": now.folds[1:]})
    report = compare_snapshots(baseline=snapshot(), now=now, spec=SPEC)
    assert verdicts(report)[(CELLS[0], "accuracy")] == "MISSING"


def test_different_folds_fall_back_to_welch_and_say_so():
    now = snapshot(GOOD[::-1], fingerprint="folds-b")
    report = compare_snapshots(baseline=snapshot(), now=now, spec=SPEC)
    assert not report.paired and report.passed
    assert {c.result.test for c in report.metrics} == {"Welch t"}
    assert any("Welch" in note for note in report.notes)


def test_another_backend_is_named_in_one_note():
    def on(backend: str) -> Snapshot:
        return Snapshot(**{**snapshot().__dict__, "provenance": {"versions": {"backend": backend}}})

    report = compare_snapshots(baseline=on("tensorflow"), now=on("torch"), spec=SPEC)
    (note,) = [n for n in report.notes if "backend" in n]
    assert note.startswith("the backend differs from the baseline's (tensorflow → torch)")
    same = compare_snapshots(baseline=on("torch"), now=on("torch"), spec=SPEC)
    assert same.passed and not same.notes
    unknown = compare_snapshots(baseline=snapshot(), now=on("torch"), spec=SPEC)
    assert not unknown.notes  # a baseline that does not say: no guess


# --- baseline files ----------------------------------------------------------------------------


def test_baseline_round_trips_exactly(tmp_path):
    original = snapshot(GOOD / 3)
    path = write_baseline(original, tmp_path / "baselines" / "regression.json")
    raw = json.loads(path.read_text())
    assert next(iter(raw)) == "provenance" and raw["provenance"]["suite_hash"] == "hash1"
    assert read_baseline(path) == original


def test_missing_or_malformed_baseline_says_how_to_make_one(tmp_path):
    with pytest.raises(BenchError, match="--update-baseline"):
        read_baseline(tmp_path / "nope.json")
    (tmp_path / "bad.json").write_text('{"format": 1}')
    with pytest.raises(BenchError, match="not a bench baseline"):
        read_baseline(tmp_path / "bad.json")


# --- the CLI, with the training replaced by synthetic snapshots -------------------------------


@pytest.fixture
def fake_runs(monkeypatch):
    """Make ``bench regress`` return the queued snapshots instead of training."""
    queue: list[Snapshot] = []

    def fresh_run(suite, *, keep=None, progress=True):
        return FreshRun(snapshot=queue.pop(0), summary=RunSummary(wall=1.0))

    monkeypatch.setattr(workflow, "fresh_run", fresh_run)
    return queue


def test_cli_update_then_gate(write_suite, tmp_path, fake_runs, capsys):
    suite = write_suite(REGRESSION_TOML)
    baseline = tmp_path / "baselines" / "tiny.json"
    args = ["regress", str(suite), "--baseline", str(baseline), "--quiet"]
    fake_runs += [snapshot(), snapshot(), snapshot(GOOD - 0.25), snapshot(seconds=1e6)]
    assert main([*args, "--update-baseline"]) == 0 and baseline.is_file()
    assert main(args) == 0
    assert "gate passed" in capsys.readouterr().out
    assert main(args) == 1
    out = capsys.readouterr().out
    assert "REGRESSION" in out and "gate FAILED" in out
    for column in ("cell", "metric", "baseline", "now", "margin", "p", "verdict"):
        assert column in out.splitlines()[0]
    assert main(args) == 1  # runtime alone


def test_cli_bad_input_exits_2_before_training(write_suite, tmp_path, fake_runs, capsys):
    fake_runs.append(snapshot())
    plain = write_suite()
    assert main(["regress", str(plain), "--baseline", str(tmp_path / "b.json")]) == 2
    assert "no [regression] table" in capsys.readouterr().err
    typo = write_suite(REGRESSION_TOML.replace("accuracy =", "acuracy ="), name="typo.toml")
    assert main(["regress", str(typo), "--baseline", str(tmp_path / "b.json")]) == 2
    assert "'regression.margins.acuracy' is not a metric" in capsys.readouterr().err
    gated = write_suite(REGRESSION_TOML, name="gated.toml")
    assert main(["regress", str(gated), "--baseline", str(tmp_path / "none.json")]) == 2
    assert "--update-baseline" in capsys.readouterr().err
    assert len(fake_runs) == 1  # nothing trained


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ("[regression]\nalpha = 0.05\n", "'regression.margins' is missing"),
        ("[regression]\nmargins = { auc = -0.1 }\n", "must be positive"),
        ("[regression]\nmargins = { auc = 0.1 }\nalpha = 1.5\n", "'regression.alpha'"),
        ("[regression]\nmargins = { auc = 0.1 }\nruntime_tolerance = 0.5\n", "at least 1"),
        ("[regression]\nmargin = { auc = 0.1 }\n", "did you mean 'regression.margins'"),
    ],
)
def test_regression_table_is_checked(write_suite, table, message):
    with pytest.raises(BenchError, match=message):
        load_suite(write_suite(table))


def test_regression_table_is_parsed_and_leaves_the_suite_hash_alone(write_suite):
    plain = load_suite(write_suite(name="a.toml"))
    gated = load_suite(write_suite(REGRESSION_TOML, name="b.toml"))
    assert plain.regression is None
    assert gated.regression == RegressionSpec(
        margins=(("accuracy", 0.1), ("loss", 0.3)), alpha=0.05, runtime_tolerance=100.0
    )
    assert plain.hash == gated.hash


def test_keep_refuses_a_used_folder(write_suite, tmp_path):
    used = tmp_path / "used"
    used.mkdir()
    (used / "bench.sqlite").write_text("")
    with pytest.raises(BenchError, match="new or empty folder"):
        fresh_run(load_suite(write_suite(REGRESSION_TOML)), keep=used)


# --- end to end, training for real ------------------------------------------------------------

LEARNABLE = {
    'backbone = ["small_cnn"]\noptimizer = ["adam", "sgd"]\nstrategy = ["scratch", "ctl"]': (
        'backbone = ["small_cnn"]\noptimizer = ["adam"]\nstrategy = ["scratch"]'
    ),
    "samples_per_class = 12": "samples_per_class = 30",
    "difficulty = 0.2": "difficulty = 0.1",
    "epochs = 2\n": "epochs = 10\n",
    "patience = 2": "patience = 5",
    "validation = 0.25": "validation = 0.3",
}


def test_real_rerun_passes_and_label_noise_fails(write_suite, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(calibrate, "calibration_seconds", lambda: 1.0)  # timing is not tested here
    baseline = tmp_path / "tiny.json"
    clean = write_suite(REGRESSION_TOML, replace=LEARNABLE)
    noisy = write_suite(
        REGRESSION_TOML,
        replace={**LEARNABLE, "difficulty = 0.1": "difficulty = 0.1\nlabel_noise = 0.5"},
        name="noisy.toml",
    )
    args = ["--baseline", str(baseline), "--quiet"]
    assert main(["regress", str(clean), *args, "--update-baseline"]) == 0
    accuracy = [f.metrics["accuracy"] for f in read_baseline(baseline).folds]
    assert np.mean(accuracy) > 0.7, accuracy  # learns: label noise has something to destroy
    assert main(["regress", str(clean), *args]) == 0
    assert "paired t-test" in capsys.readouterr().out
    assert main(["regress", str(noisy), *args]) == 1
    assert "REGRESSION" in capsys.readouterr().out
