"""The table model and its three renderers: escaping, numbers in LaTeX, layout choices."""

from __future__ import annotations

import pytest

from bench.report.table import (
    LONG_TABLE_ROWS,
    Table,
    number,
    text,
    to_html,
    to_latex,
    to_latex_document_table,
    to_markdown,
)

TABLE = Table(
    headers=("Level", "Gain", "p"),
    rows=((text("a_b|c"), number("-0.012 ± 0.003 ↑", bold=True), number("<0.001")),),
    align="lrr",
    caption="Gains & losses",
    note="p ≤ 0.05 × 2",
)


def test_latex_sets_numbers_in_math_and_escapes_text():
    latex = to_latex(TABLE, label="tab:x")
    assert r"a\_b\textbar{}c & \textbf{$-$0.012 $\pm$ 0.003 $\uparrow$} & $<$0.001 \\" in latex
    assert r"\caption{Gains \& losses}" in latex and r"\label{tab:x}" in latex
    assert r"p $\leq$ 0.05 $\times$ 2" in latex


def test_missing_numbers_are_en_dashes_in_latex():
    table = Table(headers=("x",), rows=((number("–"),),), align="r")
    assert "\n-- \\\\\n" in to_latex(table)


def test_markdown_bolds_and_escapes_pipes():
    markdown = to_markdown(TABLE)
    assert r"a_b\|c" in markdown and "**-0.012 ± 0.003 ↑**" in markdown
    assert markdown.endswith("\n\np ≤ 0.05 × 2\n")


def test_html_escapes_and_marks_number_columns():
    page = to_html(TABLE)
    assert "<caption>Gains &amp; losses</caption>" in page
    assert '<td class="num"><strong>-0.012 ± 0.003 ↑</strong></td>' in page
    assert '<td class="num">&lt;0.001</td>' in page


def test_wide_tables_shrink_and_long_ones_break_across_pages():
    assert r"\resizebox{\ifdim\width>\linewidth" in to_latex_document_table(TABLE)
    rows = tuple((text("x"), number("1"), number("2")) for _ in range(LONG_TABLE_ROWS))
    long = to_latex_document_table(Table(TABLE.headers, rows, TABLE.align))
    assert r"\begin{longtable}{lrr}" in long and r"\endhead" in long


def test_rows_must_match_the_headers():
    with pytest.raises(ValueError, match="table columns disagree"):
        Table(headers=("a", "b"), rows=((text("x"),),), align="ll")
