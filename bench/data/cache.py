"""On-disk caches that let later runs skip decoding and re-hashing image files.

- ``images/``: the uint8 samples of one source file, keyed by the file's content
  hash, the preprocessing and the Pillow version (its resampling defines the pixels): a
  renamed or copied file hits the same entry, an edited one misses.
- ``datasets/``: the stacked uint8 samples of one whole dataset under one preprocessing,
  memory-mapped by every process that trains on it: pixels are held once per machine (in
  the page cache, shared by all local workers) and read as batches need them, so a dataset
  larger than RAM still trains. Keyed by the preprocessing and every file's content hash in
  listing order.
- ``digests/``: per dataset, each file's content hash remembered with its size and
  modification time, as make, rsync and git do, so a warm load does not read every byte
  of a large dataset again (ISIC 2019 is 9 GB); a file whose size or time changed is
  hashed again.

Everything is written to a temporary file and renamed into place, so a killed run or
parallel workers never leave a half-written entry, and cache trouble only costs speed.
The root is ``$BENCH_CACHE`` when set, else ``$XDG_CACHE_HOME/bench`` (``~/.cache/bench``);
delete it at will.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bench.data.transform import Preprocessing
from bench.hashing import content_hash

FORMAT = 2  # bump when decoding or preprocessing code changes the pixels
MAGIC = b"BNC2"  # first bytes of every entry: a file bench did not write is not read as pixels
HEADER = struct.Struct("<4s4I")  # MAGIC and the entry's (T, S, S, C) shape
TRAILER = struct.Struct("<Q")  # length of a dataset file's JSON description, at its very end


class DamagedEntry(Exception):
    """A cache file exists but is truncated or was not written by bench."""


@dataclass(frozen=True)
class ImageCache:
    """A folder of cached sample arrays, one file per source image.

    An entry is a 20-byte header (:data:`MAGIC`, then the four dimensions of the uint8
    array, little-endian uint32) followed by the pixels: reading one is an open and a read,
    where ``np.load`` would spend more time parsing its text header than copying a 64 px
    image.
    """

    folder: Path

    def get(self, key: str) -> np.ndarray | None:
        """The cached array, or None when absent; :class:`DamagedEntry` when the file is
        truncated or not bench's (the caller decodes the image again)."""
        try:
            data = self._path(key).read_bytes()
        except OSError:
            return None
        if len(data) < HEADER.size or not data.startswith(MAGIC):
            raise DamagedEntry(key)
        shape = HEADER.unpack_from(data)[1:]
        if len(data) != HEADER.size + int(np.prod(shape)):
            raise DamagedEntry(key)
        return np.frombuffer(data, dtype=np.uint8, offset=HEADER.size).reshape(shape)

    def put(self, key: str, samples: np.ndarray) -> None:
        entry = HEADER.pack(MAGIC, *samples.shape) + np.ascontiguousarray(samples).tobytes()
        _write_atomically(self._path(key), lambda file: file.write(entry))

    def _path(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.u8"


@dataclass(frozen=True)
class StoredPixels:
    """A dataset file: all samples (N, S, S, C), memory-mapped read-only, and per listed
    entry its sample count (0 for a bad file) and, for bad files, why and the fix."""

    images: np.ndarray
    counts: tuple[int, ...]
    bad: dict[int, tuple[str, str]] = field(default_factory=dict)


def dataset_key(prefix: str, digests: list[str | None]) -> str:
    """Identity of a dataset file: the preprocessing and every file's content, in order."""
    return content_hash([prefix, digests], length=32)


def read_pixels(key: str) -> StoredPixels | None:
    """The dataset file of ``key``, or None when absent; :class:`DamagedEntry` when it is
    truncated or not bench's (then it is rebuilt).

    Layout: the pixels from offset 0 (so they map without copying), then a JSON description
    (shape, counts, bad files), then its length as a little-endian uint64."""
    path = _pixels_path(key)
    if not path.is_file():
        return None
    try:
        with path.open("rb") as file:
            size = file.seek(0, os.SEEK_END)
            file.seek(size - TRAILER.size)
            (length,) = TRAILER.unpack(file.read(TRAILER.size))
            file.seek(size - TRAILER.size - length)
            meta = json.loads(file.read(length))
    except (OSError, ValueError, struct.error, AttributeError):
        raise DamagedEntry(key) from None
    shape = tuple(meta.get("shape", ())) if isinstance(meta, dict) else ()
    if len(shape) != 4 or size != int(np.prod(shape)) + length + TRAILER.size:
        raise DamagedEntry(key)
    return _stored(path, shape, meta)


class PixelWriter:
    """Streams a dataset's samples, in order, into a temporary file that :meth:`commit`
    renames into place: a killed run or parallel workers never leave a half-written file.

    Where the cache cannot be written, the file goes to the system's temporary folder and is
    unlinked once mapped (the mapping outlives the name), so memory stays lean regardless."""

    def __init__(self, key: str):
        self.path = _pixels_path(key)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=self.path.parent, suffix=".tmp")
            self.cached = True
        except OSError:
            handle, temporary = tempfile.mkstemp(suffix=".pixels")
            self.cached = False
        self.temporary = Path(temporary)
        self.file = os.fdopen(handle, "wb")
        self.sample_shape: tuple[int, ...] | None = None
        self.count = 0

    def write(self, samples: np.ndarray) -> None:
        """Append (T, S, S, C) samples; every call must have the same sample shape."""
        self.sample_shape = self.sample_shape or samples.shape[1:]
        self.file.write(np.ascontiguousarray(samples, dtype=np.uint8).tobytes())
        self.count += len(samples)

    def commit(self, counts: list[int], bad: dict[int, tuple[str, str]]) -> StoredPixels:
        shape = (self.count, *(self.sample_shape or (0, 0, 0)))
        meta = {"shape": shape, "counts": counts, "bad": {str(i): list(b) for i, b in bad.items()}}
        description = json.dumps(meta).encode()
        self.file.write(description + TRAILER.pack(len(description)))
        self.file.close()
        if not self.cached:
            stored = _stored(self.temporary, shape, meta)
            self.temporary.unlink()
            return stored
        os.replace(self.temporary, self.path)
        return _stored(self.path, shape, meta)

    def abort(self) -> None:
        self.file.close()
        self.temporary.unlink(missing_ok=True)


