"""The report as one self-contained, interactive HTML page (``report.html``).

Everything is inline — style, script, the figures as PNG data URIs, the per-fold data — so
the file works offline, mailed or archived alone. The script (plain JavaScript, no library):

- sorts every table by any column (click its header; again for the other direction);
- filters the rows of every table by any grid factor (one selector per factor);
- shows one metric of the leaderboard, ranked by it, or all (the metric selector);
- opens a cell's folds under the leaderboard when its row is clicked (drill-down).

The view lives in the address's fragment (``#sort=0:AUC:asc&f.strategy=ctl&cell=...``: table
number in page order, column, direction; a level per factor; the drilled cell), so a view can
be bookmarked or shared, and opening such an address shows it.
"""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Mapping
from pathlib import Path

from bench.metrics import LOWER_IS_BETTER
from bench.report.document import Document, Section
from bench.report.inputs import ReportInputs
from bench.report.leaderboard import METRIC_LABELS, Leaderboard
from bench.report.table import to_html

STYLE = """
body { font-family: system-ui, sans-serif; max-width: 80rem; margin: 2rem auto; padding: 0 1rem;
       color: #222; }
table { border-collapse: collapse; margin: 1rem 0; font-size: 0.85rem; }
caption { text-align: left; font-weight: bold; padding-bottom: 0.3rem; }
th, td { padding: 0.2rem 0.6rem; border-bottom: 1px solid #ddd; }
thead th { border-bottom: 2px solid #444; text-align: left; cursor: pointer; user-select: none; }
thead th[aria-sort="ascending"]::after { content: " ▲"; }
thead th[aria-sort="descending"]::after { content: " ▼"; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
#leaderboard tbody tr { cursor: pointer; }
#leaderboard tbody tr.selected { background: #e8f0fe; }
.controls { display: flex; flex-wrap: wrap; gap: 1rem; margin: 1rem 0; padding: 0.5rem;
            background: #f6f6f6; font-size: 0.85rem; }
p.note { font-size: 0.8rem; color: #555; }
figure { margin: 1.5rem 0; }
figure img { max-width: 100%; }
figcaption { font-size: 0.85rem; color: #444; }
"""

SCRIPT = "report.js"  # beside this module, inlined into the page


def page_data(inputs: ReportInputs, board: Leaderboard) -> dict:
    """What the script needs: factors, metric headers, and each cell's folds, board order."""
    scores = inputs.scores.merge(inputs.folds[["cell", "repeat", "fold", "threshold"]])
    by_cell = dict(tuple(scores.groupby("cell", sort=False)))
    columns = ["repeat", "fold", "n_train", "n_test", "threshold", *board.metrics]
    cells = []
    for row in board.rows:
        folds = by_cell[row.cell].sort_values(["repeat", "fold"])[columns]
        records = [
            {_fold_header(k): _plain(v) for k, v in record.items()}
            for record in folds.to_dict("records")
        ]
        levels = dict(zip(board.factors, row.levels, strict=True))
        cells.append(
            {
                "cell": row.cell,
                "label": "/".join(row.levels) or row.cell,
                "levels": levels,
                "folds": records,
            }
        )
    return {
        "factors": list(board.factors),
        "metrics": [METRIC_LABELS[m] for m in board.metrics],
        "lower": [METRIC_LABELS[m] for m in board.metrics if m in LOWER_IS_BETTER],
        "cells": cells,
    }


def _fold_header(column: str) -> str:
    return METRIC_LABELS.get(column, column)


def _plain(value):
    """A JSON-safe number: NaN as null, numpy scalars as Python ones."""
    import math

    value = value.item() if hasattr(value, "item") else value
    return None if isinstance(value, float) and math.isnan(value) else value


def html_document(
    document: Document, *, figures_dir: Path | None = None, data: Mapping | None = None
) -> str:
    """The page of ``document``: figures inlined from ``figures_dir`` (linked without it);
    with ``data`` (:func:`page_data`), the interactive script."""
    title = html.escape(document.title)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        f'<head><meta charset="utf-8"><title>{title}</title><style>{STYLE}</style></head>',
        "<body>",
        f"<h1>{title}</h1>",
    ]
    parts += [f"<p>{html.escape(document.description)}</p>"] if document.description else []
    for section in document.sections:
        parts += _section(section, figures_dir)
    if data is not None:
        payload = json.dumps(data, allow_nan=False).replace("</", "<\\/")
        parts += [
            f'<script type="application/json" id="bench-data">{payload}</script>',
            f"<script>{_script()}</script>",
        ]
    parts += ["</body>", "</html>"]
    return "\n".join(parts) + "\n"


def _script() -> str:
    from importlib.resources import files

    return files("bench.report").joinpath(SCRIPT).read_text(encoding="utf-8")


def _section(section: Section, figures_dir: Path | None) -> list[str]:
    parts = [f"<section><h2>{html.escape(section.title)}</h2>"]
    parts += [f"<p>{html.escape(paragraph)}</p>" for paragraph in section.paragraphs]
    if section.items:
        parts += ["<ul>", *(f"<li>{html.escape(item)}</li>" for item in section.items), "</ul>"]
    tables = [to_html(table) for table in section.tables]
    if section.title == "Leaderboard" and tables:
        tables[0] = f'<div id="leaderboard">{tables[0]}<div id="drilldown"></div></div>'
    parts += tables
    parts += [
        f'<figure><img src="{_source(figure.png, figures_dir)}" alt="{html.escape(figure.stem)}">'
        f"<figcaption>{html.escape(figure.caption)}</figcaption></figure>"
        for figure in section.figures
    ]
    return [*parts, "</section>"]


def _source(png: str, figures_dir: Path | None) -> str:
    """A figure as a PNG data URI (the page stands alone), or its relative path."""
    if figures_dir is None:
        return png
    encoded = base64.b64encode((figures_dir.parent / png).read_bytes()).decode("ascii")
    return f"data:image/png;base64,{encoded}"
