"""K-means lesion segmentation (Johri et al. 2025, section C): two clusters of pixel colour,
the darker one the lesion, cleaned by morphological opening and closing.

Steps, on a copy at most :data:`WORK_SIDE` px long (K-means on every pixel of a 600 x 450
photograph costs far more and finds the same two colours): OpenCV's K-means (k = 2,
k-means++ seeding, seeded so a dataset is segmented the same way every time); the cluster
with the darker centre is the lesion; an opening removes hairs and specks, a closing fills
gaps; of the connected regions left the largest that does not touch the image border is
kept (the dark corners of a dermatoscope's field of view touch it), else the largest.
The mask, scaled back to the image, either blanks everything outside the lesion
(``"mask"``) or cuts out a square around it with a margin (``"crop"``).

An image without two distinct colours (uniform skin, a blank frame), or whose mask would
be empty or everything, has no lesion to find: it is returned unchanged.
"""

from __future__ import annotations

from functools import cache

import numpy as np

METHODS = ("none", "kmeans")
OUTPUTS = ("mask", "crop")
WORK_SIDE = 128  # px, longer side of the copy that is clustered
MIN_CONTRAST = 8.0  # grey levels between the two cluster centres for a lesion to exist
MARGIN = 0.1  # of the lesion's larger side, added on each side of a crop


def segment(image: np.ndarray, *, output: str) -> np.ndarray:
    """``image`` (H, W, C) uint8 with the lesion masked or cropped (unchanged if none)."""
    mask = lesion_mask(image)
    if mask is None:
        return image
    if output == "mask":
        return image * mask[..., None].astype(image.dtype)
    top, bottom, left, right = crop_box(mask)
    return image[top:bottom, left:right]


def lesion_mask(image: np.ndarray) -> np.ndarray | None:
    """Boolean (H, W) lesion mask, or None when the image holds no distinct lesion."""
    cv2 = _opencv()
    height, width = image.shape[:2]
    scale = min(1.0, WORK_SIDE / max(height, width))
    small = image
    if scale < 1:
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        small = cv2.resize(image, size, interpolation=cv2.INTER_AREA).reshape(
            size[1], size[0], image.shape[-1]
        )
    pixels = small.reshape(-1, small.shape[-1]).astype(np.float32)
    if len(pixels) < 2:
        return None
    cv2.setRNGSeed(0)
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 20, 0.5)
    _, labels, centres = cv2.kmeans(pixels, 2, None, criteria, 3, cv2.KMEANS_PP_CENTERS)
    brightness = centres.mean(axis=1)
    if abs(brightness[0] - brightness[1]) < MIN_CONTRAST:
        return None
    mask = (labels.reshape(small.shape[:2]) == np.argmin(brightness)).astype(np.uint8)
    mask = _largest_inner_region(_clean(mask))
    if mask is None:
        return None
    if scale < 1:
        mask = cv2.resize(mask, (width, height), interpolation=cv2.INTER_NEAREST)
    return mask.astype(bool)


def crop_box(mask: np.ndarray) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) of a square around the mask's bounding box, its side the
    box's larger side plus :data:`MARGIN` on each side, moved inside the image (and cut to
    it where the image is narrower)."""
    rows, columns = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    top, bottom, left, right = rows[0], rows[-1] + 1, columns[0], columns[-1] + 1
    side = round(max(bottom - top, right - left) * (1 + 2 * MARGIN))
    return (*_span(top, bottom, side, mask.shape[0]), *_span(left, right, side, mask.shape[1]))


def _span(start: int, stop: int, side: int, limit: int) -> tuple[int, int]:
    side = min(side, limit)
    first = min(max(0, (start + stop - side) // 2), limit - side)
    return int(first), int(first + side)


def _clean(mask: np.ndarray) -> np.ndarray:
    """Opening then closing with a disc about 4% of the image side."""
    cv2 = _opencv()
    side = max(3, round(0.04 * max(mask.shape)) | 1)
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (side, side))
    opened = cv2.morphologyEx(mask, cv2.MORPH_OPEN, disc)
    return cv2.morphologyEx(opened, cv2.MORPH_CLOSE, disc)


def _largest_inner_region(mask: np.ndarray) -> np.ndarray | None:
    cv2 = _opencv()
    count, regions, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    if count < 2:
        return None
    height, width = mask.shape
    left, top, w, h, area = (stats[1:, i] for i in range(5))
    inner = (left > 0) & (top > 0) & (left + w < width) & (top + h < height)
    candidates = np.flatnonzero(inner) if inner.any() else np.arange(count - 1)
    best = candidates[np.argmax(area[candidates])] + 1
    kept = (regions == best).astype(np.uint8)
    return None if kept.all() else kept


@cache
def _opencv():
    import cv2

    return cv2
