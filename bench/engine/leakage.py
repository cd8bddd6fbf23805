"""Leakage guard: data of a stage trained before the target must not contain target images.

Images are compared by content hash at the suite's image size, so a copy of a target image
in a pretraining pool is found whatever its file name.
"""

from __future__ import annotations

import hashlib
from collections.abc import Set

import numpy as np

from bench.errors import DataError


def image_hashes(images: np.ndarray) -> set[str]:
    """SHA-1 of each image's pixels (shape included)."""
    return {
        hashlib.sha1(image.tobytes() + str(image.shape).encode()).hexdigest() for image in images
    }


def check_overlap(
    *,
    target: str,
    target_hashes: Set[str],
    stage: str,
    dataset: str,
    hashes: Set[str],
    policy: str,
) -> str | None:
    """Refuse (or, with policy "warn", describe) a pretraining dataset sharing target images
    (both given by their :func:`image_hashes`)."""
    shared = len(target_hashes & hashes)
    if not shared:
        return None
    message = (
        f"dataset '{dataset}' (stage '{stage}') contains {shared} image(s) identical to "
        f"images of the target dataset '{target}', which are test images in some fold; "
        'remove them from it, or set protocol.leakage = "warn" to go on anyway'
    )
    if policy == "warn":
        return message
    raise DataError(message)


def difference_hashes(images: np.ndarray, *, size: int = 8) -> np.ndarray:
    """64-bit difference hashes (dHash): is each pixel of a 9×8 thumbnail brighter than its
    right neighbour. Robust to rescaling and small intensity changes, cheap in NumPy."""
    from PIL import Image

    bits = np.empty((len(images), size * size), dtype=bool)
    for i, image in enumerate(images):  # one at a time: a float copy of all would be 8x
        grey = image.mean(axis=-1) if image.ndim == 3 else image
        thumb = np.asarray(
            Image.fromarray(grey.astype(np.uint8)).resize((size + 1, size), Image.BILINEAR),
            dtype=np.int16,
        )
        bits[i] = (thumb[:, 1:] > thumb[:, :-1]).ravel()
    return bits


def near_duplicates_across_folds(
    bits: np.ndarray, fold_of: np.ndarray, *, max_distance: int = 4
) -> list[tuple[int, int, int]]:
    """(i, j, Hamming distance) of image pairs in different outer folds that look alike (by
    their :func:`difference_hashes` ``bits``): a copy of a test image in another fold's
    training set inflates the scores."""
    pairs = []
    for i in range(len(bits) - 1):
        distances = np.count_nonzero(bits[i + 1 :] != bits[i], axis=1)
        for offset in np.flatnonzero(distances <= max_distance):
            j = i + 1 + int(offset)
            if fold_of[i] != fold_of[j]:
                pairs.append((i, j, int(distances[offset])))
    return pairs
