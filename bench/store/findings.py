"""What a run found about its data, in words: look-alike target images across outer folds
and files left out. The run summary, ``bench validate`` and the report's provenance block
(from the run record in the store) print the same lines."""

from __future__ import annotations

from collections.abc import Mapping, Sequence


def near_duplicate_line(pairs: Sequence[tuple[str, str, int]]) -> str:
    """Look-alike target images in different outer folds: possibly one patient twice."""
    if not pairs:
        return "near-duplicates across outer folds: none"
    shown = ", ".join(f"{a} ~ {b}" for a, b, _ in pairs[:3])
    return (
        f"near-duplicates across outer folds: {len(pairs)} pair(s) ({shown}"
        f"{', ...' if len(pairs) > 3 else ''}); check for repeated images of one patient"
    )


def skipped_lines(skipped: Mapping[str, list]) -> list[str]:
    """One line per dataset that left files out under ``on_bad_image = "skip"``."""
    lines = []
    for name, files in skipped.items():
        shown = "; ".join(f"{path} ({reason})" for path, reason in files[:3])
        more = f"; and {len(files) - 3} more" if len(files) > 3 else ""
        lines.append(
            f"skipped {len(files)} file(s) of dataset '{name}' (on_bad_image = \"skip\"): "
            f"{shown}{more}"
        )
    return lines
