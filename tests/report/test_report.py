"""``bench report`` end to end on small stores: golden files, determinism, formats, errors."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bench.errors import BenchError
from bench.report.write import ReportRequest, write_report
from tests.report.conftest import StoreSpec, build_store, tiny_target

GOLDEN = Path(__file__).parent / "golden"
DATE = re.compile(r"generated: \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC")
EVERYTHING = ReportRequest(latex=True, html=True)


def masked(text: str) -> str:
    """The report text with its one varying line, the generation date, masked."""
    return DATE.sub("generated: <date>", text)


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """The binary test store's full report (latex and html), written once for reading."""
    target = tiny_target(tmp_path_factory.mktemp("report"))
    build_store(target.store_path)
    return written(target)


def written(target, request: ReportRequest = EVERYTHING) -> dict[str, Path]:
    return {
        path.relative_to(target.out_dir).as_posix(): path
        for path in write_report(target, request=request)
    }


def test_writes_every_document_table_and_figure(report):
    files = report
    stems = ["roc", "learning_curves", "confusion_matrices", "fold_scores",
             "gain_heatmap", "reliability", "pareto"]  # fmt: skip
    assert list(files) == [
        "report.md",
        "leaderboard.md",
        "folds.csv",
        "leaderboard.tex",
        "comparisons.tex",
        "report.tex",
        "report.html",
        *(f"figures/{stem}.{suffix}" for stem in stems for suffix in ("png", "pdf")),
    ]
    assert all(path.stat().st_size > 0 for path in files.values())


def test_without_flags_only_markdown_csv_and_figures(binary_store):
    files = written(binary_store, ReportRequest())
    assert [name for name in files if not name.startswith("figures/")] == [
        "report.md",
        "leaderboard.md",
        "folds.csv",
    ]


@pytest.mark.parametrize("name", ["report.md", "report.tex"])
def test_report_matches_the_golden_file(report, name):
    text = masked(report[name].read_text(encoding="utf-8"))
    path = GOLDEN / name
    if os.environ.get("BENCH_UPDATE_GOLDEN") == "1":
        path.write_text(text, encoding="utf-8")
        pytest.skip(f"rewrote {path}; check it by eye before committing")
    assert text == path.read_text(encoding="utf-8")


def test_same_store_gives_the_same_files_but_the_date(report, tmp_path):
    first = {name: path.read_bytes() for name, path in report.items()}
    target = tiny_target(tmp_path)
    build_store(target.store_path)
    again = {name: path.read_bytes() for name, path in written(target).items()}
    assert first.keys() == again.keys()
    for name in first:
        if name.endswith((".md", ".tex", ".html")):
            assert masked(first[name].decode()) == masked(again[name].decode()), name
        else:
            assert first[name] == again[name], name


def test_leaderboard_marks_the_strategy_that_beats_the_baseline(report):
    text = report["report.md"].read_text(encoding="utf-8")
    board = text.split("## Comparison")[0]
    ctl_rows = [line for line in board.splitlines() if "| ctl " in line]
    scratch_rows = [line for line in board.splitlines() if "| scratch " in line]
    assert len(ctl_rows) == 4 and all(line.count("↑") == 3 for line in ctl_rows)
    assert scratch_rows and not any("↑" in line or "↓" in line for line in scratch_rows)
    assert "Nadeau-Bengio corrected t-test on (repeat, fold) means" in board
    assert "Holm-adjusted p ≤ 0.05" in board


def test_csv_holds_every_fold_at_full_precision(report):
    lines = report["folds.csv"].read_text().splitlines()
    assert lines[0] == (
        "backbone,optimizer,strategy,cell,repeat,fold,n_train,n_test,threshold,params,"
        "accuracy,auc,loss"
    )
    assert len(lines) == 1 + 8 * 2 * 3


def test_tuned_hyperparameters_are_summarised_per_cell(tmp_path):
    target = tiny_target(tmp_path)
    build_store(target.store_path, StoreSpec(tuned=True))
    text = written(target, ReportRequest())["report.md"].read_text(encoding="utf-8")
    section = text.split("## Tuned hyperparameters")[1].split("## ")[0]
    row = next(line for line in section.splitlines() if "| small_cnn   | sgd " in line)
    # learning rates over folds 0..2 × 2 repeats with backbone 0: 1e-3, 3e-4, 1e-4 twice
    assert [cell.strip() for cell in row.strip("|").split("|")][3:] == [
        "0.5",
        "dense128 (4/6)",
        "0.0003 [0.0001, 0.001]",
    ]


