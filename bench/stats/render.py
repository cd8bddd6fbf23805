"""Renderers for comparisons: markdown (for reports), CSV and JSON (full precision).

They accept only :class:`bench.stats.Comparison` records, so every rendered p-value carries the
name of the test that made it and of the adjustment applied to it; the ``reproductions_*``
renderers lay out the verdicts against a published table (:class:`bench.stats.Reproductions`).
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from collections.abc import Sequence
from typing import Any

from bench.stats.compare import RECORD_FIELDS, Comparison
from bench.stats.reproduction import Reproduction, Reproductions


def comparisons_to_records(rows: Sequence[Comparison]) -> list[dict[str, Any]]:
    """One flat dict per comparison: :data:`RECORD_FIELDS`, None where its test has no such
    field (unmatched as a list)."""
    return [
        {name: getattr(row, name) for name in RECORD_FIELDS} | {"unmatched": list(row.unmatched)}
        for row in rows
    ]


def comparisons_to_json(rows: Sequence[Comparison], *, indent: int | None = 2) -> str:
    """A JSON list of :func:`comparisons_to_records` dicts; floats at full precision."""
    return json.dumps(comparisons_to_records(rows), indent=indent, allow_nan=False)


def comparisons_to_csv(rows: Sequence[Comparison]) -> str:
    """CSV with one column per :data:`RECORD_FIELDS` entry; floats at full precision, None empty,
    unmatched cells joined with ";"."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=RECORD_FIELDS, lineterminator="\n")
    writer.writeheader()
    for record in comparisons_to_records(rows):
        record["unmatched"] = ";".join(record["unmatched"])
        writer.writerow({k: "" if v is None else v for k, v in record.items()})
    return out.getvalue()


def comparisons_to_markdown(rows: Sequence[Comparison]) -> str:
    """A GitHub-flavoured markdown table, numbers to 4 significant digits (p to 3).

    The test column names the test, its variant and the adjustment of "p adj.".
    Posterior probabilities appear only when a row comes from the Bayesian test, and the
    unmatched cells only when some comparison left cells out.
    """
    from tabulate import tabulate

    headers = [
        "metric",
        "a",
        "b",
        "n",
        "a - b",
        "CI",
        "statistic",
        "df",
        "p",
        "p adj.",
        "effect",
        "test",
    ]
    bayes = any(row.p_left is not None for row in rows)
    unmatched = any(row.unmatched for row in rows)
    headers += ["P(a-b < -rope) / P(rope) / P(a-b > rope)"] * bayes + ["unmatched"] * unmatched
    table = [_markdown_row(row, bayes=bayes, unmatched=unmatched) for row in rows]
    # Cell ids hold "|" (backbone=...|optimizer=...), which would split a markdown column.
    table = [[cell.replace("|", "\\|") for cell in line] for line in table]
    return tabulate(table, headers=headers, tablefmt="github", disable_numparse=True)


def _markdown_row(row: Comparison, *, bayes: bool, unmatched: bool) -> list[str]:
    cells = [
        row.metric,
        row.a,
        row.b,
        str(row.n) + (f" ({row.n_folds} folds)" if row.n_folds else ""),
        _g(row.mean_diff),
        _interval(row),
        f"{row.statistic_name} = {_g(row.statistic)}" if row.statistic is not None else "",
        _g(row.df),
        _p(row.p),
        _p(row.p_adjusted),
        f"{row.effect_name} = {_g(row.effect_size)}" if row.effect_size is not None else "",
        _test_name(row),
    ]
    if bayes:
        probabilities = (row.p_left, row.p_rope, row.p_right)
        cells.append(" / ".join(_g(x, 3) for x in probabilities) if row.p_left is not None else "")
    if unmatched:
        cells.append(", ".join(row.unmatched))
    return cells


def _test_name(row: Comparison) -> str:
    name = row.test + (f" ({row.method})" if row.method else "")
    return name + (f"; {row.adjust}" if row.adjust else "")


def _interval(row: Comparison) -> str:
    if row.ci_low is None or row.ci_high is None:
        return ""
    return f"{round(row.confidence * 100, 6):g}% [{_g(row.ci_low)}, {_g(row.ci_high)}]"


def _g(value: float | None, digits: int = 4) -> str:
    return "" if value is None else f"{value:.{digits}g}"


def _p(value: float | None) -> str:
    return _g(value, 3)


_TEST_FIELDS = (
    "difference",
    "ci_low",
    "ci_high",
    "confidence",
    "se",
    "df",
    "t_lower",
    "p_lower",
    "t_upper",
    "p_upper",
    "method",
)


def reproductions_to_records(result: Reproductions) -> list[dict[str, object]]:
    """One flat dict per verdict: the cell, the numbers and the test (None without one)."""
    records = []
    for row in result.rows:
        record = {k: v for k, v in dataclasses.asdict(row).items() if k != "test"}
        test = row.test
        record |= {k: getattr(test, k) if test else None for k in _TEST_FIELDS}
        record |= {"margin": result.margin, "alpha": result.alpha}
        records.append(record)
    return records


def reproductions_to_json(result: Reproductions, *, indent: int | None = 2) -> str:
    """A JSON list of :func:`reproductions_to_records` dicts; floats at full precision."""
    return json.dumps(reproductions_to_records(result), indent=indent, allow_nan=False)


def reproductions_to_csv(result: Reproductions) -> str:
    """CSV with one column per record field; floats at full precision, None empty."""
    records = reproductions_to_records(result)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(records[0]), lineterminator="\n")
    writer.writeheader()
    for record in records:
        writer.writerow({k: "" if v is None else v for k, v in record.items()})
    return out.getvalue()


def reproductions_to_markdown(result: Reproductions) -> str:
    """A markdown table: numbers to 4 significant digits, p to 3; the CI is 1 - 2 alpha."""
    from tabulate import tabulate

    level = f"{round(100 * (1 - 2 * result.alpha), 6):g}% CI"
    headers = ["metric", "cell", "n", "reproduced", "published", "difference", level]
    headers += [f"p(d ≤ −{result.margin:g})", f"p(d ≥ +{result.margin:g})", "verdict"]
    table = [_reproduction_row(row) for row in result.rows]
    table = [[cell.replace("|", "\\|") for cell in line] for line in table]
    return tabulate(table, headers=headers, tablefmt="github", disable_numparse=True)


def _reproduction_row(row: Reproduction) -> list[str]:
    test = row.test
    return [
        row.metric,
        row.published_cell,
        str(row.n),
        _g(row.mean),
        _g(row.published),
        _g(row.mean - row.published),
        f"[{_g(test.ci_low)}, {_g(test.ci_high)}]" if test else "",
        _p(test.p_lower) if test else "",
        _p(test.p_upper) if test else "",
        row.verdict + (f" ({row.note})" if row.note else ""),
    ]
