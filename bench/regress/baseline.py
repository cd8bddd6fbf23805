"""The committed baseline: a :class:`Snapshot` as JSON, provenance first.

The provenance block says where the numbers came from (suite hash, profile, date, git
commit, library versions, hardware) so a reviewer of a baseline change can tell a
deliberate update from an accident. Floats are written with ``repr`` precision, so a
baseline read back compares bit for bit with the run that wrote it.
"""

from __future__ import annotations

import json
from pathlib import Path

from bench.errors import BenchError
from bench.regress.snapshot import FoldScore, Snapshot

FORMAT = 1


def write_baseline(snapshot: Snapshot, path: str | Path) -> Path:
    """Write ``snapshot`` to ``path`` (folders created), replacing any older baseline."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(_to_json(snapshot), indent=1) + "\n")
    return path


def read_baseline(path: str | Path) -> Snapshot:
    """The snapshot stored at ``path``; a missing or malformed file is a BenchError."""
    path = Path(path)
    if not path.is_file():
        raise BenchError(
            f"{path}: no baseline file; create it with `bench regress SUITE --baseline {path} "
            "--update-baseline` and commit it"
        )
    try:
        raw = json.loads(path.read_text())
        return _from_json(raw)
    except (ValueError, KeyError, TypeError) as exc:
        raise BenchError(
            f"{path}: not a bench baseline ({type(exc).__name__}: {exc}); "
            "regenerate it with --update-baseline"
        ) from None


def _to_json(snapshot: Snapshot) -> dict:
    return {
        "provenance": {
            "suite": snapshot.suite,
            "suite_hash": snapshot.suite_hash,
            "profile": snapshot.profile,
            **snapshot.provenance,
        },
        "format": FORMAT,
        "fold_fingerprint": snapshot.fold_fingerprint,
        "runtime": {
            "clock": "process CPU seconds",
            "suite_seconds": snapshot.suite_seconds,
            "calibration_seconds": snapshot.calibration_seconds,
            "normalised": snapshot.normalised_runtime,
        },
        "folds": [
            {"cell": f.cell, "repeat": f.repeat, "fold": f.fold, **f.metrics}
            for f in snapshot.folds
        ],
    }


def _from_json(raw: dict) -> Snapshot:
    if raw.get("format") != FORMAT:
        raise ValueError(f"format {raw.get('format')!r}, expected {FORMAT}")
    provenance = dict(raw["provenance"])
    return Snapshot(
        suite=provenance.pop("suite"),
        suite_hash=provenance.pop("suite_hash"),
        profile=provenance.pop("profile"),
        fold_fingerprint=raw["fold_fingerprint"],
        folds=tuple(_fold(row) for row in raw["folds"]),
        suite_seconds=float(raw["runtime"]["suite_seconds"]),
        calibration_seconds=float(raw["runtime"]["calibration_seconds"]),
        provenance=provenance,
    )


def _fold(row: dict) -> FoldScore:
    keys = ("cell", "repeat", "fold")
    metrics = {k: float(v) for k, v in row.items() if k not in keys}
    return FoldScore(
        cell=row["cell"], repeat=int(row["repeat"]), fold=int(row["fold"]), metrics=metrics
    )
