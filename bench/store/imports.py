"""``bench import``: external results (e.g. a published table) into a results database.

The CSV is tidy: one row per cell (or per cell × repeat × fold); factor columns named like
grid axes (``strategy``, ``backbone``, ``optimizer``, ...); one column per metric; optional
``repeat``, ``fold``, ``n_train`` and ``n_test``. Imported rows then compare and report
exactly like native runs. An imported table is found again by its name
(:func:`published_scores`), e.g. to test a reproduction against it.
"""

from __future__ import annotations

import csv
import math
import sqlite3
from pathlib import Path

from bench.errors import BenchError
from bench.hashing import content_hash
from bench.metrics import METRICS
from bench.store.db import FoldRecord, PlanRow, Store
from bench.store.states import RunStatus

RESERVED = ("repeat", "fold", "n_train", "n_test")
PROFILE = "imported"


def import_csv(
    path: str | Path, *, suite: str, results: Path = Path("results")
) -> tuple[Path, int]:
    """Store the CSV's rows under ``results/<suite>/``; return the database path and row count."""
    rows, factors, metrics = _read(Path(path))
    suite_hash = content_hash([suite, rows])
    store = Store(results / suite / "bench.sqlite")
    try:
        run_id = store.begin_run(
            suite=suite,
            suite_hash=suite_hash,
            profile=PROFILE,
            command=f"bench import {path}",
            provenance={"source": str(path)},
        )
        records = [_record(row, factors, metrics, suite_hash) for row in rows]
        _check_unique(records, path)
        store.record_plan(
            suite_hash=suite_hash,
            profile=PROFILE,
            rows=[PlanRow.of_fold(r, label=f"{r.cell} r{r.repeat} f{r.fold}") for r in records],
        )
        for record in records:
            store.record_fold(record, label=record.cell, run_id=run_id, started=0.0)
        store.end_run(run_id, status=RunStatus.DONE)
    finally:
        store.close()
    return store.path, len(records)


def imported_tables(results: Path = Path("results")) -> list[str]:
    """Names of the results folders under ``results`` that ``bench import`` filled."""
    names = []
    for path in sorted(results.glob("*/bench.sqlite")):
        try:
            db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
            try:
                row = db.execute("SELECT profile FROM runs ORDER BY id DESC LIMIT 1").fetchone()
            finally:
                db.close()
        except sqlite3.Error:
            continue  # not a results database bench can read: not an imported table either
        if row == (PROFILE,):
            names.append(path.parent.name)
    return names


def published_scores(name: str, *, results: Path = Path("results")):
    """The scores table of the imported table ``name`` (``results/<name>/``)."""
    from bench.store.scores import load_scores

    available = imported_tables(results)
    if name not in available:
        listed = ", ".join(available) or "none"
        raise BenchError(
            f"published table {name!r}: no imported table of that name in {results}/ (imported: "
            f"{listed}); import one with `bench import FILE.csv --suite {name}`"
        )
    store = Store(results / name / "bench.sqlite")
    try:
        run = store.latest_run(profile=PROFILE)
        assert run is not None  # listed among the imported tables: it has a run
        return load_scores(store, suite_hash=run["suite_hash"], profile=PROFILE)
    finally:
        store.close()


def _read(path: Path) -> tuple[list[dict], list[str], list[str]]:
    if not path.is_file():
        raise BenchError(f"{path}: file not found")
    with path.open(newline="") as file:
        rows = list(csv.DictReader(file))
    if not rows:
        raise BenchError(f"{path}: no rows; expected a header and one row per cell")
    columns = list(rows[0])
    metrics = [c for c in columns if c in METRICS]
    factors = [c for c in columns if c not in METRICS and c not in RESERVED]
    if not metrics:
        raise BenchError(f"{path}: no metric column; name columns like {', '.join(METRICS)}")
    if not factors:
        raise BenchError(f"{path}: no factor column; add columns such as strategy, backbone")
    for number, row in enumerate(rows, start=2):
        for metric in metrics:
            _number(row[metric], path, number, metric)
    return rows, factors, metrics


def _record(row: dict, factors: list[str], metrics: list[str], suite_hash: str) -> FoldRecord:
    levels = {f: row[f] for f in factors}
    cell = "|".join(f"{f}={v}" for f, v in levels.items())
    repeat, fold = int(row.get("repeat") or 0), int(row.get("fold") or 0)
    return FoldRecord(
        job=content_hash([suite_hash, cell, repeat, fold]),
        cell=cell,
        factors=levels,
        repeat=repeat,
        fold=fold,
        n_train=_optional_int(row.get("n_train")),
        n_val=None,
        n_test=_optional_int(row.get("n_test")),
        threshold=math.nan,
        params={},
        scores={m: float(row[m]) for m in metrics},
        samples=(),
        y_true=(),
        proba=(),
        history={},
    )


def _check_unique(records: list[FoldRecord], path) -> None:
    seen = set()
    for r in records:
        if r.job in seen:
            raise BenchError(
                f"{path}: two rows for {r.cell}, repeat {r.repeat}, fold {r.fold}; "
                "add repeat/fold columns or remove the duplicate"
            )
        seen.add(r.job)


def _number(text: str, path: Path, line: int, column: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise BenchError(f"{path}:{line}: column '{column}' = {text!r} is not a number") from None


def _optional_int(text: str | None) -> int | None:
    return int(float(text)) if text not in (None, "") else None
