"""A bare path as a source: which layout the file or folder is in, and why.

``source = "data/busi"`` (or ``bench data inspect data/busi``) looks at what is there, in
this order, and takes the first layout that fits; a prefix (``folder:``, ``busi:``...)
always forces one:

1. a ``.npz`` file → ``medmnist``; a ``.csv`` file → ``isic`` when it has an image id
   column (``image``, ``isic_id``...), else ``csv``;
2. a folder holding ``Dataset_BUSI_with_GT/``, or whose sub-folders are BUSI classes
   (benign, malignant, normal) with ``*_mask`` files → ``busi``;
3. a folder with exactly one CSV file at its top → that table, as in 1 (its images sit
   beside it);
4. a folder with sub-folders holding images → ``folder`` (one class per sub-folder).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from bench.data.layouts import BUSI_ARCHIVE, BUSI_CLASSES, image_tree
from bench.data.manifests import ID_COLUMNS
from bench.errors import DataError

PREFIXES = "folder:, busi:, pool:, csv:, isic: or medmnist:"


@dataclass(frozen=True)
class Layout:
    """The source a bare path stands for and the evidence that chose it."""

    source: str  # e.g. "busi:data/busi"
    reason: str

    def line(self) -> str:
        kind = self.source.split(":", 1)[0]
        return f"layout: {kind} ({self.reason}); a prefix ({PREFIXES}) forces another"


def detect_layout(path: str) -> Layout:
    """The layout of the file or folder at ``path``; DataError when none fits."""
    where = Path(path).expanduser()
    if where.is_file():
        return _table_or_arrays(path, where)
    if not where.is_dir():
        raise DataError(
            f"source {path!r}: no such file or folder; give an existing path, or a source "
            f'such as "synthetic:ultrasound" or "folder:data/busi"'
        )
    busi = _busi_evidence(where)
    if busi:
        return Layout(f"busi:{path}", busi)
    tables = sorted(p for p in where.iterdir() if p.suffix.lower() == ".csv" and p.is_file())
    if len(tables) == 1:
        table = _table_or_arrays(str(Path(path) / tables[0].name), tables[0])
        return Layout(table.source, f"the only CSV file in the folder; {table.reason}")
    classes = [d.name for d in sorted(where.iterdir()) if d.is_dir() and image_tree(d).images]
    if classes:
        return Layout(f"folder:{path}", f"{len(classes)} class sub-folders: {', '.join(classes)}")
    several = f" and {len(tables)} CSV files (name one)" if tables else ""
    raise DataError(
        f"source {path!r}: no layout found (no sub-folder with images{several}); prefix "
        f"the path with {PREFIXES}"
    )


def _table_or_arrays(path: str, file: Path) -> Layout:
    suffix = file.suffix.lower()
    if suffix == ".npz":
        return Layout(f"medmnist:{path}", "a .npz file of MedMNIST arrays")
    if suffix != ".csv":
        raise DataError(
            f"source {path!r}: a {suffix or 'suffix-less'} file is not a dataset; give a "
            f"folder, a .csv manifest or a MedMNIST .npz, or prefix it with {PREFIXES}"
        )
    header = _header(file)
    ids = [c for c in header if c in ID_COLUMNS]
    if ids:
        return Layout(f"isic:{path}", f"a CSV table with the image id column '{ids[0]}'")
    return Layout(f"csv:{path}", f"a CSV manifest with columns {', '.join(header)}")


def _header(file: Path) -> list[str]:
    try:
        with file.open(newline="", encoding="utf-8-sig") as handle:
            return next(csv.reader(handle), [])
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{file}: cannot read its header ({exc}); is it a CSV file?") from None


def _busi_evidence(folder: Path) -> str:
    """Why ``folder`` looks like the BUSI release, or '' when it does not."""
    if (folder / BUSI_ARCHIVE).is_dir():
        return f"holds {BUSI_ARCHIVE}/, the unzipped BUSI release"
    subfolders = {d.name for d in folder.iterdir() if d.is_dir()}
    if not subfolders or not subfolders <= set(BUSI_CLASSES):
        return ""
    if not any(image_tree(folder / name).masks for name in subfolders):
        return ""
    return f"BUSI class folders ({', '.join(sorted(subfolders))}) with *_mask files beside images"
