"""Turn a suite's dataset spec into an :class:`ImageSet`: built-in synthetic data or files.

``source = "<kind>:<location>"`` picks the reader:

- ``synthetic:NAME`` — procedural data (``bench.data.synthetic``), no files;
- ``folder:PATH``, ``busi:PATH``, ``pool:PATH`` — image trees (``bench.data.layouts``);
- ``csv:FILE``, ``isic:FILE`` — tables labelling image files (``bench.data.manifests``);
- ``medmnist:FILE.npz`` — MedMNIST arrays (``bench.data.medmnist``);
- a bare path — the layout found there (``bench.data.detect``).

File data is read once per process: the listing and the content hash of every file form
a snapshot that :func:`load_dataset` and :func:`fingerprint` share, so a job's hash always
describes the pixels it trains on. Decoded images are cached on disk (``bench.data.cache``).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

import numpy as np

from bench.config.spec import DatasetSpec
from bench.data.cache import remembered_digests
from bench.data.detect import Layout, detect_layout
from bench.data.entries import BadFile, Listing
from bench.data.layouts import list_busi, list_folder, list_pool
from bench.data.manifests import list_csv, list_isic
from bench.data.medmnist import medmnist_file, read_medmnist
from bench.data.options import SYNTHETIC_KNOBS, FileOptions, file_options, where
from bench.data.reader import (
    FileImageSet,
    build_image_set,
    file_digest,
    file_digests,
    read_listing,
)
from bench.data.synthetic import SYNTHETIC, ImageSet, generate
from bench.data.transform import Preprocessing, prepare
from bench.errors import DataError
from bench.hashing import content_hash

LISTERS = {
    "folder": list_folder,
    "busi": list_busi,
    "pool": list_pool,
    "csv": list_csv,
    "isic": list_isic,
}
KINDS = ("synthetic", *LISTERS, "medmnist")


@dataclass(frozen=True)
class Snapshot:
    """A file source as this process sees it: what the layout lists and each file's hash."""

    options: FileOptions
    listing: Listing
    digests: tuple[str | None, ...]


def load_dataset(spec: DatasetSpec, *, image_size: int) -> ImageSet:
    """The images of ``spec`` at ``image_size`` px (cached per process; files also on disk).

    File sources return a :class:`FileImageSet`, which also carries content hashes, fixed
    splits, skipped files and how patients were found.
    """
    return _load(resolved(spec), image_size)


def fingerprint(spec: DatasetSpec, *, image_size: int) -> str:
    """Identity of the data a stage sees: the generator and its knobs, or every file's
    content, label, patient and split plus the preprocessing."""
    return _fingerprint(resolved(spec), image_size)


def resolved(spec: DatasetSpec) -> DatasetSpec:
    """``spec`` with a bare path replaced by the source of the layout found there."""
    layout = bare_layout(spec)
    return spec if layout is None else replace(spec, source=layout.source)


@lru_cache(maxsize=64)
def bare_layout(spec: DatasetSpec) -> Layout | None:
    """The layout a bare-path source stands for; None for a prefixed source."""
    if spec.kind in KINDS or (":" in spec.source and not Path(spec.source).exists()):
        return None
    try:
        return detect_layout(spec.source)
    except DataError as exc:
        if spec.name == spec.source:  # `bench data inspect PATH`: the message names PATH
            raise
        raise DataError(f"{where(spec, 'source')}: {exc}") from None


def skipped_files(spec: DatasetSpec, *, image_size: int) -> tuple[BadFile, ...]:
    """Files left out under ``on_bad_image = "skip"`` (path, reason, fix), for the run record;
    empty for synthetic data and for sources without bad files."""
    images = load_dataset(spec, image_size=image_size)
    return images.skipped if isinstance(images, FileImageSet) else ()


def _preprocessing(spec: DatasetSpec, options: FileOptions, *, image_size: int) -> Preprocessing:
    return Preprocessing(
        image_size=image_size,
        resize=options.resize,
        channels=options.channels,
        tile=options.tile,
        segment=spec.segment,
        segment_output=spec.segment_output,
    )


