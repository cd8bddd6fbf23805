"""`bench compare` without --test makes the report's comparison: same test, same p-values."""

from __future__ import annotations

import json

from bench.cli import main
from bench.report.significance import compare_with_baseline
from bench.store.scores import scores_for
from tests.report.conftest import build_store, tiny_target

ARGS = ["compare", "tiny", "--metric", "auc", "--factor", "strategy", "--baseline", "scratch"]


def test_default_compare_names_the_corrected_t_and_matches_the_report(
    tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    build_store(tiny_target(tmp_path).store_path)
    assert main([*ARGS, "--format", "json"]) == 0
    captured = capsys.readouterr()
    assert "test: Nadeau-Bengio corrected t-test on (repeat, fold) means" in captured.err
    (row,) = json.loads(captured.out)
    scores = scores_for("tiny")
    (reported,) = compare_with_baseline(
        scores, metrics=["auc"], factors=scores.attrs["factors"], baseline="scratch"
    ).comparisons
    assert row["p"] == reported.p and row["p_adjusted"] == reported.p_adjusted
    assert row["mean_diff"] == reported.mean_diff and "Nadeau-Bengio" in row["test"]


def test_an_explicit_test_is_named_too(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    build_store(tiny_target(tmp_path).store_path)
    assert main([*ARGS, "--test", "paired_t"]) == 0
    assert "test: paired t-test" in capsys.readouterr().err
