"""Renderers: markdown layout, and CSV / JSON carrying every number at full precision."""

import csv
import io
import json

import pytest

from bench.stats import (
    compare_levels,
    comparisons_to_csv,
    comparisons_to_json,
    comparisons_to_markdown,
)

from .conftest import make_scores


@pytest.fixture
def rows():
    table = make_scores(seed=4, drop=[("resnet50", "sgd", "dtl")])
    return compare_levels(table, metric="accuracy", factor="strategy", baseline="ctl")


@pytest.fixture
def bayes_rows():
    table = make_scores(seed=4)
    return compare_levels(table, metric="auc", factor="strategy", baseline="ctl", test="bayes")


def columns(line):
    # Count column separators, not the escaped "\|" inside cell ids.
    return line.replace("\\|", "").count("|")


def test_markdown_table(rows):
    text = comparisons_to_markdown(rows)
    lines = text.splitlines()
    assert lines[0].startswith("| metric") and "p adj." in lines[0] and "unmatched" in lines[0]
    assert len(lines) == 2 + len(rows)
    assert len({columns(line) for line in lines}) == 1  # cell ids do not split columns
    assert "backbone=resnet50\\|optimizer=sgd\\|strategy=ctl" in lines[3]
    assert "paired t-test; Holm" in lines[2]
    assert f"{rows[0].p:.3g}" in lines[2]
    assert "95% [" in lines[2]


def test_markdown_shows_posterior_probabilities(bayes_rows):
    text = comparisons_to_markdown(bayes_rows)
    assert "P(a-b < -rope) / P(rope) / P(a-b > rope)" in text.splitlines()[0]
    assert "Bayesian correlated t-test (rho = " in text
    assert "unmatched" not in text


def test_csv_round_trips_full_precision(rows):
    records = list(csv.DictReader(io.StringIO(comparisons_to_csv(rows))))
    assert len(records) == 2
    for record, row in zip(records, rows, strict=True):
        assert float(record["p"]) == row.p
        assert float(record["p_adjusted"]) == row.p_adjusted
        assert float(record["mean_diff"]) == row.mean_diff
        assert record["test"] == "paired t-test"
        assert record["p_left"] == ""
    assert records[1]["unmatched"] == "backbone=resnet50|optimizer=sgd|strategy=ctl"


def test_json_has_the_documented_keys(rows, bayes_rows):
    records = json.loads(comparisons_to_json(rows + bayes_rows))
    required = {"a", "b", "n", "mean_diff", "statistic", "df", "p", "p_adjusted", "test"}
    assert all(required <= set(record) for record in records)
    assert records[0]["p"] == rows[0].p
    assert records[1]["unmatched"] == ["backbone=resnet50|optimizer=sgd|strategy=ctl"]
    assert records[2]["p"] is None and records[2]["p_right"] == bayes_rows[0].p_right
