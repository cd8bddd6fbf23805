"""The provenance block: which suite, profile and hash, protocol, versions, hardware, date.

Everything comes from the store's latest run of the suite, except the last line, the date the
report was generated, which is the only line two reports of the same store differ in.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from bench.store.findings import near_duplicate_line, skipped_lines


def provenance_lines(
    *,
    name: str,
    suite_hash: str,
    profile: str,
    protocol: str | None,
    runs: Sequence[Mapping[str, Any]],
    cells: int,
    folds: int,
) -> tuple[str, ...]:
    """The block, one fact per line, the generation date (UTC) last."""
    record = (runs[-1] if runs else {}).get("provenance", {})
    versions = ", ".join(f"{k} {v}" for k, v in sorted(record.get("versions", {}).items()))
    hardware = record.get("hardware", {})
    now = dt.datetime.now(dt.UTC)
    lines = [f"suite: {name} (hash {suite_hash}, profile {profile})"]
    lines += [f"protocol: {protocol}"] if protocol else []
    lines += [f"source: {record['source']}"] if "source" in record else []
    lines += [
        f"results: {cells} cells, {folds} fold results, {len(runs)} run(s)",
        f"versions: {versions or 'unknown'}",
        f"hardware: {_hardware(hardware)}",
        *_near_duplicates(record),
        *skipped_lines(record.get("skipped_files", {})),
        f"git commit: {record.get('git_commit') or 'unknown'}",
        f"generated: {now.strftime('%Y-%m-%d %H:%M UTC')}",
    ]
    return tuple(lines)


def _hardware(hardware: Mapping[str, Any]) -> str:
    if not hardware:
        return "unknown"
    text = f"{hardware.get('cpu') or 'unknown CPU'} ({hardware.get('cpus', '?')} CPUs)"
    gpus = [gpu.get("name", "unknown") for gpu in hardware.get("gpus") or ()]
    return text + (f", GPU {' + '.join(gpus)}" if gpus else "")


def _near_duplicates(record: Mapping[str, Any]) -> list[str]:
    """The run's near-duplicate check, when the run made one."""
    return [near_duplicate_line(record["near_duplicates"])] if "near_duplicates" in record else []
