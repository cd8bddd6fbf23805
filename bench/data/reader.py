"""Read a :class:`Listing` into a :class:`FileImageSet`: cache, decode, preprocess, check.

Files are read on a few threads (Pillow and hashlib release the GIL while they work).
Each file's samples come from the on-disk cache when its content hash and preprocessing
were seen before; only misses are decoded. Bad files either stop loading with one line
(``on_bad_image = "error"``) or are left out and listed in ``skipped``.
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
from bench.data.cache import DamagedEntry, ImageCache, cache_key, image_cache, key_prefix
from bench.data.entries import BadFile, Entry, Listing
from bench.data.options import FileOptions, where
from bench.data.synthetic import ImageSet
from bench.data.transform import Preprocessing, prepare
from bench.errors import DataError

WORKERS = min(8, os.cpu_count() or 1)


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
    """Samples of every entry (from the cache where possible), checked and stacked.

    Cache hits are read in this thread (a small read each: threads would only contend for
    the GIL); misses are decoded on :data:`WORKERS` threads.
    """
    cache, prefix = image_cache(), key_prefix(prep)
    entries = listing.entries
    damaged: list[str] = []
    outcomes = [_cached(cache, prefix, e, d, damaged) for e, d in zip(entries, digests)]
    if damaged:
        print(
            f"bench: {len(damaged)} image-cache file(s) under {cache.folder} were truncated or "
            f"not written by bench; decoding those images again (dataset '{spec.name}')",
            file=sys.stderr,
        )
    misses = [i for i, outcome in enumerate(outcomes) if outcome is None]
    if misses:
        decode_one = partial(_decode_entry, prep=prep, store=cache.put, prefix=prefix)
        with ThreadPoolExecutor(WORKERS) as pool:
            decoded = list(pool.map(decode_one, *zip(*[(entries[i], digests[i]) for i in misses])))
        for i, outcome in zip(misses, decoded):
            outcomes[i] = outcome
    bad = (*listing.bad, *(o for o in outcomes if isinstance(o, BadFile)))
    if bad and options.on_bad_image == "error":
        raise bad[0].error(spec.name, more=len(bad) - 1)
    items = [o for o in outcomes if isinstance(o, Item)]
    if prep.channels is None:
        _check_channels(items, spec)
    return build_image_set(
        items,
        class_names=listing.class_names,
        skipped=bad,
        grouping=listing.grouping,
        tiled=prep.tile is not None,
        spec=spec,
    )


def build_image_set(
    items: list[Item],
    *,
    class_names: tuple[str, ...],
    skipped: tuple[BadFile, ...],
    grouping: str,
    tiled: bool,
    spec: DatasetSpec,
) -> FileImageSet:
    """Stack items into one dataset; tiles become ``ID#k`` samples in their image's group."""
    if not items:
        raise DataError(
            f"dataset '{spec.name}': no images to load ({len(skipped)} bad file(s)); check "
            f"{where(spec, 'source')} with `bench data inspect`"
        )
    _check_classes_left(items, class_names, spec=spec, skipped=len(skipped))
    counts = [len(item.samples) for item in items]
    entries = [item.entry for item in items]
    ids = [f"{e.id}#{k}" if tiled else e.id for e, n in zip(entries, counts) for k in range(n)]
    splits = [e.split for e in entries]
    return FileImageSet(
        images=np.concatenate([item.samples for item in items]),
        labels=np.repeat([class_names.index(e.label) for e in entries], counts).astype(np.int64),
        groups=np.repeat([e.group or e.id for e in entries], counts),
        ids=np.array(ids),
        class_names=class_names,
        digests=np.repeat([item.digest for item in items], counts),
        splits=None if all(s is None for s in splits) else np.repeat(splits, counts),
        skipped=skipped,
        grouping=grouping,
    )


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


def _check_channels(items: list[Item], spec: DatasetSpec) -> None:
    """Files must agree on greyscale vs colour unless ``channels`` says which to make."""
    first = {}
    for item in items:
        first.setdefault(item.samples.shape[-1], item.entry.path)
    if len(first) > 1:
        raise DataError(
            f"dataset '{spec.name}': mixed channel counts: '{first[1]}' is greyscale but "
            f"'{first[3]}' is colour; set {where(spec, 'channels')} = 1 or 3 to convert all"
        )


def _check_classes_left(items, class_names, *, spec: DatasetSpec, skipped: int) -> None:
    present = {item.entry.label for item in items}
    for name in class_names:
        if name not in present:
            after = f" after skipping {skipped} bad file(s)" if skipped else ""
            raise DataError(
                f"dataset '{spec.name}': class '{name}' has no images left{after}; add images "
                f"or drop it from {where(spec, 'classes')}"
            )
