"""Tables as data: built once as a :class:`Table`, rendered to markdown, LaTeX and HTML.

Every table of a report (leaderboard, comparisons, repeat ranges, hyperparameters, timing,
per-fold appendix) is a :class:`Table` of plain-text :class:`Entry` values; the renderers
only escape and lay them out, so the three formats cannot disagree on a number.

A ``numeric`` entry is set in LaTeX with a math minus, ``$\\pm$``, ``$<$`` and TeX's en dash
``--`` for a missing value; any other entry is escaped as text (:func:`latex_escape`).
LaTeX tables use booktabs rules; :func:`to_latex` can shrink a table that is wider than the
line (graphicx), and :func:`to_longtable` lets a long one break across pages (longtable).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

_LATEX_SPECIALS = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "|": r"\textbar{}",
    "±": r"$\pm$",
    "−": "$-$",
    "×": r"$\times$",
    "≤": r"$\leq$",
    "≥": r"$\geq$",
    "↑": r"$\uparrow$",
    "↓": r"$\downarrow$",
}
_LATEX_SPECIAL = re.compile("|".join(map(re.escape, _LATEX_SPECIALS)))
# Numbers: a math minus (a text hyphen is too short), TeX's en dash for a missing value.
_LATEX_NUMERIC = {
    **_LATEX_SPECIALS,
    "-": "$-$",
    "<": "$<$",
    "–": "--",
}
_LATEX_NUMBER = re.compile("|".join(map(re.escape, _LATEX_NUMERIC)))
LONG_TABLE_ROWS = 30  # from this many rows on, a LaTeX table breaks across pages


@dataclass(frozen=True)
class Entry:
    """One table cell: plain text, optionally bold; ``numeric`` for LaTeX's math minus."""

    text: str
    bold: bool = False
    numeric: bool = False


@dataclass(frozen=True)
class Table:
    """A rectangular table: headers, rows of entries, one alignment letter per column.

    ``align`` holds "l" or "r" per column; ``caption`` titles the table; ``note`` (plain
    text) is printed under it, e.g. the legend of marks.
    """

    headers: tuple[str, ...]
    rows: tuple[tuple[Entry, ...], ...]
    align: str
    caption: str = ""
    note: str = ""

    def __post_init__(self) -> None:
        widths = {len(self.headers), len(self.align), *(len(row) for row in self.rows)}
        if len(widths) != 1:
            raise ValueError(f"table columns disagree: headers, align and rows have {widths}")


def text(value: object) -> Entry:
    """A text entry."""
    return Entry(str(value))


def number(value: str, *, bold: bool = False) -> Entry:
    """An already formatted number (e.g. "0.812 ± 0.031" or "–")."""
    return Entry(value, bold=bold, numeric=True)


def latex_escape(text: str) -> str:
    """Plain text made safe for LaTeX text mode, in one pass (so ``\\`` is not escaped twice).

    ``<``, ``>`` and ``|`` are replaced too: in pdflatex's default font encoding they print
    as other glyphs (``<`` as an inverted exclamation mark); ``±``, ``−``, ``×``, ``≤``, ``≥``
    and the arrows become math symbols, which pdflatex's default set-up lacks as text.
    """
    return _LATEX_SPECIAL.sub(lambda match: _LATEX_SPECIALS[match.group()], text)


def md_escape(text: str) -> str:
    """A pipe would end a markdown table cell."""
    return text.replace("|", r"\|")


def to_markdown(table: Table) -> str:
    """A GitHub-flavoured markdown table (tabulate "github"), the note under it."""
    from tabulate import tabulate

    body = [[_md_entry(entry) for entry in row] for row in table.rows]
    aligned = tabulate(
        body,
        [md_escape(h) for h in table.headers],
        tablefmt="github",
        disable_numparse=True,
        colalign=["right" if a == "r" else "left" for a in table.align],
    )
    return aligned + (f"\n\n{md_escape(table.note)}" if table.note else "") + "\n"


