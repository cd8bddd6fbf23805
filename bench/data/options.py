"""The settings of a file-backed dataset, read once from its ``[datasets.NAME]`` table.

Each source kind accepts its own keys; a key that does not apply to the kind is a mistake
worth one clear line. The synthetic knobs (``samples_per_class``...) are ignored here on
purpose: a profile that swaps a synthetic source for real files inherits them by the
deep merge, and must still run.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from bench.config.schema import BAD_IMAGE_MODES, RESIZE_MODES
from bench.config.spec import DatasetSpec
from bench.errors import DataError

SYNTHETIC_KNOBS = (
    "samples_per_class",
    "classes",
    "imbalance",
    "difficulty",
    "label_noise",
    "images_per_patient",
    "seed",
)
COMMON_KEYS = ("classes", "resize", "channels", "tile", "on_bad_image")
TREE_KEYS = (*COMMON_KEYS, "patient_pattern", "include")
TABLE_KEYS = (*COMMON_KEYS, "images", "label_column", "patient_column")
KIND_KEYS = {
    "folder": TREE_KEYS,
    "busi": TREE_KEYS,
    "pool": TREE_KEYS,
    "csv": (*TABLE_KEYS, "path_column", "split_column", "splits"),
    "isic": (*TABLE_KEYS, "id_column", "metadata"),
    "medmnist": (*COMMON_KEYS, "splits"),
}


@dataclass(frozen=True)
class FileOptions:
    """What a file source may be told: which classes, how to preprocess, where columns are."""

    classes: tuple[str, ...] | None = None  # None: every class found, in the layout's order
    resize: str = "stretch"  # "stretch" to the square, or "pad" to keep the aspect ratio
    channels: int | None = None  # None: as stored (an error if files disagree), 1 or 3
    tile: int | None = None  # cut each image into tile x tile px samples before resizing
    on_bad_image: str = "error"  # "error" or "skip" (skipped files are reported)
    patient_pattern: str | None = None  # regex on the relative path; group 1 is the patient
    include: tuple[str, ...] = ()  # glob patterns on the relative path; empty keeps all
    images: str | None = None  # image folder of a table, relative to the table's folder
    metadata: str | None = None  # a second table joined on the image id (isic)
    path_column: str | None = None
    id_column: str | None = None
    label_column: str | None = None
    patient_column: str | None = None
    split_column: str | None = None
    splits: tuple[str, ...] | None = None  # keep only these fixed splits


def where(spec: DatasetSpec, key: str) -> str:
    """The place a setting lives, for messages: its suite key path or the bare source."""
    return spec.source if spec.name == spec.source else f"datasets.{spec.name}.{key}"


def file_options(spec: DatasetSpec) -> FileOptions:
    """Check the keys and values of a file source and return them as :class:`FileOptions`."""
    allowed = KIND_KEYS[spec.kind]
    given = {k: v for k, v in spec.options if k in allowed or k not in SYNTHETIC_KNOBS}
    for key in given:
        if key not in allowed:
            kinds = ", ".join(k for k, keys in KIND_KEYS.items() if key in keys)
            raise DataError(
                f"{where(spec, key)} does not apply to {spec.kind} sources (it applies to: "
                f"{kinds}); remove it"
            )
    values = {k: _tuple(v) for k, v in given.items()}
    if isinstance(values.get("include"), str):
        values["include"] = (values["include"],)
    options = FileOptions(**values)
    _check_values(spec, options)
    return options


def _tuple(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return tuple(value)
    return value


def _check_values(spec: DatasetSpec, options: FileOptions) -> None:
    _check_choice(spec, "resize", options.resize, RESIZE_MODES)
    _check_choice(spec, "on_bad_image", options.on_bad_image, BAD_IMAGE_MODES)
    _check_choice(spec, "channels", options.channels, (None, 1, 3))
    if options.tile is not None and options.tile < 8:
        raise DataError(f"{where(spec, 'tile')} = {options.tile}: use a tile side of at least 8 px")
    if options.classes is not None and not options.classes:
        raise DataError(f"{where(spec, 'classes')} is empty; list classes or remove the key")
    if options.patient_pattern is not None:
        try:
            re.compile(options.patient_pattern)
        except re.error as exc:
            raise DataError(
                f"{where(spec, 'patient_pattern')} = {options.patient_pattern!r} is not a "
                f"valid regular expression ({exc})"
            ) from None


def _check_choice(spec: DatasetSpec, key: str, value: Any, choices: tuple) -> None:
    if value not in choices:
        shown = " or ".join(json.dumps(c) for c in choices if c is not None)
        raise DataError(f"{where(spec, key)} = {json.dumps(value)}: use {shown}")
