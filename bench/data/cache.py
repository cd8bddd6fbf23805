"""On-disk caches that let later runs skip decoding and re-hashing image files.

- ``images/``: the uint8 samples of one source file, keyed by the file's content
  hash, the preprocessing and the Pillow version (its resampling defines the pixels): a
  renamed or copied file hits the same entry, an edited one misses.
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
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.data.transform import Preprocessing
from bench.hashing import content_hash

FORMAT = 2  # bump when decoding or preprocessing code changes the pixels
MAGIC = b"BNC2"  # first bytes of every entry: a file bench did not write is not read as pixels
HEADER = struct.Struct("<4s4I")  # MAGIC and the entry's (T, S, S, C) shape


class DamagedEntry(Exception):
    """A cache file exists but is truncated or was not written by bench."""


@dataclass(frozen=True)
class ImageCache:
    """A folder of cached sample arrays, one file per source image.

    An entry is a 20-byte header (:data:`MAGIC`, then the four dimensions of the uint8
    array as little-endian uint32) followed by the pixels: reading one is an open and a
    read, where ``np.load`` would spend more time parsing its text header than copying a
    64 px image.
    """

    folder: Path

    def get(self, key: str) -> np.ndarray | None:
        """The cached array, or None when absent; :class:`DamagedEntry` when the file is
        truncated or foreign (the caller decodes again and overwrites it)."""
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

    return content_hash([FORMAT, prep, pillow], length=32)


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