def _stored(path: Path, shape: tuple[int, ...], meta: dict) -> StoredPixels:
    if shape[0] == 0:
        images = np.zeros(shape, dtype=np.uint8)
    else:
        images = np.memmap(path, dtype=np.uint8, mode="r", shape=shape)
    bad = {int(i): (reason, fix) for i, (reason, fix) in meta.get("bad", {}).items()}
    return StoredPixels(images=images, counts=tuple(meta["counts"]), bad=bad)


def _pixels_path(key: str) -> Path:
    return cache_root() / "datasets" / f"{key}.pixels"


def cache_root() -> Path:
    """The cache folder the environment names now (tests point ``BENCH_CACHE`` at tmp)."""
    root = os.environ.get("BENCH_CACHE")
    if not root:
        root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "bench"
    return Path(root).expanduser()


def image_cache() -> ImageCache:
    return ImageCache(folder=cache_root() / "images")


def key_prefix(prep: Preprocessing) -> str:
    """What every entry of one preprocessing shares: format, preprocessing, Pillow version.
    Hashed once per load, so a key per file is one short hash."""
    from PIL import __version__ as pillow

    return content_hash([FORMAT, prep.identity, pillow], length=32)


def cache_key(prefix: str, digest: str) -> str:
    """Identity of one file's samples: its content under one preprocessing."""
    return hashlib.sha256(f"{prefix}:{digest}".encode()).hexdigest()[:32]


def remembered_digests(
    paths: list[Path], *, dataset: str, compute: Callable[[list[Path]], list[str | None]]
) -> list[str | None]:
    """Content hash of each file: remembered where size and modification time are unchanged,
    else ``compute``-d and remembered for the next run."""
    memo_path = cache_root() / "digests" / f"{content_hash(dataset)}.json"
    known = _read_memo(memo_path)
    keys = [os.path.abspath(p) for p in paths]
    stats = [_stat(p) for p in paths]
    digests = [_known(known, key, stat) for key, stat in zip(keys, stats)]
    missing = [i for i, digest in enumerate(digests) if digest is None]
    for i, digest in zip(missing, compute([paths[i] for i in missing])):
        digests[i] = digest
    if missing:
        memo = {k: [*s, d] for k, s, d in zip(keys, stats, digests) if s and d}
        _write_atomically(memo_path, lambda file: file.write(json.dumps(memo).encode()))
    return digests


def _known(known: dict, key: str, stat: tuple[int, int] | None) -> str | None:
    remembered = known.get(key)
    if stat is None or not remembered or tuple(remembered[:2]) != stat:
        return None
    return remembered[2]


def _stat(path: Path) -> tuple[int, int] | None:
    try:
        status = path.stat()
    except OSError:
        return None
    return status.st_size, status.st_mtime_ns


def _read_memo(path: Path) -> dict:
    try:
        memo = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return {}
    return memo if isinstance(memo, dict) else {}


def _write_atomically(path: Path, write: Callable) -> None:
    """Write through a temporary file renamed into place; cache trouble only costs speed."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    except OSError:
        return
    try:
        with os.fdopen(handle, "wb") as file:
            write(file)
        os.replace(temporary, path)
    except OSError:
        Path(temporary).unlink(missing_ok=True)