@lru_cache(maxsize=16)
def _load(spec: DatasetSpec, image_size: int) -> ImageSet:
    kind = _kind(spec)
    if kind == "synthetic":
        return _synthetic(spec, image_size)
    if kind == "medmnist":
        return _medmnist(spec, image_size)
    snapshot = _snapshot(spec)
    prep = _preprocessing(spec, snapshot.options, image_size=image_size)
    return read_listing(
        snapshot.listing, list(snapshot.digests), spec=spec, options=snapshot.options, prep=prep
    )


@lru_cache(maxsize=64)
def _fingerprint(spec: DatasetSpec, image_size: int) -> str:
    kind = _kind(spec)
    if kind == "synthetic":
        segmented = [spec.segment, spec.segment_output] if spec.segment != "none" else []
        return content_hash(["synthetic", spec.source, spec.options, image_size, *segmented])
    options = file_options(spec)
    prep = _preprocessing(spec, options, image_size=image_size)
    if kind == "medmnist":
        return content_hash(["medmnist", file_digest(medmnist_file(spec)), options, prep.identity])
    snapshot = _snapshot(spec)
    listing = snapshot.listing
    files = [
        (e.id, e.label, e.group, e.split, digest)
        for e, digest in zip(listing.entries, snapshot.digests)
    ]
    return content_hash(
        ["files", kind, prep.identity, options.on_bad_image, listing.class_names, files]
    )


@lru_cache(maxsize=16)
def _snapshot(spec: DatasetSpec) -> Snapshot:
    options = file_options(spec)
    listing = LISTERS[spec.kind](spec, options)
    digests = remembered_digests(
        [entry.path for entry in listing.entries],
        dataset=f"{spec.kind}:{os.path.abspath(spec.location)}",
        compute=file_digests,
    )
    return Snapshot(options=options, listing=listing, digests=tuple(digests))


def _kind(spec: DatasetSpec) -> str:
    if spec.kind not in KINDS or not spec.location:
        raise DataError(
            f"{where(spec, 'source')} = {spec.source!r}: unknown source; use one of "
            + ", ".join(f'"{kind}:..."' for kind in KINDS)
            + " (see README 'Real data')"
        )
    return spec.kind


def _synthetic(spec: DatasetSpec, image_size: int) -> ImageSet:
    name = spec.location
    if name not in SYNTHETIC:
        raise DataError(
            f"{where(spec, 'source')} = {spec.source!r}: no built-in dataset '{name}' "
            f"(built-in: {', '.join('synthetic:' + n for n in SYNTHETIC)})"
        )
    knobs = dict(spec.options)
    unknown = sorted(set(knobs) - set(SYNTHETIC_KNOBS))
    if unknown:
        raise DataError(f"{where(spec, unknown[0])} does not apply to synthetic data; remove it")
    try:
        images = generate(name, image_size=image_size, **knobs)
    except DataError as exc:
        raise DataError(f"datasets.{spec.name}: {exc}") from None
    return _segmented(images, spec) if spec.segment != "none" else images


def _segmented(images: ImageSet, spec: DatasetSpec) -> ImageSet:
    """Generated images with the lesion segmented, each resized back to the image size."""
    size = images.images.shape[1]
    prep = Preprocessing(image_size=size, segment=spec.segment, segment_output=spec.segment_output)
    return replace(images, images=np.concatenate([prepare(image, prep) for image in images.images]))


def _medmnist(spec: DatasetSpec, image_size: int) -> FileImageSet:
    """MedMNIST arrays are decoded already: preprocess in memory, no disk cache."""
    options = file_options(spec)
    prep = _preprocessing(spec, options, image_size=image_size)
    listing, images = read_medmnist(spec, options)
    samples = [prepare(image, prep) for image in images]
    return build_image_set(
        np.concatenate(samples),
        entries=list(listing.entries),
        digests=[hashlib.sha256(image.tobytes()).hexdigest() for image in images],
        counts=[len(s) for s in samples],
        class_names=listing.class_names,
        skipped=(),
        grouping=listing.grouping,
        tiled=prep.tile is not None,
        spec=spec,
    )