def test_shared_stages_show_their_kept_accuracy_and_flag_the_one_near_chance(report):
    text = report["report.md"].read_text(encoding="utf-8")
    section = text.split("## Shared stages", 1)[1].split("\n## ", 1)[0]
    assert "1 of 2 ended near chance" in section
    rows = [line for line in section.splitlines() if "/pretrain:natural" in line]
    cells = [[c.strip() for c in row.strip("|").split("|")] for row in rows]
    # stage 0 keeps epoch 3 (val loss 0.9): accuracy 0.70; stage 1 keeps epoch 2 (1.0): 0.20,
    # under 0.125 + 0.25 * 0.875 = 0.344
    assert cells == [
        ["small_cnn/pretrain:natural", "3", "3", "0.700", "0.125", "yes"],
        ["mobilenetv2/pretrain:natural", "3", "2", "0.200", "0.125", "near chance"],
    ]


def test_untuned_results_have_no_hyperparameter_section(report):
    assert "Tuned hyperparameters" not in report["report.md"].read_text()


def test_html_embeds_tables_and_figures(report):
    page = report["report.html"].read_text(encoding="utf-8")
    assert page.count("<table>") == 13  # 7 + shared stages + 4 clinical + per-fold per-class
    assert '<img src="data:image/png;base64,' in page and 'src="figures/' not in page
    assert "<strong>0.810 ± 0.015 ↑</strong>" in page


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is not installed")
def test_standalone_latex_report_compiles_with_plain_pdflatex(report):
    out = report["report.tex"].parent
    run = subprocess.run(
        ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "report.tex"],
        cwd=out,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert run.returncode == 0, run.stdout[-3000:]
    assert (out / "report.pdf").stat().st_size > 10_000


def test_missing_store_says_how_to_make_it(tmp_path):
    with pytest.raises(BenchError, match=r"bench\.sqlite: run the test fixture first"):
        write_report(tiny_target(tmp_path))


def test_unknown_baseline_is_refused_with_the_levels(binary_store):
    with pytest.raises(BenchError, match="baseline 'ctl-fe' is not a level of strategy; its"):
        written(binary_store, ReportRequest(baseline="ctl-fe"))


def test_unknown_metric_is_refused_with_a_suggestion(binary_store):
    with pytest.raises(BenchError, match="unknown metric 'acc'"):
        written(binary_store, ReportRequest(metrics=("acc",)))


def test_a_metric_the_store_lacks_is_refused_before_any_test_runs(binary_store):
    with pytest.raises(BenchError, match=r"lacks column\(s\) \['brier'\]"):
        written(binary_store, ReportRequest(metrics=("auc", "brier")))


def test_without_baseline_the_report_says_so_and_marks_nothing(tmp_path):
    target = tiny_target(tmp_path, baseline=None)
    build_store(target.store_path)
    text = written(target, ReportRequest())["report.md"].read_text(encoding="utf-8")
    assert "no baseline strategy: set [report] baseline or pass --baseline" in text
    assert "↑" not in text and "gain heatmap: no baseline strategy" in text


def test_report_never_imports_tensorflow(binary_store):
    root = binary_store.out_dir.parents[1]
    code = (
        "import sys, pathlib\n"
        "from bench.report.write import write_report\n"
        "from tests.report.conftest import tiny_target\n"
        f"write_report(tiny_target(pathlib.Path({str(root)!r})))\n"
        "print(sorted({'tensorflow', 'keras'} & set(sys.modules)))\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).parents[2],
    )
    assert run.stdout.strip() == "[]"


def test_imports_stay_light():
    heavy = "{'pandas', 'scipy', 'matplotlib', 'tabulate', 'tensorflow', 'keras'}"
    code = (
        "import sys, bench.report.write, bench.report.figures, bench.report.target; "
        f"print(sorted({heavy} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_a_suite_naming_a_card_reports_its_conformance_and_deviations(tmp_path):
    from dataclasses import replace

    from bench.config import load_suite
    from bench.engine.conformance import check_conformance

    text = (Path("suites") / "skin.toml").read_text()
    suite_file = tmp_path / "skin.toml"
    suite_file.write_text(
        text.replace(
            "repeats = 5",
            'repeats = 3\n\n[profiles.paper.deviations]\n"protocol.repeats" = "budget"',
        )
    )
    suite = load_suite(suite_file, profile="paper")
    target = replace(tiny_target(tmp_path), protocol_check=check_conformance(suite).report(suite))
    build_store(target.store_path)
    files = written(target)
    markdown = files["report.md"].read_text(encoding="utf-8")
    section = markdown.split("## Published protocol", 1)[1].split("\n## ", 1)[0]
    assert "card 'mukhlif2023': 69 ok, 0 differs, 1 deviation, 7 unstated" in section
    assert "- protocol.repeats: budget" in section
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in section.splitlines()]
    assert ["protocol.repeats", "", "5", "3", "deviation (budget)"] in rows
    assert [
        "dtl.pool.trainable_layers",
        "xception",
        "19",
        "freeze_first:115 (19 of 134 layers train)",
        "ok",
    ] in rows
    assert "Published protocol" in files["report.tex"].read_text(encoding="utf-8")
    assert "dtl.pool.trainable\\_layers" in files["report.tex"].read_text(encoding="utf-8")
    assert "deviation (budget)" in files["report.html"].read_text(encoding="utf-8")
