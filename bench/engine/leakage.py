"""Leakage guard: data of a stage trained before the target must not contain target images.

Images are compared by content hash at the suite's image size, so a copy of a target image
in a pretraining pool is found whatever its file name.
"""

from __future__ import annotations

import hashlib

import numpy as np

from bench.errors import DataError


def image_hashes(images: np.ndarray) -> set[str]:
    """SHA-1 of each image's pixels (shape included)."""
    return {hashlib.sha1(image.tobytes() + str(image.shape).encode()).hexdigest()
            for image in images}


def check_overlap(*, target: str, target_images: np.ndarray, stage: str, dataset: str,
                  images: np.ndarray, policy: str) -> str | None:
    """Refuse (or, with policy "warn", describe) a pretraining dataset sharing target images."""
    shared = len(image_hashes(target_images) & image_hashes(images))
    if not shared:
        return None
    message = (f"dataset '{dataset}' (stage '{stage}') contains {shared} image(s) identical to "
               f"images of the target dataset '{target}', which are test images in some fold; "
               "remove them from it, or set protocol.leakage = \"warn\" to go on anyway")
    if policy == "warn":
        return message
    raise DataError(message)
