"""Turn a suite's dataset spec into an :class:`ImageSet`: built-in synthetic data or a folder.

Folder layout: one sub-folder per class (any depth below it), images in png, jpg, bmp or
tif. Files whose name contains ``_mask`` are segmentation masks (the breast-ultrasound
layout) and are not samples. Without patient ids each image is its own group.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

from bench.config.spec import DatasetSpec
from bench.data.synthetic import SYNTHETIC, ImageSet, generate
from bench.errors import DataError
from bench.hashing import content_hash

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff"}
SYNTHETIC_KNOBS = (
    "samples_per_class",
    "classes",
    "imbalance",
    "difficulty",
    "label_noise",
    "images_per_patient",
    "seed",
)


def load_dataset(spec: DatasetSpec, *, image_size: int) -> ImageSet:
    """The images of ``spec`` at ``image_size`` px (cached per process)."""
    return _load(spec, image_size)


def fingerprint(spec: DatasetSpec, *, image_size: int) -> str:
    """Identity of the data a stage sees: what generated it, or which files at which size."""
    if spec.kind == "synthetic":
        return content_hash(["synthetic", spec.source, spec.options, image_size])
    files = _folder_files(spec)
    return content_hash(["folder", image_size, [(str(p), p.stat().st_size) for p, _ in files]])


@lru_cache(maxsize=16)
def _load(spec: DatasetSpec, image_size: int) -> ImageSet:
    if spec.kind == "synthetic":
        return _synthetic(spec, image_size)
    if spec.kind == "folder":
        return _folder(spec, image_size)
    raise DataError(
        f"datasets.{spec.name}.source = {spec.source!r}: unknown kind '{spec.kind}'; use "
        '"synthetic:NAME" or "folder:PATH"'
    )


def _synthetic(spec: DatasetSpec, image_size: int) -> ImageSet:
    name = spec.location
    if name not in SYNTHETIC:
        raise DataError(
            f"datasets.{spec.name}.source = {spec.source!r}: no built-in dataset '{name}' "
            f"(built-in: {', '.join('synthetic:' + n for n in SYNTHETIC)})"
        )
    knobs = dict(spec.options)
    unknown = sorted(set(knobs) - set(SYNTHETIC_KNOBS))
    if unknown:
        raise DataError(f"datasets.{spec.name}.{unknown[0]} does not apply to synthetic data")
    try:
        return generate(name, image_size=image_size, **knobs)
    except DataError as exc:
        raise DataError(f"datasets.{spec.name}: {exc}") from None


def _folder(spec: DatasetSpec, image_size: int) -> ImageSet:
    files = _folder_files(spec)
    class_names = tuple(sorted({label for _, label in files}))
    images = np.stack([_read_image(path, image_size, spec) for path, _ in files])
    labels = np.array([class_names.index(label) for _, label in files], dtype=np.int64)
    ids = np.array([str(path) for path, _ in files])
    return ImageSet(
        images=images, labels=labels, groups=ids.copy(), ids=ids, class_names=class_names
    )


def _folder_files(spec: DatasetSpec) -> list[tuple[Path, str]]:
    root = Path(spec.location)
    if not root.is_dir():
        raise DataError(
            f"datasets.{spec.name}.source: folder '{root}' not found; put the dataset there "
            "(one sub-folder per class, see README 'Real data') or run the default profile, "
            "which uses built-in synthetic data"
        )
    wanted = spec.option("classes")
    files = []
    for class_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        if wanted and class_dir.name not in wanted:
            continue
        files += [
            (p, class_dir.name)
            for p in sorted(class_dir.rglob("*"))
            if p.suffix.lower() in IMAGE_SUFFIXES and "_mask" not in p.stem
        ]
    if not files:
        raise DataError(
            f"datasets.{spec.name}.source: no images under '{root}/<class>/'; expected one "
            "sub-folder per class holding png, jpg, bmp or tif files"
        )
    return files


def _read_image(path: Path, image_size: int, spec: DatasetSpec) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            rgb = image.convert("RGB").resize((image_size, image_size), Image.BILINEAR)
            return np.asarray(rgb, dtype=np.uint8)
    except (OSError, UnidentifiedImageError) as exc:
        raise DataError(
            f"dataset '{spec.name}': cannot read image '{path}' ({exc}); remove or replace it"
        ) from None
