"""Read a :class:`Listing` into a :class:`FileImageSet`: cache, decode, preprocess, check.

The dataset's samples live in one memory-mapped uint8 file (``bench.data.cache``), written
once per dataset and preprocessing. Building it, files are read on a few threads (Pillow
and hashlib release the GIL while they work); each file's samples come from the per-file
cache when its content hash and preprocessing were seen before; only misses are decoded.
Bad files either stop loading with one line (``on_bad_image = "error"``) or are left out
and listed in ``skipped``.
"""

from __future__ import annotations

import hashlib
import os
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np

from bench.config.spec import DatasetSpec
from bench.data import decode
from bench.data.cache import (
    DamagedEntry,
    ImageCache,
    PixelWriter,
    cache_key,
    cache_root,
    dataset_key,
    image_cache,
    key_prefix,
    read_pixels,
)
from bench.data.entries import BadFile, Entry, Listing
from bench.data.options import FileOptions, where
from bench.data.synthetic import ImageSet
from bench.data.transform import Preprocessing, prepare
from bench.errors import DataError

WORKERS = min(8, os.cpu_count() or 1)
CHUNK = 256  # entries read ahead of the dataset file's writer: bounds memory while loading


@dataclass(frozen=True)
class FileImageSet(ImageSet):
    """An :class:`ImageSet` read from files, with what reading learned on the way.

    ``digests`` is the content hash of each sample's source (tiles share their image's),
    for checking overlap between datasets; ``splits`` the fixed split a manifest gives each
    sample (None without one); ``skipped`` the files left out under
    ``on_bad_image = "skip"``; ``grouping`` how patients were found.
    """

    digests: np.ndarray
    splits: np.ndarray | None
    skipped: tuple[BadFile, ...]
    grouping: str


@dataclass(frozen=True)
class Item:
    """One source's samples, ready to be stacked into the dataset."""

    entry: Entry
    digest: str
    samples: np.ndarray  # (T, S, S, C); T > 1 for tiles


def file_digests(paths: list[Path]) -> list[str | None]:
    """Content hash of each file (None when it cannot be read), computed on threads."""
    with ThreadPoolExecutor(WORKERS) as pool:
        return list(pool.map(file_digest, paths))


