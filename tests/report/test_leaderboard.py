"""Leaderboard numbers checked by hand, renderings checked against golden files."""

import os
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bench.errors import BenchError
from bench.report.appendix import folds_table
from bench.report.leaderboard import (
    build_leaderboard,
    ranges_table,
    render_latex,
    render_markdown,
)
from bench.report.table import latex_escape, to_markdown

GOLDEN = Path(__file__).parent / "golden"

CELLS = {  # cell -> (backbone, optimizer)
    "c1": ("resnet50", "adam"),
    "c2": ("efficientnet_b0", "sgd"),
    "c3": ("small_cnn", "adam"),
}
# Per cell: repeat 0 folds 0, 1, 2, then repeat 1 folds 0, 1, 2. The AUCs of c1 and c2
# are binary fractions summing to exactly 5.0, so their means tie exactly.
SCORES = {
    "accuracy": {
        "c1": [0.80, 0.85, 0.90, 0.80, 0.85, 0.90],
        "c2": [0.70, 0.75, 0.80, 0.75, 0.75, 0.80],
        "c3": [0.90, 0.95, 0.90, 0.95, 0.90, 0.95],
    },
    "auc": {
        "c1": [0.75, 0.875, 0.875, 0.75, 0.875, 0.875],
        "c2": [0.8125, 0.8125, 0.875, 0.8125, 0.8125, 0.875],
        "c3": [0.5, 0.625, 0.75, 0.625, 0.625, 0.5],
    },
    "loss": {
        "c1": [0.40, 0.35, 0.30, 0.45, 0.35, 0.30],
        "c2": [0.30, 0.25, 0.20, 0.25, 0.25, 0.20],
        "c3": [0.60, 0.55, 0.70, 0.65, 0.60, 0.55],
    },
    "mcc": {
        "c1": [0.60, 0.70, 0.65, 0.55, 0.70, 0.60],
        "c2": [0.50, 0.45, 0.55, 0.50, 0.40, 0.60],
        "c3": [-0.10, 0.00, -0.20, -0.10, 0.10, -0.10],
    },
}
LEGEND = {"↑": "better than small_cnn/adam (corrected resampled t-test, Holm p < 0.05)"}
BOLD = {  # (metric header, cell) of each best mean: highest, lowest for loss, ties both
    ("Accuracy", "c3"),
    ("AUC", "c1"),
    ("AUC", "c2"),
    ("Loss", "c2"),
    ("MCC", "c1"),
}


def fixed_scores(*, attrs=True):
    records = [
        {
            "cell": cell,
            "backbone": backbone,
            "optimizer": optimizer,
            "repeat": i // 3,
            "fold": i % 3,
            "n_train": 40,
            "n_test": 20,
            **{metric: values[cell][i] for metric, values in SCORES.items()},
        }
        for cell, (backbone, optimizer) in CELLS.items()
        for i in range(6)
    ]
    scores = pd.DataFrame(records)
    if attrs:
        scores.attrs["factors"] = ("backbone", "optimizer")
    return scores


def fixed_board():
    return build_leaderboard(fixed_scores(), marks={("c2", "auc"): "↑"}, legend=LEGEND)


def fixed_latex():
    return render_latex(
        fixed_board(),
        caption="Leaderboard on synthetic_ultrasound (AUC: 100%)",
        label="tab:leaderboard",
    )


def markdown_cells(text):
    """{(header, first label): cell text} from a tabulate github table."""
    lines = [line for line in text.splitlines() if line.startswith("|")]
    split = [[cell.strip() for cell in line.strip("|").split("|")] for line in lines]
    header, rows = split[0], split[2:]
    return {
        (column, row[1]): cell for row in rows for column, cell in zip(header, row, strict=True)
    }


def test_ranks_ties_share_the_smallest_rank_and_rows_are_sorted_best_first():
    board = fixed_board()
    assert board.sort == "auc"
    assert [(row.cell, row.rank) for row in board.rows] == [("c2", 1), ("c1", 1), ("c3", 3)]
    assert [row.levels for row in board.rows][2] == ("small_cnn", "adam")


@pytest.mark.parametrize("metric", list(SCORES))
@pytest.mark.parametrize("cell", list(CELLS))
def test_means_sds_and_per_repeat_ranges_match_a_hand_computation(cell, metric):
    values = SCORES[metric][cell]
    repeat_means = [statistics.mean(values[:3]), statistics.mean(values[3:])]
    summary = {row.cell: row for row in fixed_board().rows}[cell].scores[metric]
    assert summary.mean == pytest.approx(statistics.mean(values), abs=1e-15)
    assert summary.sd == pytest.approx(statistics.stdev(values), rel=1e-12)
    assert summary.repeat_min == pytest.approx(min(repeat_means), abs=1e-15)
    assert summary.repeat_max == pytest.approx(max(repeat_means), abs=1e-15)


def test_n_counts_folds_times_repeats():
    assert {row.n for row in fixed_board().rows} == {6}