def to_latex(table: Table, *, label: str | None = None, fit: bool = False) -> str:
    """A booktabs ``table`` float; needs ``booktabs`` (and ``graphicx`` when ``fit``).

    ``fit`` shrinks the tabular to the line width when, and only when, it is wider.
    """
    lines = [r"\begin{table}[htbp]", r"\centering"]
    lines += [rf"\caption{{{latex_escape(table.caption)}}}"] if table.caption else []
    lines += [rf"\label{{{label}}}"] if label else []
    tabular = _tabular(table)
    if fit:
        tabular = [r"\resizebox{\ifdim\width>\linewidth\linewidth\else\width\fi}{!}{%", *tabular]
        tabular += ["}"]
    lines += tabular
    if table.note:
        lines += [r"\par\smallskip", rf"{{\footnotesize {latex_escape(table.note)}\par}}"]
    return "\n".join([*lines, r"\end{table}"]) + "\n"


def to_longtable(table: Table) -> str:
    """A booktabs ``longtable`` in footnote size that breaks across pages, header repeated."""
    header = _latex_line([latex_escape(h) for h in table.headers])
    caption = [rf"\caption{{{latex_escape(table.caption)}}}\\"] if table.caption else []
    lines = [
        r"{\footnotesize\setlength{\tabcolsep}{3pt}",
        rf"\begin{{longtable}}{{{table.align}}}",
        *caption,
        r"\toprule",
        header,
        r"\midrule",
        r"\endfirsthead",
        r"\toprule",
        header,
        r"\midrule",
        r"\endhead",
        r"\bottomrule",
        r"\endfoot",
        *(_latex_line([_latex_entry(e) for e in row]) for row in table.rows),
        r"\end{longtable}",
    ]
    if table.note:
        lines += [rf"{latex_escape(table.note)}\par"]
    return "\n".join([*lines, "}"]) + "\n"


def to_latex_document_table(table: Table, *, label: str | None = None) -> str:
    """What a standalone document should hold: a shrunk float, or a longtable when long."""
    if len(table.rows) >= LONG_TABLE_ROWS:
        return to_longtable(table)
    return to_latex(table, label=label, fit=True)


def to_html(table: Table) -> str:
    """An HTML ``<table>`` with its caption, the note in a paragraph after it."""
    import html

    head = "".join(f"<th>{html.escape(h)}</th>" for h in table.headers)
    body = "\n".join(
        "<tr>"
        + "".join(
            f'<td class="{"num" if a == "r" else "txt"}">{_html_entry(e)}</td>'
            for e, a in zip(row, table.align, strict=True)
        )
        + "</tr>"
        for row in table.rows
    )
    caption = f"<caption>{html.escape(table.caption)}</caption>" if table.caption else ""
    note = f'\n<p class="note">{html.escape(table.note)}</p>' if table.note else ""
    return (
        f"<table>{caption}\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody>\n</table>"
        f"{note}\n"
    )


def _md_entry(entry: Entry) -> str:
    escaped = md_escape(entry.text)
    return f"**{escaped}**" if entry.bold and entry.text else escaped


def _latex_entry(entry: Entry) -> str:
    if entry.numeric:
        body = _LATEX_NUMBER.sub(lambda match: _LATEX_NUMERIC[match.group()], entry.text)
    else:
        body = latex_escape(entry.text)
    return rf"\textbf{{{body}}}" if entry.bold and entry.text else body


def _html_entry(entry: Entry) -> str:
    import html

    escaped = html.escape(entry.text)
    return f"<strong>{escaped}</strong>" if entry.bold and entry.text else escaped


def _tabular(table: Table) -> list[str]:
    return [
        rf"\begin{{tabular}}{{{table.align}}}",
        r"\toprule",
        _latex_line([latex_escape(h) for h in table.headers]),
        r"\midrule",
        *(_latex_line([_latex_entry(e) for e in row]) for row in table.rows),
        r"\bottomrule",
        r"\end{tabular}",
    ]


def _latex_line(cells: Sequence[str]) -> str:
    return " & ".join(cells) + r" \\"
