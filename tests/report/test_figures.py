"""Figures: drawn from binary and multi-class stores, not blank, skipped with a reason."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from bench.report.figures.critical_difference import rank_table
from bench.report.figures.roc import fold_curve, roc_points
from bench.report.write import ReportRequest, write_report
from bench.store.imports import import_csv
from tests.report.conftest import StoreSpec, build_store, tiny_target

# One dataset's report: the critical-difference diagram needs several datasets (--across).
STEMS = (
    "roc",
    "learning_curves",
    "confusion_matrices",
    "fold_scores",
    "gain_heatmap",
    "reliability",
    "pareto",
)


def assert_not_blank(png):
    """An image with visible content: varied grey levels, some dark pixels, not all white."""
    grey = np.asarray(Image.open(png).convert("L"), dtype=float)
    assert grey.shape[0] > 200 and grey.shape[1] > 200, grey.shape
    assert grey.std() > 15, f"{png.name}: grey levels barely vary (sd {grey.std():.1f})"
    assert (grey < 100).mean() > 0.002, f"{png.name}: almost nothing dark"
    assert (grey > 250).mean() < 0.98, f"{png.name}: almost all white"


@pytest.fixture(scope="module", params=[2, 3], ids=["binary", "three-class"])
def figures(request, tmp_path_factory):
    target = tiny_target(tmp_path_factory.mktemp(f"classes{request.param}"))
    build_store(target.store_path, StoreSpec(classes=request.param))
    write_report(target, request=ReportRequest())
    return target.out_dir / "figures", request.param


@pytest.mark.parametrize("stem", STEMS)
def test_every_figure_is_written_as_png_and_pdf_and_is_not_blank(figures, stem):
    directory, _ = figures
    assert_not_blank(directory / f"{stem}.png")
    pdf = (directory / f"{stem}.pdf").read_bytes()
    assert pdf.startswith(b"%PDF") and len(pdf) > 2000 and b"CreationDate" not in pdf


def test_one_dataset_gets_no_critical_difference_diagram_and_is_told_why(figures):
    directory, _ = figures
    assert not (directory / "critical_difference.png").exists()
    text = (directory.parent / "report.md").read_text(encoding="utf-8")
    assert "Friedman and Nemenyi rank methods across independent datasets" in text
    assert "bench report --across" in text


def test_across_report_ranks_shared_methods_over_datasets(tmp_path):
    import sqlite3

    from bench.report.across import write_across_report

    targets = []
    for index, name in enumerate(("first", "second", "third")):
        target = tiny_target(tmp_path / name, name=name)
        build_store(target.store_path)
        with sqlite3.connect(target.store_path) as db:  # datasets that rank methods apart
            db.execute(
                "UPDATE scores SET value = value * 0.9 WHERE metric = 'auc' AND job IN "
                "(SELECT job FROM fold_results WHERE cell LIKE ?)",
                (f"%optimizer={('adam', 'sgd', 'adam')[index]}%",),
            )
        targets.append(target)
    files = write_across_report(targets, metric="auc", out=tmp_path / "across")
    assert_not_blank(tmp_path / "across" / "figures" / "critical_difference.png")
    text = files[0].read_text(encoding="utf-8")
    assert "Ranking across 3 datasets on AUC" in text
    assert "Iman" in text and "CD = " in text


def test_multiclass_report_says_macro_one_vs_rest(figures):
    directory, classes = figures
    text = (directory.parent / "report.md").read_text(encoding="utf-8")
    expected = "macro one-vs-rest ROC" if classes == 3 else "ROC (class 1 positive)"
    assert expected in text


def test_roc_points_and_auc_match_a_hand_computation():
    positive = np.array([True, False, True, False])
    score = np.array([0.9, 0.8, 0.7, 0.1])
    fpr, tpr = roc_points(positive, score)
    assert fpr.tolist() == [0.0, 0.0, 0.5, 0.5, 1.0]
    assert tpr.tolist() == [0.0, 0.5, 0.5, 1.0, 1.0]
    _, auc = fold_curve(positive.astype(int), np.column_stack([1 - score, score]))
    assert auc == pytest.approx(0.75)  # 3 of the 4 positive-negative pairs ranked right


def test_roc_of_a_fold_without_both_classes_is_undefined():
    assert fold_curve(np.array([1, 1]), np.array([[0.2, 0.8], [0.4, 0.6]])) is None


@pytest.fixture
def imported(tmp_path, monkeypatch):
    """An imported table, one score per cell, reported by its results name from the CLI."""
    monkeypatch.chdir(tmp_path)
    rows = [
        f"{s},{b},{o},{0.70 + 0.05 * i + 0.01 * j + 0.004 * k + 0.003 * i * j * k:.3f}"
        for i, s in enumerate(["ctl", "mstl"])
        for j, b in enumerate(["resnet50", "inceptionv3"])
        for k, o in enumerate(["sgd", "adam", "adagrad"])
    ]
    (tmp_path / "published.csv").write_text("strategy,backbone,optimizer,auc\n" + "\n".join(rows))
    import_csv(tmp_path / "published.csv", suite="paper")
    return tmp_path


def test_imported_results_report_by_name_and_skip_figures_with_a_note(imported):
    from bench.cli import main

    assert main(["report", "paper", "--latex", "--html", "--baseline", "ctl"]) == 0
    out = imported / "reports" / "paper"
    text = (out / "report.md").read_text(encoding="utf-8")
    for reason in (
        "ROC curves need stored per-sample predictions",
        "learning curves need stored per-epoch histories",
        "confusion matrices need stored per-sample predictions",
        "fold-score distributions: every cell has a single score",
        "critical-difference diagram: Friedman and Nemenyi rank methods across independent",
    ):
        assert f"Not drawn: {reason}" in text
    assert "paired t-test on per-cell means" in text and "Stage reuse" not in text
    assert f"- source: {imported / 'published.csv'}" in text and "profile imported" in text
    assert_not_blank(out / "figures" / "gain_heatmap.png")
    assert sorted(p.name for p in (out / "figures").iterdir()) == [
        "gain_heatmap.pdf",
        "gain_heatmap.png",
    ]


def test_datasets_are_the_blocks_of_the_cd_diagram_when_there_are_several():
    import pandas as pd

    scores = pd.DataFrame(
        {
            "cell": [f"{d}|{m}" for d in "xyz" for m in "ab"],
            "dataset": [d for d in "xyz" for _ in "ab"],
            "method": [m for _ in "xyz" for m in "ab"],
            "repeat": 0,
            "fold": 0,
            "auc": [0.9, 0.8, 0.7, 0.6, 0.8, 0.85],
        }
    )
    ranked = rank_table(scores, metric="auc", factors=("dataset", "method"))
    assert ranked.blocks == "datasets"
    assert ranked.table.shape == (3, 2)
    assert ranked.table.loc["z"].tolist() == [0.8, 0.85]


def test_forked_and_serial_drawing_write_the_same_files(tmp_path, monkeypatch):
    from bench.report import figures

    outputs = {}
    for forked in (True, False):
        monkeypatch.setattr(figures, "_can_fork", lambda forked=forked: forked)
        target = tiny_target(tmp_path / str(forked))
        build_store(target.store_path)
        write_report(target, request=ReportRequest())
        directory = target.out_dir / "figures"
        outputs[forked] = {p.name: p.read_bytes() for p in sorted(directory.iterdir())}
    assert outputs[True] == outputs[False]
    assert len(outputs[True]) == 2 * len(STEMS)


def test_fold_scores_draw_every_fold_in_the_box_and_at_most_max_points_as_points():
    from bench.report.figures.distributions import MAX_POINTS, CellScores, draw

    many = CellScores(label="a", group="scratch", values=np.linspace(0.5, 0.9, 250))
    few = CellScores(label="b", group="ctl", values=np.array([0.6, 0.7, 0.8]))
    figure = draw((many, few), metric="auc", groups=("scratch", "ctl"))
    axes = figure.axes[0]
    drawn = [c.get_offsets()[:, 0] for c in axes.collections if len(c.get_offsets())]
    assert [len(x) for x in drawn] == [MAX_POINTS, 3]
    assert drawn[0].min() == 0.5 and drawn[0].max() == 0.9  # spaced through, ends kept
    whiskers = [line.get_xdata() for line in axes.lines]
    assert min(min(x) for x in whiskers) == pytest.approx(0.5)  # the box covers all 250