def test_best_mean_is_bold_in_markdown_lowest_for_loss_and_every_tie():
    cells = markdown_cells(render_markdown(fixed_board()))
    by_label = {levels[0]: cell for cell, levels in CELLS.items()}
    bold = {
        (header, by_label[label])
        for (header, label), text in cells.items()
        if text.startswith("**")
    }
    assert bold == BOLD
    assert cells[("Loss", "efficientnet_b0")] == "**0.242 ± 0.038**"
    assert cells[("AUC", "efficientnet_b0")] == "**0.833 ± 0.032 ↑**"


def test_best_mean_is_bold_in_latex():
    rows = [line for line in fixed_latex().splitlines() if line[:1].isdigit()]
    metrics = ["Accuracy", "AUC", "Loss", "MCC"]
    bold = {
        (metric, cell)
        for line, cell in zip(rows, ["c2", "c1", "c3"], strict=True)
        for metric, text in zip(metrics, line.split(" & ")[4:], strict=True)
        if r"\textbf" in text
    }
    assert bold == BOLD


def test_sort_by_a_lower_is_better_metric_ranks_the_lowest_first():
    board = build_leaderboard(fixed_scores(), sort="loss")
    assert [(row.cell, row.rank) for row in board.rows] == [("c2", 1), ("c1", 2), ("c3", 3)]


def test_default_metrics_follow_metrics_order_and_sort_falls_back_to_the_first():
    scores = fixed_scores()[
        ["mcc", "loss", "cell", "backbone", "optimizer", "repeat", "fold", "accuracy"]
    ]
    scores.attrs["factors"] = ("backbone", "optimizer")
    board = build_leaderboard(scores)
    assert board.metrics == ("accuracy", "loss", "mcc")
    assert board.sort == "accuracy"
    assert [row.cell for row in board.rows] == ["c3", "c1", "c2"]


def test_one_fold_has_no_sd_and_a_nan_score_makes_the_mean_nan_and_ranks_last():
    scores = fixed_scores()
    scores.loc[(scores.cell == "c1") & (scores.fold == 2), "auc"] = np.nan
    single = scores[(scores.cell != "c3") | ((scores.repeat == 0) & (scores.fold == 0))]
    board = build_leaderboard(single)
    rows = {row.cell: row for row in board.rows}
    assert np.isnan(rows["c1"].scores["auc"].mean)
    assert [(row.cell, row.rank) for row in board.rows] == [("c2", 1), ("c3", 2), ("c1", 3)]
    assert rows["c3"].n == 1 and np.isnan(rows["c3"].scores["auc"].sd)
    cells = markdown_cells(render_markdown(board))
    assert cells[("AUC", "resnet50")] == "–"
    assert cells[("AUC", "small_cnn")] == "0.500 ± –"
    assert "0.500 $\\pm$ --" in render_latex(board)


def test_factors_argument_overrides_attrs_and_no_factors_shows_cell_ids():
    board = build_leaderboard(fixed_scores(attrs=False), factors=["optimizer"])
    assert board.factors == ("optimizer",)
    assert [row.levels for row in board.rows] == [("adam",), ("sgd",), ("adam",)]
    plain = render_markdown(build_leaderboard(fixed_scores(), factors=()))
    assert plain.splitlines()[0].split("|")[2].strip() == "cell"
    assert markdown_cells(plain)[("AUC", "c3")] == "0.604 ± 0.094"


def test_marks_need_a_legend_and_known_cells_and_metrics():
    with pytest.raises(BenchError, match=r"symbol\(s\) \['↓'\] without a legend"):
        build_leaderboard(fixed_scores(), marks={("c1", "auc"): "↓"}, legend=LEGEND)
    with pytest.raises(BenchError, match=r"not in the table: \[\('c9', 'auc'\)\]"):
        build_leaderboard(fixed_scores(), marks={("c9", "auc"): "↑"}, legend=LEGEND)
    with pytest.raises(BenchError, match=r"not in the table: \[\('c1', 'brier'\)\]"):
        build_leaderboard(fixed_scores(), marks={("c1", "brier"): "↑"}, legend=LEGEND)


def test_legend_line_only_when_a_score_is_marked():
    assert render_markdown(fixed_board()).endswith(f"\n\n↑ {LEGEND['↑']}\n")
    unmarked = build_leaderboard(fixed_scores(), legend=LEGEND)
    assert "↑" not in render_markdown(unmarked)
    assert "uparrow" not in render_latex(unmarked) and "footnotesize" not in render_latex(unmarked)


def test_marks_become_math_arrows_in_latex():
    assert r"\textbf{0.833 $\pm$ 0.032 $\uparrow$}" in fixed_latex()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"metrics": ["acuracy"]}, "unknown metric 'acuracy'; did you mean 'accuracy'"),
        ({"metrics": ["auc"], "sort": "loss"}, r"cannot sort by 'loss'.*\('auc',\)"),
        ({"metrics": ["brier"]}, r"lacks column\(s\) \['brier'\]"),
    ],
)
def test_bad_requests_are_refused_with_the_fix(kwargs, message):
    with pytest.raises(BenchError, match=message):
        build_leaderboard(fixed_scores(), **kwargs)


