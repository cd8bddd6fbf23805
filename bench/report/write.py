"""``bench report``: read the store, never train, and write reports/<suite>/."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from bench.config.spec import Suite
from bench.errors import BenchError
from bench.report.leaderboard import (
    build_leaderboard,
    render_folds_markdown,
    render_latex,
    render_markdown,
)
from bench.store.db import Store
from bench.store.scores import load_scores


@dataclass(frozen=True)
class ReportRequest:
    latex: bool = False
    metrics: tuple[str, ...] | None = None
    sort: str | None = None


def write_report(suite: Suite, *, request: ReportRequest = ReportRequest()) -> list[Path]:
    """Write the leaderboard (markdown, and LaTeX when asked); return the files written."""
    if not suite.store_path.is_file():
        raise BenchError(
            f"{suite.store_path}: no results yet for suite '{suite.name}'; "
            f"run `bench run {suite.path}` first"
        )
    store = Store(suite.store_path)
    try:
        scores = load_scores(store, suite_hash=suite.hash, profile=suite.profile)
        run = store.latest_run(suite_hash=suite.hash, profile=suite.profile)
    finally:
        store.close()
    board = build_leaderboard(
        scores,
        metrics=request.metrics or suite.report.metrics,
        sort=request.sort or suite.report.sort,
        factors=suite.factors,
    )
    out = suite.reports_dir / suite.name
    out.mkdir(parents=True, exist_ok=True)
    header = provenance_lines(suite, run, scores)
    files = [_write(out / "leaderboard.md", _markdown(suite, board, header, scores))]
    if request.latex:
        files.append(_write(out / "leaderboard.tex", _latex(suite, board, header)))
    return files


def provenance_lines(suite: Suite, run: dict | None, scores) -> list[str]:
    info = (run or {}).get("provenance", {})
    versions = ", ".join(f"{k} {v}" for k, v in info.get("versions", {}).items())
    hardware = info.get("hardware", {})
    return [
        f"suite: {suite.name} (hash {suite.hash}, profile {suite.profile})",
        f"protocol: {suite.protocol.folds}-fold stratified group CV × {suite.protocol.repeats} "
        f"repeat(s); {scores['cell'].nunique()} cells, {len(scores)} fold results",
        f"versions: {versions or 'unknown'}",
        f"hardware: {hardware.get('cpu', 'unknown')} ({hardware.get('cpus', '?')} CPUs)",
        f"git commit: {info.get('git_commit') or 'unknown'}",
        f"generated: {dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC')}",
    ]


def _markdown(suite: Suite, board, header: list[str], scores) -> str:
    parts = [
        f"# {suite.name}: leaderboard",
        "",
        suite.description,
        "",
        render_markdown(board),
        "",
        "Mean ± sd over outer test folds × repeats; best per column in bold.",
        "",
        "## Provenance",
        "",
        *[f"- {line}" for line in header],
        "",
        "## Per-fold scores",
        "",
        render_folds_markdown(scores, metrics=board.metrics, factors=board.factors),
        "",
    ]
    return "\n".join(parts)


def _latex(suite: Suite, board, header: list[str]) -> str:
    caption = (
        f"{suite.description or suite.name}. Mean ± sd over outer test folds × repeats; "
        "best per column in bold."
    )
    table = render_latex(board, caption=caption, label=f"tab:{suite.name}-leaderboard")
    return "\n".join([*(f"% {line}" for line in header), table])


def _write(path: Path, text: str) -> Path:
    path.write_text(text if text.endswith("\n") else text + "\n")
    return path
