"""`bench compare --published`: the multistage paper's Table 1 imported, a stored reproduction
within and outside the margin, the verdicts, the CLI's output and exit codes, the report."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import pytest
from scipy import stats

from bench.cli import main
from bench.store.db import FoldRecord, PlanRow, Store

TABLE = Path(__file__).parents[2] / "suites" / "published" / "ayana2022-table1.csv"
NOISE = (-0.004, 0.002, 0.0, 0.003, -0.001)  # mean 0, s^2 = 7.5e-6 over 5 folds
N_TRAIN, N_TEST = 624, 156  # BUSI's 780 images in 5 folds
REPRODUCED = "backbone=resnet50|optimizer=adagrad|strategy=mstl"  # published 0.99
DIFFERENT = "backbone=inceptionv3|optimizer=adam|strategy=ctl"  # published 0.705
TWO_FOLDS = "backbone=efficientnetb2|optimizer=sgd|strategy=mstl"  # published 0.765
FOLDS = {
    REPRODUCED: [0.985 + e for e in NOISE],  # 0.005 below: inside a 0.02 margin
    DIFFERENT: [0.805 + e for e in NOISE],  # 0.1 above
    TWO_FOLDS: [0.755, 0.775],  # two folds only
}


def store_reproduction(path: Path) -> None:
    """The fold results a reproduction stored: accuracy per fold of three of the cells."""
    store = Store(path)
    try:
        run_id = store.begin_run(
            suite="repro", suite_hash="feedc0de", profile="paper", command="", provenance={}
        )
        records = [
            FoldRecord(
                job=f"{cell}|f{fold}",
                cell=cell,
                factors=dict(part.split("=") for part in cell.split("|")),
                repeat=0,
                fold=fold,
                n_train=N_TRAIN,
                n_val=0,
                n_test=N_TEST,
                threshold=0.5,
                params={},
                scores={"accuracy": value},
                samples=[],
                y_true=[],
                proba=[],
                history={},
            )
            for cell, values in FOLDS.items()
            for fold, value in enumerate(values)
        ]
        rows = [PlanRow.of_fold(r, label=r.job) for r in records]
        store.record_plan(suite_hash="feedc0de", profile="paper", rows=rows)
        for record in records:
            store.record_fold(record, label=record.job, run_id=run_id, started=0.0)
        store.end_run(run_id, status="done")
    finally:
        store.close()


@pytest.fixture
def results(tmp_path, monkeypatch, capsys):
    """Table 1 imported as ayana2022-table1 and the reproduction stored as repro."""
    monkeypatch.chdir(tmp_path)
    assert main(["import", str(TABLE), "--suite", "ayana2022-table1"]) == 0
    assert "imported 18 rows" in capsys.readouterr().out
    store_reproduction(tmp_path / "results" / "repro" / "bench.sqlite")
    return tmp_path


ARGS = ["compare", "repro", "--published", "ayana2022-table1", "--margin", "0.02"]


def test_verdicts_and_their_numbers(results, capsys):
    assert main([*ARGS, "--format", "json"]) == 0
    captured = capsys.readouterr()
    rows = {row["published_cell"]: row for row in json.loads(captured.out)}
    assert set(rows) == set(FOLDS)
    assert {cell: row["verdict"] for cell, row in rows.items()} == {
        REPRODUCED: "reproduced",
        DIFFERENT: "differs",
        TWO_FOLDS: "inconclusive",
    }
    # The reproduced cell by hand: corrected SE over 5 folds, 90% interval, both p < 0.05.
    row = rows[REPRODUCED]
    se = math.sqrt((1 / 5 + N_TEST / N_TRAIN) * 7.5e-6)
    assert (row["n"], row["published"], row["mean"]) == (5, 0.99, pytest.approx(0.985))
    assert row["difference"] == pytest.approx(-0.005, abs=1e-12)
    half = stats.t.ppf(0.95, 4) * se
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((-0.005 - half, -0.005 + half))
    assert row["p_lower"] == pytest.approx(stats.t.sf((-0.005 + 0.02) / se, 4), rel=1e-9)
    assert row["p_upper"] == pytest.approx(stats.t.cdf((-0.005 - 0.02) / se, 4), rel=1e-9)
    assert max(row["p_lower"], row["p_upper"]) < 0.05
    # Outside the margin: the whole interval lies above +0.02.
    assert rows[DIFFERENT]["difference"] == pytest.approx(0.1) and rows[DIFFERENT]["ci_low"] > 0.02
    # Two folds: df 1, the interval straddles the margin.
    two = rows[TWO_FOLDS]
    assert (two["n"], two["df"]) == (2, 1.0) and two["ci_low"] < -0.02 < 0.02 < two["ci_high"]
    assert "Nadeau-Bengio corrected standard error, margin ±0.02, alpha 0.05" in captured.err
    assert "3 verdicts (published cell × metric): 1 reproduced, 1 differs, 1 inconclusive" in (
        captured.err
    )
    (missing,) = [line for line in captured.err.splitlines() if "not in the reproduction" in line]
    assert len(missing.split(", ")) == 18 - 3
    assert "backbone=inceptionv3|optimizer=sgd|strategy=ctl" in missing


def test_markdown_names_the_numbers(results, capsys):
    assert main(ARGS) == 0
    out = capsys.readouterr().out
    header = out.splitlines()[0]
    for column in ("reproduced", "published", "difference", "90% CI", "p(d ≤ −0.02)", "verdict"):
        assert column in header
    line = next(line for line in out.splitlines() if "resnet50" in line and "adagrad" in line)
    assert "| 0.985 " in line and "| 0.99 " in line and "reproduced" in line


def test_a_margin_wide_enough_reproduces_the_other_cell(results, capsys):
    assert main([*ARGS[:-1], "0.2", "--format", "json"]) == 0
    rows = {row["published_cell"]: row for row in json.loads(capsys.readouterr().out)}
    assert rows[DIFFERENT]["verdict"] == "reproduced"


def test_an_unknown_table_names_the_imported_ones(results, capsys):
    assert main(["compare", "repro", "--published", "ayana2021", "--margin", "0.02"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("bench: error: published table 'ayana2021': no imported table of that")
    assert "(imported: ayana2022-table1)" in err  # repro is a reproduction, not an import


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["compare", "repro", "--published", "ayana2022-table1"], "no equivalence margin"),
        ([*ARGS, "--factor", "strategy"], "--published tests each cell against the table; drop"),
        ([*ARGS, "--metric", "auc"], "metric auc is not in both tables; choose from: accuracy"),
        (["compare", "repro", "--metric", "auc"], "give --factor, --baseline (or --published"),
    ],
)
def test_mistakes_are_one_line(results, capsys, argv, message):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1, err


def test_the_report_section_when_the_suite_names_the_table(results):
    from bench.report.document import build_document
    from bench.report.figures import FigureSet
    from bench.report.inputs import load_inputs
    from bench.report.markdown_report import markdown_document
    from bench.report.target import resolve_target
    from bench.report.write import ReportRequest, analyse

    target = resolve_target("repro")
    target = dataclasses.replace(target, published="ayana2022-table1", margin=0.02)
    inputs = load_inputs(target.store_path, suite_hash=None, profile=None)
    analysis = analyse(target, inputs, request=ReportRequest(metrics=("accuracy",)))
    assert analysis.reproduction.counts() == {"reproduced": 1, "differs": 1, "inconclusive": 1}
    document = build_document(
        target=target, inputs=inputs, analysis=analysis, figures=FigureSet(files=(), notes=())
    )
    (section,) = [s for s in document.sections if s.title == "Reproduction of ayana2022-table1"]
    (table,) = section.tables
    verdicts = {row[1].text: row[-1].text for row in table.rows}
    assert verdicts[REPRODUCED] == "reproduced" and verdicts[DIFFERENT] == "differs"
    markdown = markdown_document(document)
    assert "Reproduction of ayana2022-table1" in markdown
    assert "1 reproduced, 1 differs, 1 inconclusive" in markdown


def test_the_report_says_why_when_the_table_is_missing(results):
    from bench.report.inputs import load_inputs
    from bench.report.target import resolve_target
    from bench.report.write import ReportRequest, analyse

    target = dataclasses.replace(resolve_target("repro"), published="other", margin=0.02)
    inputs = load_inputs(target.store_path, suite_hash=None, profile=None)
    analysis = analyse(target, inputs, request=ReportRequest(metrics=("accuracy",)))
    assert analysis.reproduction.startswith(
        "No verdicts against other: published table 'other': no imported table of that name"
    )
