"""Tables that label image files: CSV manifests and ISIC-style ground-truth files.

- ``csv:FILE.csv`` — one row per image: ``path`` (relative to ``images``, default the
  table's folder), ``label``, optional ``patient`` (or ``patient_id``) and ``split``;
  ``*_column`` keys rename them, ``splits = ["train"]`` keeps some fixed splits only.
- ``isic:FILE.csv`` — an image id column (``image``, ``image_id``, ``image_name`` or
  ``isic_id``) naming files by stem anywhere below ``images``, and the label as one
  column (``dx`` in HAM10000, ``benign_malignant`` or ``target`` in ISIC 2020) or as
  one-hot diagnosis columns (ISIC 2018, 2019). Patients come from ``patient_id`` or
  ``lesion_id``, possibly from a ``metadata`` table joined on the image id (ISIC 2019).

Both check the table against the folder: a row whose file is missing and an image file no
row labels are bad files (see :class:`~bench.data.entries.BadFile`).
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path

from bench.config.spec import DatasetSpec
from bench.data.entries import NO_PATIENTS, BadFile, Entry, Listing, class_order
from bench.data.layouts import image_tree
from bench.data.options import FileOptions, where
from bench.errors import DataError

ID_COLUMNS = ("image", "image_id", "image_name", "isic_id")
ISIC_LABEL_COLUMNS = ("dx", "benign_malignant", "target")
PATIENT_COLUMNS = ("patient_id", "patient", "lesion_id")


@dataclass(frozen=True)
class Columns:
    """Which column of a CSV manifest holds what (patient and split may be absent)."""

    path: str
    label: str
    patient: str | None
    split: str | None


def list_csv(spec: DatasetSpec, options: FileOptions) -> Listing:
    """A manifest of file paths with their labels, patients and fixed splits."""
    table = _table_path(spec)
    rows = read_table(table, spec=spec)
    columns = _csv_columns(spec, options, rows[0].keys(), table=table)
    base = _image_folder(spec, options, table)
    candidates = [
        (number, _csv_entry(row, columns, base))
        for number, row in enumerate(rows, start=2)
        if not options.splits or row[columns.split] in options.splits
    ]
    entries, bad = _checked(candidates, options, table=table)
    named = {os.path.normpath(base / row[columns.path]) for row in rows}
    bad += _unlabelled(base, named, table=table)
    return _listing(spec, options, entries, bad, table=table, patient_col=columns.patient)


def list_isic(spec: DatasetSpec, options: FileOptions) -> Listing:
    """An ISIC-style ground truth: image ids, a label column or one-hot columns, a folder."""
    table = _table_path(spec)
    rows = read_table(table, spec=spec)
    id_col = _column(spec, options.id_column, ID_COLUMNS, rows[0].keys(), key="id_column")
    labels = _isic_labels(spec, options, rows, id_col=id_col, table=table)
    rows = _join_metadata(spec, options, rows, id_col=id_col, table=table)
    patient_col = _optional(spec, options.patient_column, rows[0].keys(), key="patient_column")
    folder = _image_folder(spec, options, table)
    files = _files_by_stem(folder)
    candidates = [
        (
            number,
            Entry(
                path=files.get(row[id_col], folder / row[id_col]),
                id=row[id_col],
                label=label,
                group=(row.get(patient_col) or None) if patient_col else None,
            ),
        )
        for number, (row, label) in enumerate(zip(rows, labels), start=2)
    ]
    entries, bad = _checked(candidates, options, table=table)
    ids = {row[id_col] for row in rows}
    bad += [_no_row(path, table) for stem, path in files.items() if stem not in ids]
    return _listing(spec, options, entries, bad, table=table, patient_col=patient_col)


def read_table(path: Path, *, spec: DatasetSpec) -> list[dict[str, str]]:
    """Rows of a comma- or tab-separated table with a header (a UTF-8 BOM is tolerated)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"dataset '{spec.name}': cannot read table '{path}' ({exc})") from None
    header = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in header and "," not in header else ","
    rows = [
        {k.strip(): (v or "").strip() for k, v in row.items() if k}
        for row in csv.DictReader(text.splitlines(), delimiter=delimiter)
    ]
    if not rows:
        raise DataError(f"dataset '{spec.name}': table '{path}' has no rows; add one per image")
    return rows


def _table_path(spec: DatasetSpec) -> Path:
    path = Path(spec.location).expanduser()
    if not path.is_file():
        raise DataError(
            f"{where(spec, 'source')}: table '{path}' not found; put the dataset there (see "
            "README 'Real data') or run the default profile, which uses built-in synthetic data"
        )
    return path


def _image_folder(spec: DatasetSpec, options: FileOptions, table: Path) -> Path:
    folder = table.parent / (options.images or ".")
    if not folder.is_dir():
        raise DataError(
            f"{where(spec, 'images')}: image folder '{folder}' not found; name the folder "
            "holding the images, relative to the table's folder"
        )
    return folder


def _column(spec, chosen: str | None, defaults: tuple, columns, *, key: str) -> str:
    """The column ``key`` names, or the first default present; one of them must exist."""
    candidates = (chosen,) if chosen else defaults
    for name in candidates:
        if name in columns:
            return name
    raise DataError(
        f"dataset '{spec.name}': the table has no column {' or '.join(map(repr, candidates))} "
        f"(columns: {', '.join(columns)}); set {where(spec, key)}"
    )


