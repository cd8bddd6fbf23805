"""MedMNIST ``.npz`` files already on disk (``medmnist:data/breastmnist.npz``); bench never
downloads them.

A file holds ``train_images``/``train_labels`` and the same for ``val`` and ``test``; the
three splits are merged, each sample keeping its split in its id (``val/12``) and in
``splits``, so cross-validation sees all of them (``splits = ["train"]`` keeps some).
MedMNIST names no patients: each image is its own group. Multi-label (ChestMNIST) and 3D
files are refused. Class names follow MedMNIST's label order, shortened to the usual
codes where the originals are sentences; other files get ``"0"``, ``"1"``...
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import numpy as np

from bench.config.spec import DatasetSpec
from bench.data.entries import NO_PATIENTS, Entry, Listing, class_order
from bench.data.options import FileOptions, where
from bench.errors import DataError

SPLITS = ("train", "val", "test")
LABELS = {
    "breastmnist": ("malignant", "normal or benign"),
    "pneumoniamnist": ("normal", "pneumonia"),
    "dermamnist": ("akiec", "bcc", "bkl", "df", "mel", "nv", "vasc"),  # HAM10000 dx codes
    "pathmnist": ("ADI", "BACK", "DEB", "LYM", "MUC", "MUS", "NORM", "STR", "TUM"),  # NCT-CRC
    "octmnist": ("CNV", "DME", "drusen", "normal"),
    "bloodmnist": (
        "basophil",
        "eosinophil",
        "erythroblast",
        "immature granulocyte",
        "lymphocyte",
        "monocyte",
        "neutrophil",
        "platelet",
    ),
}


def read_medmnist(spec: DatasetSpec, options: FileOptions) -> tuple[Listing, np.ndarray]:
    """The samples of a MedMNIST file as a listing and their (N, H, W, C) uint8 images."""
    path = medmnist_file(spec)
    parts = _splits(spec, path, options)
    names = _class_names(path, parts)
    entries, images = [], []
    for split, pixels, labels in parts:
        for index, (image, label) in enumerate(zip(pixels, labels)):
            entries.append(Entry(path=path, id=f"{split}/{index}", label=names[label], split=split))
            images.append(image)
    found = [e.label for e in entries]
    class_names = class_order(
        found, options.classes, spec=spec, looked_in=f"'{path}'", natural=names
    )
    keep = [i for i, e in enumerate(entries) if e.label in class_names]
    listing = Listing(
        entries=tuple(entries[i] for i in keep), class_names=class_names, grouping=NO_PATIENTS
    )
    return listing, np.stack([images[i] for i in keep])


def _splits(spec: DatasetSpec, path: Path, options: FileOptions) -> list[tuple]:
    """(split, images (N, H, W, C), labels (N,)) for each split present and wanted."""
    wanted = options.splits or SPLITS
    unknown = [s for s in wanted if s not in SPLITS]
    if unknown:
        raise DataError(f"{where(spec, 'splits')}: no split '{unknown[0]}'; use train, val, test")
    archive = _open(spec, path)
    with archive:
        present = [s for s in wanted if f"{s}_images" in archive.files]
        if not present:
            raise DataError(
                f"dataset '{spec.name}': '{path}' is not a MedMNIST file (no train_images, "
                "val_images or test_images); use the .npz files from medmnist.com"
            )
        return [
            (s, _images(spec, path, archive[f"{s}_images"]), _labels(spec, path, archive, s))
            for s in present
        ]


def medmnist_file(spec: DatasetSpec) -> Path:
    """The .npz file a ``medmnist:`` source names; it must exist."""
    path = Path(spec.location).expanduser()
    if not path.is_file():
        raise DataError(
            f"{where(spec, 'source')}: file '{path}' not found; put the MedMNIST .npz there "
            "(see README 'Real data')"
        )
    return path


def _open(spec: DatasetSpec, path: Path):
    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        raise DataError(f"dataset '{spec.name}': cannot read '{path}' ({exc})") from None


def _images(spec: DatasetSpec, path: Path, pixels: np.ndarray) -> np.ndarray:
    if pixels.ndim == 3:
        pixels = pixels[..., None]
    if pixels.ndim != 4 or pixels.shape[-1] not in (1, 3):
        raise DataError(
            f"dataset '{spec.name}': '{path}' holds images of shape {pixels.shape[1:]}; only "
            "2D MedMNIST files (greyscale or RGB) are supported"
        )
    return pixels.astype(np.uint8)


def _labels(spec: DatasetSpec, path: Path, archive, split: str) -> np.ndarray:
    labels = archive[f"{split}_labels"]
    if labels.ndim == 2 and labels.shape[1] != 1:
        raise DataError(
            f"dataset '{spec.name}': '{path}' is multi-label ({labels.shape[1]} labels per "
            "image); bench classifies one label per image"
        )
    return labels.reshape(-1).astype(np.int64)


def _class_names(path: Path, parts: list[tuple]) -> tuple[str, ...]:
    known = LABELS.get(re.sub(r"_\d+$", "", path.stem))
    count = 1 + max(int(labels.max()) for _, _, labels in parts)
    return known if known and len(known) >= count else tuple(str(i) for i in range(count))
