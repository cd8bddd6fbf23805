"""Exact duplicates (same content hash) and near duplicates (close difference hashes).

The difference hash (dHash, Krawetz 2013): shrink the greyscale image to 9 x 8 by area
averaging, then record for each row whether each pixel is brighter than its right-hand
neighbour: 64 bits that survive rescaling, recompression and small brightness changes.
Two images whose hashes differ in at most a few bits are near duplicates.

Why not the ``imagehash`` package: it would add a dependency (and PyWavelets) for about ten
lines, and it hashes and compares one PIL image at a time; here the all-pairs Hamming
distances are one vectorised NumPy pass (``np.bitwise_count``) per block of rows, and the
same functions work on any uint8 arrays, such as a loaded :class:`ImageSet` when checking
folds for leakage.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import numpy as np

BITS = 1 << np.arange(63, -1, -1, dtype=np.uint64)
BLOCK = 256  # rows per distance block: BLOCK x N uint64 values in memory at once


def difference_hash(image: np.ndarray) -> int:
    """64-bit dHash of a uint8 (H, W, C) image of any size."""
    from PIL import Image

    grey = image[..., 0] if image.shape[-1] == 1 else np.round(image @ [0.299, 0.587, 0.114])
    small = Image.fromarray(grey.astype(np.uint8)).resize((9, 8), Image.Resampling.BOX)
    pixels = np.asarray(small, dtype=np.int16)
    brighter = (pixels[:, :-1] > pixels[:, 1:]).reshape(-1)
    return int(BITS[brighter].sum())


def near_pairs(hashes: Sequence[int], *, max_distance: int) -> list[tuple[int, int, int]]:
    """(i, j, distance) for every pair i < j whose hashes differ in <= ``max_distance`` bits,
    closest first."""
    codes = np.asarray(hashes, dtype=np.uint64)
    pairs = []
    for start in range(0, len(codes), BLOCK):
        distances = np.bitwise_count(codes[start : start + BLOCK, None] ^ codes[None, :])
        rows, cols = np.nonzero(distances <= max_distance)
        later = cols > rows + start
        for row, col in zip(rows[later], cols[later]):
            pairs.append((int(row + start), int(col), int(distances[row, col])))
    return sorted(pairs, key=lambda pair: (pair[2], pair[0], pair[1]))


def exact_groups(digests: Sequence[str | None]) -> list[tuple[int, ...]]:
    """Positions sharing a content hash, one tuple per set of two or more."""
    by_digest = defaultdict(list)
    for position, digest in enumerate(digests):
        if digest is not None:
            by_digest[digest].append(position)
    return [tuple(group) for group in by_digest.values() if len(group) > 1]