def _optional(spec, chosen: str | None, columns, *, key: str, auto: str | None = None):
    """A column that may be absent: the one chosen (must exist), else an automatic match."""
    if chosen:
        return _column(spec, chosen, (), columns, key=key)
    names = (auto,) if auto else PATIENT_COLUMNS
    return next((name for name in names if name in columns), None)


def _isic_labels(spec, options, rows, *, id_col: str, table: Path) -> list[str]:
    columns = rows[0].keys()
    label_col = options.label_column or next((c for c in ISIC_LABEL_COLUMNS if c in columns), None)
    if label_col:
        _column(spec, label_col, (), columns, key="label_column")
        return [row[label_col] for row in rows]
    one_hot = [c for c in columns if c != id_col and _binary(row[c] for row in rows)]
    if not one_hot:
        raise DataError(
            f"dataset '{spec.name}': '{table.name}' has neither a label column "
            f"({', '.join(ISIC_LABEL_COLUMNS)}) nor one-hot diagnosis columns; set "
            f"{where(spec, 'label_column')}"
        )
    return [next((c for c in one_hot if float(row[c]) == 1.0), "") for row in rows]


def _binary(values) -> bool:
    try:
        return all(float(v) in (0.0, 1.0) for v in values)
    except ValueError:
        return False


def _join_metadata(spec, options, rows, *, id_col: str, table: Path) -> list[dict]:
    """Add the columns of the ``metadata`` table (lesion or patient ids) to each row."""
    if not options.metadata:
        return rows
    extra = read_table(table.parent / options.metadata, spec=spec)
    extra_id = _column(spec, id_col, ID_COLUMNS, extra[0].keys(), key="id_column")
    by_id = {row[extra_id]: row for row in extra}
    return [{**by_id.get(row[id_col], {}), **row} for row in rows]


def _files_by_stem(folder: Path) -> dict[str, Path]:
    files: dict[str, Path] = {}
    for path in image_tree(folder).images:
        files.setdefault(path.stem, path)
    return files


def _csv_columns(spec: DatasetSpec, options: FileOptions, names, *, table: Path) -> Columns:
    columns = Columns(
        path=_column(spec, options.path_column, ("path",), names, key="path_column"),
        label=_column(spec, options.label_column, ("label",), names, key="label_column"),
        patient=_optional(spec, options.patient_column, names, key="patient_column"),
        split=_optional(spec, options.split_column, names, key="split_column", auto="split"),
    )
    if options.splits and columns.split is None:
        raise DataError(
            f"{where(spec, 'splits')}: '{table.name}' has no split column; add one or remove "
            f"{where(spec, 'splits')}"
        )
    return columns


def _csv_entry(row: dict[str, str], columns: Columns, base: Path) -> Entry:
    return Entry(
        path=base / row[columns.path],
        id=Path(row[columns.path]).as_posix(),
        label=row[columns.label],
        group=(row[columns.patient] or None) if columns.patient else None,
        split=row[columns.split] if columns.split else None,
    )


def _checked(candidates, options: FileOptions, *, table: Path) -> tuple[list, list]:
    """Rows as entries, leaving out classes the suite does not want; rows without a label
    or a file become bad files."""
    entries, bad = [], []
    for number, entry in candidates:
        if entry.label and options.classes is not None and entry.label not in options.classes:
            continue
        problem = _bad_row(number, entry, table=table)
        if problem:
            bad.append(problem)
        else:
            entries.append(entry)
    return entries, bad


def _bad_row(number: int, entry: Entry, *, table: Path) -> BadFile | None:
    """Why a row cannot be a sample (no label, no file), or None when it can."""
    if not entry.label:
        return BadFile(
            path=str(entry.path), reason=f"no label in {table.name} row {number}", fix="fill it in"
        )
    if not entry.path.is_file():
        return BadFile(
            path=str(entry.path),
            reason=f"{table.name} row {number} labels a file that does not exist",
            fix="add the file or remove the row",
        )
    return None


def _unlabelled(base: Path, named: set[Path], *, table: Path) -> list[BadFile]:
    images = image_tree(base).images
    return [_no_row(p, table) for p in images if os.path.normpath(p) not in named]


def _no_row(path: Path, table: Path) -> BadFile:
    return BadFile(
        path=str(path),
        reason=f"image file without a label (no row in {table.name})",
        fix="add a row for it or move it out of the image folder",
    )


def _listing(spec, options, entries, bad, *, table: Path, patient_col) -> Listing:
    _check_unique(spec, entries, table=table)
    found = [e.label for e in entries]
    class_names = class_order(found, options.classes, spec=spec, looked_in=f"'{table}'")
    grouping = f"patients from column '{patient_col}'" if patient_col else NO_PATIENTS
    return Listing(
        entries=tuple(entries), class_names=class_names, bad=tuple(bad), grouping=grouping
    )


def _check_unique(spec: DatasetSpec, entries: list[Entry], *, table: Path) -> None:
    seen: set[str] = set()
    for entry in entries:
        if entry.id in seen:
            raise DataError(
                f"dataset '{spec.name}': '{entry.id}' is listed twice in '{table}'; keep one row"
            )
        seen.add(entry.id)
