"""report.html in a real browser: headless Chromium sorts, filters, selects and drills down.

The page keeps its view in the address fragment, so each check opens one address and reads
the DOM Chromium has after the page's script ran (``--dump-dom``). Skipped with a message
when no Chromium is installed (CI installs Debian's ``chromium``).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from html.parser import HTMLParser

import pytest

from bench.report.write import ReportRequest, write_report
from tests.report.conftest import build_store, tiny_target

CHROMIUM = next(
    (
        path
        for name in ("chromium", "chromium-browser", "google-chrome")
        if (path := shutil.which(name))
    ),
    None,
)
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--virtual-time-budget=5000",
]


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    target = tiny_target(tmp_path_factory.mktemp("html"))
    build_store(target.store_path)
    write_report(target, request=ReportRequest(html=True))
    return target.out_dir / "report.html"


class Tables(HTMLParser):
    """Every table of a page: header texts and rows (cell texts, hidden flag, cell hidden)."""

    def __init__(self):
        super().__init__()
        self.tables: list[dict] = []
        self._cell: list[str] | None = None
        self._ids: list[str | None] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table":
            self.tables.append({"id": attrs.get("id"), "headers": [], "rows": []})
        elif tag == "tr" and self.tables:
            self.tables[-1]["rows"].append({"hidden": "hidden" in attrs, "cells": []})
        elif tag in ("td", "th") and self.tables:
            self._cell = []
            self._hidden = "hidden" in attrs
            self._tag = tag

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            text = "".join(self._cell).strip()
            row = self.tables[-1]["rows"][-1]
            row["cells"].append(None if self._hidden else text)
            self._cell = None


def browse(page, fragment: str = "", tmp_path=None) -> list[dict]:
    """The page's tables after Chromium opened ``page#fragment`` and its script ran."""
    if CHROMIUM is None:
        pytest.skip("headless Chromium is not installed (apt-get install chromium)")
    profile = tmp_path / "profile"
    url = page.resolve().as_uri() + (f"#{fragment}" if fragment else "")
    out = subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "--dump-dom", url],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    parser = Tables()
    parser.feed(out.stdout)
    return parser.tables


def leaderboard(tables) -> tuple[list[str], list[list[str | None]]]:
    """Header texts and the visible rows of the leaderboard (the first table)."""
    board = tables[0]
    headers, *rows = board["rows"]
    return headers["cells"], [r["cells"] for r in rows if not r["hidden"]]


def column(rows, headers, name) -> list[float]:
    index = headers.index(name)
    return [float(re.match(r"[\d.]+", row[index]).group()) for row in rows]


def test_page_stands_alone(page):
    text = page.read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", text)  # no CDN, no network
    # every figure inline (one dataset: no critical-difference diagram)
    assert text.count('<img src="data:image/png;base64,') == 7
    assert 'id="bench-data"' in text


def test_page_opens_ranked_by_the_sort_metric(page, tmp_path):
    headers, rows = leaderboard(browse(page, tmp_path=tmp_path))
    auc = column(rows, headers, "AUC")
    assert len(rows) == 8 and auc == sorted(auc, reverse=True)


def test_sorting_by_a_column_reorders_the_rows(page, tmp_path):
    headers, rows = leaderboard(browse(page, "sort=0:Params:asc", tmp_path=tmp_path))
    params = [row[headers.index("Params")] for row in rows]
    assert params == ["12.00k"] * 4 + ["410.00k"] * 4  # "k" parsed as thousands
    headers, rows = leaderboard(browse(page, "sort=0:AUC:asc", tmp_path=tmp_path))
    auc = column(rows, headers, "AUC")
    assert auc == sorted(auc) and auc[0] < auc[-1]


def test_filtering_by_a_factor_hides_the_other_levels_in_every_table(page, tmp_path):
    tables = browse(page, "f.strategy=ctl&f.backbone=small_cnn", tmp_path=tmp_path)
    headers, rows = leaderboard(tables)
    assert len(rows) == 2
    assert {row[headers.index("strategy")] for row in rows} == {"ctl"}
    assert {row[headers.index("backbone")] for row in rows} == {"small_cnn"}
    appendix = next(
        t
        for t in tables
        if t["rows"][0]["cells"][:3] == ["backbone", "optimizer", "strategy"]
        and "Repeat" in t["rows"][0]["cells"]
        and "Class" not in t["rows"][0]["cells"]
    )
    visible = [r for r in appendix["rows"][1:] if not r["hidden"]]
    assert len(visible) == 2 * 6  # two cells × 2 repeats × 3 folds


def test_metric_selector_shows_one_metric_ranked_by_it(page, tmp_path):
    headers, rows = leaderboard(browse(page, "metric=Loss&sort=0:Loss:asc", tmp_path=tmp_path))
    shown = [h for h in headers if h is not None]
    assert "Loss" in shown and "AUC" not in shown and "Accuracy" not in shown
    loss = column(rows, headers, "Loss")
    assert loss == sorted(loss)


def test_a_cell_drills_down_to_its_folds(page, tmp_path):
    cell = "backbone=small_cnn|optimizer=sgd|strategy=ctl"
    tables = browse(page, f"cell={cell}", tmp_path=tmp_path)
    folds = next(t for t in tables if t["id"] == "folds")
    headers, *rows = folds["rows"]
    assert headers["cells"][:2] == ["repeat", "fold"] and len(rows) == 6
    assert [r["cells"][:2] for r in rows] == [[str(r), str(f)] for r in (0, 1) for f in (0, 1, 2)]
