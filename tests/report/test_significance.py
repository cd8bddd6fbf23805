"""Comparisons with the baseline: the fast paths give compare_levels' numbers, marks point right."""

from __future__ import annotations

import math

import pytest

from bench.report.inputs import load_inputs
from bench.report.significance import (
    BETTER,
    WORSE,
    baseline_marks,
    compare_with_baseline,
    has_folds,
)
from bench.stats import compare_levels, comparisons_to_records
from tests.report.conftest import METRICS, SUITE_HASH

FACTORS = ("backbone", "optimizer", "strategy")


@pytest.fixture
def scores(binary_store):
    path = binary_store.store_path
    return load_inputs(path, suite_hash=SUITE_HASH, profile="default").scores


def assert_same(fast, reference):
    assert len(fast) == len(reference)
    for ours, theirs in zip(fast, reference, strict=True):
        ours, theirs = comparisons_to_records([ours])[0], comparisons_to_records([theirs])[0]
        for key, value in theirs.items():
            if isinstance(value, float) and not math.isnan(value):
                assert ours[key] == pytest.approx(value, rel=1e-9, abs=1e-12), key
            else:
                assert ours[key] == value, key


def test_corrected_test_on_collapsed_levels_equals_compare_levels_on_every_fold(scores):
    result = compare_with_baseline(scores, metrics=METRICS, factors=FACTORS, baseline="scratch")
    assert result.test == "corrected_t" and not result.notes
    reference = [
        row
        for metric in METRICS
        for row in compare_levels(
            scores, metric=metric, factor="strategy", baseline="scratch", test="corrected_t"
        )
    ]
    assert_same(result.comparisons, reference)


def test_paired_test_on_cell_means_equals_compare_levels_on_every_fold(scores):
    scores = scores.assign(n_train=float("nan"))  # no fold sizes: the per-cell test
    assert not has_folds(scores)
    result = compare_with_baseline(scores, metrics=METRICS, factors=FACTORS, baseline="scratch")
    assert result.test == "paired_t"
    reference = [
        row
        for metric in METRICS
        for row in compare_levels(
            scores, metric=metric, factor="strategy", baseline="scratch", test="paired_t"
        )
    ]
    assert_same(result.comparisons, reference)


def test_marks_follow_the_direction_of_each_metric(scores):
    result = compare_with_baseline(scores, metrics=METRICS, factors=FACTORS, baseline="scratch")
    marks, legend = baseline_marks(result, scores)
    ctl = {cell for cell in scores["cell"] if cell.endswith("strategy=ctl")}
    assert {cell for cell, _ in marks} == ctl
    assert {symbol for (_, metric), symbol in marks.items() if metric == "loss"} == {BETTER}
    flipped = scores.assign(loss=1.0 - scores["loss"])  # ctl now loses more
    worse = compare_with_baseline(flipped, metrics=["loss"], factors=FACTORS, baseline="scratch")
    assert set(baseline_marks(worse, flipped)[0].values()) == {WORSE}
    assert "Nadeau-Bengio corrected t-test" in legend[BETTER] and "Holm" in legend[BETTER]


def test_a_metric_that_cannot_be_tested_gets_a_note(scores):
    scores = scores.assign(accuracy=scores["accuracy"].where(scores["strategy"] == "ctl", 0.5))
    scores["accuracy"] = scores["accuracy"].where(scores["strategy"] != "ctl", 0.6)
    result = compare_with_baseline(
        scores, metrics=["accuracy", "auc"], factors=FACTORS, baseline="scratch"
    )
    assert [c.metric for c in result.comparisons] == ["auc"]
    assert result.notes and result.notes[0].startswith("Accuracy, ctl vs scratch not tested:")


def test_no_strategy_factor_or_single_level_is_a_note_not_an_error(scores):
    none = compare_with_baseline(scores, metrics=METRICS, factors=FACTORS[:2], baseline="scratch")
    assert none.notes == ("no comparison with scratch: the results have no strategy factor",)
    alone = scores[scores["strategy"] == "scratch"]
    single = compare_with_baseline(alone, metrics=METRICS, factors=FACTORS, baseline="scratch")
    assert single.notes == ("no comparison: scratch is the only strategy",)