def file_digest(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def read_listing(
    listing: Listing,
    digests: list[str | None],
    *,
    spec: DatasetSpec,
    options: FileOptions,
    prep: Preprocessing,
) -> FileImageSet:
    """Samples of every entry, checked and stacked, memory-mapped from the dataset file.

    A warm load maps the dataset file and reads no image; otherwise the file is written
    entry by entry (see :func:`_write_pixels`), so loading never holds the dataset in memory.
    """
    prefix = key_prefix(prep)
    key = dataset_key(prefix, digests)
    damaged: list[str] = []
    stored = _read_pixels(key, damaged) or _write_pixels(
        key, listing.entries, digests, prep=prep, damaged=damaged
    )
    if damaged:
        print(
            f"bench: {len(damaged)} image-cache file(s) under {cache_root()} were truncated or "
            f"not written by bench; decoding those images again (dataset '{spec.name}')",
            file=sys.stderr,
        )
    entries = listing.entries
    bad = (
        *listing.bad,
        *(BadFile(str(entries[i].path), *reason) for i, reason in sorted(stored.bad.items())),
    )
    if bad and options.on_bad_image == "error":
        raise bad[0].error(spec.name, more=len(bad) - 1)
    if stored.images is None:
        raise _mixed_channels(stored.bad_channels, spec)
    kept = [i for i, count in enumerate(stored.counts) if count]
    return build_image_set(
        stored.images,
        entries=[entries[i] for i in kept],
        digests=[digests[i] for i in kept],
        counts=[stored.counts[i] for i in kept],
        class_names=listing.class_names,
        skipped=bad,
        grouping=listing.grouping,
        tiled=prep.tile is not None,
        spec=spec,
    )


def build_image_set(
    images: np.ndarray,
    *,
    entries: list[Entry],
    digests: list[str],
    counts: list[int],
    class_names: tuple[str, ...],
    skipped: tuple[BadFile, ...],
    grouping: str,
    tiled: bool,
    spec: DatasetSpec,
) -> FileImageSet:
    """The dataset of stacked ``images``, ``counts[k]`` samples from ``entries[k]``; tiles
    become ``ID#k`` samples in their image's group."""
    if not entries:
        raise DataError(
            f"dataset '{spec.name}': no images to load ({len(skipped)} bad file(s)); check "
            f"{where(spec, 'source')} with `bench data inspect`"
        )
    _check_classes_left(entries, class_names, spec=spec, skipped=len(skipped))
    ids = [f"{e.id}#{k}" if tiled else e.id for e, n in zip(entries, counts) for k in range(n)]
    splits = [e.split for e in entries]
    return FileImageSet(
        images=images,
        labels=np.repeat([class_names.index(e.label) for e in entries], counts).astype(np.int64),
        groups=np.repeat([e.group or e.id for e in entries], counts),
        ids=np.array(ids),
        class_names=class_names,
        digests=np.repeat(digests, counts),
        splits=None if all(s is None for s in splits) else np.repeat(splits, counts),
        skipped=skipped,
        grouping=grouping,
    )


def _read_pixels(key: str, damaged: list[str]):
    """The dataset file of ``key``, or None (absent, or damaged: then noted in ``damaged``)."""
    try:
        return read_pixels(key)
    except DamagedEntry:
        damaged.append(key)
        return None


def _write_pixels(
    key: str,
    entries: tuple[Entry, ...],
    digests: list[str | None],
    *,
    prep: Preprocessing,
    damaged: list[str],
):
    """Write the dataset file of ``key`` from the per-file cache and the decoder.

    Returns its :class:`StoredPixels`; when files mix greyscale and colour (and ``channels``
    does not say which to make) nothing is stored and ``images`` is None, with the first
    file of each kind in ``bad_channels``."""
    writer, counts, bad, first = PixelWriter(key), [], {}, {}
    try:
        for index, outcome in enumerate(_outcomes(entries, digests, prep=prep, damaged=damaged)):
            if isinstance(outcome, BadFile):
                counts.append(0)
                bad[index] = (outcome.reason, outcome.fix)
                continue
            first.setdefault(outcome.samples.shape[-1], outcome.entry.path)
            counts.append(len(outcome.samples))
            if len(first) == 1:
                writer.write(outcome.samples)
    except BaseException:
        writer.abort()
        raise
    if len(first) > 1:
        writer.abort()
        return MixedChannels(counts=tuple(counts), bad=bad, bad_channels=(first[1], first[3]))
    return writer.commit(counts, bad)


@dataclass(frozen=True)
class MixedChannels:
    """What :func:`_write_pixels` found when greyscale and colour files were mixed."""

    counts: tuple[int, ...]
    bad: dict[int, tuple[str, str]]
    bad_channels: tuple[Path, Path]
    images: None = None


def _outcomes(entries, digests, *, prep: Preprocessing, damaged: list[str]):
    """Each entry's :class:`Item` or :class:`BadFile`, in order, :data:`CHUNK` at a time:
    cache hits are read in this thread (a small read each: threads would only contend for
    the GIL), misses decoded on :data:`WORKERS` threads."""
    cache, prefix = image_cache(), key_prefix(prep)
    decode_one = partial(_decode_entry, prep=prep, store=cache.put, prefix=prefix)
    with ThreadPoolExecutor(WORKERS) as pool:
        for start in range(0, len(entries), CHUNK):
            part = list(zip(entries[start : start + CHUNK], digests[start : start + CHUNK]))
            outcomes = [_cached(cache, prefix, e, d, damaged) for e, d in part]
            misses = [i for i, outcome in enumerate(outcomes) if outcome is None]
            if misses:
                decoded = pool.map(decode_one, *zip(*[part[i] for i in misses]))
                for i, outcome in zip(misses, decoded):
                    outcomes[i] = outcome
            yield from outcomes


def _cached(
    cache: ImageCache, prefix: str, entry: Entry, digest: str | None, damaged: list[str]
) -> Item | None:
    """The entry's cached samples, or None; keys of damaged cache files go to ``damaged``."""
    if digest is None:
        return None
    key = cache_key(prefix, digest)
    try:
        samples = cache.get(key)
    except DamagedEntry:
        damaged.append(key)
        return None
    return None if samples is None else Item(entry=entry, digest=digest, samples=samples)


def _decode_entry(
    entry: Entry, digest: str | None, *, prep: Preprocessing, store, prefix: str
) -> Item | BadFile:
    """Read, check, decode and preprocess one file, and store its samples in the cache."""
    try:
        data = entry.path.read_bytes()
    except OSError as exc:
        return BadFile(str(entry.path), f"cannot read file ({exc.strerror})", "check the file")
    if hashlib.sha256(data).hexdigest() != digest:
        raise DataError(
            f"'{entry.path}' changed while bench was reading it; rerun once the dataset is complete"
        )
    try:
        samples = prepare(decode.decode_image(data, at_least=prep.decode_at_least), prep)
    except decode.BadImage as exc:
        return BadFile(str(entry.path), str(exc), "replace or remove the file")
    store(cache_key(prefix, digest), samples)
    return Item(entry=entry, digest=digest, samples=samples)


def _mixed_channels(first: tuple[Path, Path], spec: DatasetSpec) -> DataError:
    """Files must agree on greyscale vs colour unless ``channels`` says which to make."""
    grey, colour = first
    return DataError(
        f"dataset '{spec.name}': mixed channel counts: '{grey}' is greyscale but "
        f"'{colour}' is colour; set {where(spec, 'channels')} = 1 or 3 to convert all"
    )


def _check_classes_left(entries, class_names, *, spec: DatasetSpec, skipped: int) -> None:
    present = {entry.label for entry in entries}
    for name in class_names:
        if name not in present:
            after = f" after skipping {skipped} bad file(s)" if skipped else ""
            raise DataError(
                f"dataset '{spec.name}': class '{name}' has no images left{after}; add images "
                f"or drop it from {where(spec, 'classes')}"
            )