def test_bad_tables_are_refused():
    with pytest.raises(BenchError, match="does not name its grid factors"):
        build_leaderboard(fixed_scores(attrs=False))
    doubled = pd.concat([fixed_scores(), fixed_scores().iloc[[4]]])
    with pytest.raises(BenchError, match="cell 'c1', repeat 1, fold 1 more than once"):
        build_leaderboard(doubled, factors=["backbone"])
    mixed = fixed_scores()
    mixed.loc[3, "optimizer"] = "sgd"
    with pytest.raises(BenchError, match="cell 'c1' has more than one level"):
        build_leaderboard(mixed)
    with pytest.raises(BenchError, match="no metric column"):
        build_leaderboard(fixed_scores()[["cell", "repeat", "fold"]], factors=())


def test_latex_escape_handles_specials_in_one_pass():
    assert latex_escape("a_b 50% R&D") == r"a\_b 50\% R\&D"
    assert latex_escape(r"\x{#$~^}<|>") == (
        r"\textbackslash{}x\{\#\$\textasciitilde{}\textasciicircum{}\}"
        r"\textless{}\textbar{}\textgreater{}"
    )


def test_latex_escapes_factor_levels_and_caption():
    scores = fixed_scores()
    scores["backbone"] = scores["backbone"].str.replace("resnet50", "res_net 50% & more")
    latex = render_latex(build_leaderboard(scores), caption="a_b 5%")
    assert r"res\_net 50\% \& more" in latex
    assert r"\caption{a\_b 5\%}" in latex
    assert r"\label" not in latex


def test_markdown_escapes_a_pipe_in_a_level():
    scores = fixed_scores()
    scores["optimizer"] = scores["optimizer"].str.replace("sgd", "sgd|nesterov")
    assert r"sgd\|nesterov" in render_markdown(build_leaderboard(scores))


@pytest.mark.parametrize(
    ("name", "render"),
    [
        ("leaderboard.md", lambda: render_markdown(fixed_board())),
        ("leaderboard.tex", fixed_latex),
    ],
)
def test_rendering_matches_the_golden_file(name, render):
    path = GOLDEN / name
    if os.environ.get("BENCH_UPDATE_GOLDEN") == "1":
        path.write_text(render(), encoding="utf-8")
        pytest.skip(f"rewrote {path}; check it by eye before committing")
    assert render() == path.read_text(encoding="utf-8")


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is not installed")
def test_latex_table_compiles_with_plain_pdflatex(tmp_path):
    document = "\n".join(
        [
            r"\documentclass{article}",
            r"\usepackage{booktabs}",
            r"\begin{document}",
            fixed_latex(),
            r"\end{document}",
            "",
        ]
    )
    (tmp_path / "table.tex").write_text(document, encoding="utf-8")
    run = subprocess.run(
        ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "table.tex"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout[-2000:]
    assert (tmp_path / "table.pdf").stat().st_size > 0


def test_folds_appendix_has_one_row_per_cell_repeat_and_fold():
    scores = fixed_scores()
    text = to_markdown(
        folds_table(scores, metrics=["auc", "loss"], factors=scores.attrs["factors"])
    )
    lines = text.splitlines()
    assert [c.strip() for c in lines[0].strip("|").split("|")] == [
        "backbone",
        "optimizer",
        "Repeat",
        "Fold",
        "n train",
        "n test",
        "AUC",
        "Loss",
    ]
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in lines[2:]]
    assert len(rows) == 3 * 2 * 3
    assert rows[0] == ["efficientnet_b0", "sgd", "0", "0", "40", "20", "0.812", "0.300"]
    assert rows[-1] == ["small_cnn", "adam", "1", "2", "40", "20", "0.500", "0.550"]
    assert [row[0] for row in rows] == sorted(row[0] for row in rows)


def test_folds_appendix_stops_at_the_limit_and_says_where_the_rest_is():
    scores = fixed_scores()
    table = folds_table(scores, metrics=["auc"], factors=scores.attrs["factors"], limit=5)
    assert len(table.rows) == 5
    assert table.note == "The first 5 of 18 fold results; folds.csv holds all of them."


def test_repeat_ranges_are_the_extreme_per_repeat_means():
    table = ranges_table(fixed_board())
    row = {r[0].text: r for r in table.rows}["small_cnn"]
    # small_cnn accuracy: repeat 0 mean 0.9167, repeat 1 mean 0.9333
    assert [e.text for e in row[2:4]] == ["2", "0.917 – 0.933"]
    assert fixed_board().has_repeats
    single = fixed_scores()
    assert not build_leaderboard(single[single.repeat == 0]).has_repeats


def test_import_stays_light():
    heavy = "{'pandas', 'scipy', 'sklearn', 'matplotlib', 'tabulate', 'tensorflow', 'keras'}"
    code = f"import sys, bench.report.leaderboard; print(sorted({heavy} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
