"""Image bytes → uint8 (H, W, C) arrays with C = 1 (greyscale) or 3 (colour), via Pillow.

Greyscale modes stay one channel; every other mode (palette, RGBA, CMYK...) becomes RGB.
Images deeper than 8 bits (16-bit PNG and TIFF, common for microscopy and X-ray) are
stretched from their own minimum to maximum, because a 12-bit signal stored in 16 bits
would otherwise come out nearly black.
"""

from __future__ import annotations

import io
from contextlib import contextmanager

import numpy as np

GREY_MODES = {"1", "L", "LA", "La"}
DEEP_MODES = {"I", "F", "I;16", "I;16L", "I;16B", "I;16N"}


class BadImage(Exception):
    """The bytes are not a usable image; the message says why in a few words."""


def decode_image(data: bytes, *, at_least: int | None = None) -> np.ndarray:
    """Decode ``data``; with ``at_least``, JPEGs may decode at a reduced scale whose sides
    stay >= ``at_least`` px (DCT scaling: several times faster, same look after resizing)."""
    with open_image(data) as image:
        if at_least:
            image.draft(None, (at_least, at_least))
        return to_array(image)


@contextmanager
def open_image(data: bytes):
    """A Pillow image of ``data``, with its header read; failures raise :class:`BadImage`."""
    from PIL import Image

    try:
        image = Image.open(io.BytesIO(data))
    except Exception as exc:  # Pillow raises many types for bad input; all mean "unreadable"
        raise BadImage(_reason(exc)) from None
    with image:
        yield image


def to_array(image) -> np.ndarray:
    """Pixels of an opened image as uint8 (H, W, 1 | 3); decoding errors raise BadImage."""
    if 0 in image.size:
        raise BadImage(f"an image of {image.size[0]}x{image.size[1]} px has no pixels")
    try:
        image.load()
        if image.mode in DEEP_MODES:
            return _stretch(np.asarray(image, dtype=np.float64))[..., None]
        if image.mode in GREY_MODES:
            return np.asarray(image.convert("L"), dtype=np.uint8)[..., None]
        return np.asarray(image.convert("RGB"), dtype=np.uint8)
    except Exception as exc:  # truncated or corrupt data surfaces only when decoding
        raise BadImage(_reason(exc)) from None


def _stretch(pixels: np.ndarray) -> np.ndarray:
    low, high = pixels.min(), pixels.max()
    if high == low:
        return np.zeros(pixels.shape, dtype=np.uint8)
    return np.round((pixels - low) * (255.0 / (high - low))).astype(np.uint8)


def _reason(exc: Exception) -> str:
    from PIL import Image, UnidentifiedImageError

    if isinstance(exc, UnidentifiedImageError):
        return "not an image Pillow can read (unknown format or corrupt header)"
    if isinstance(exc, Image.DecompressionBombError):
        return (
            f"more pixels than Pillow decodes safely ({str(exc).split(',')[0]}); "
            "a decompression bomb or an image to shrink first"
        )
    text = str(exc).split("\n")[0] or type(exc).__name__
    return f"corrupt or truncated image ({text})"
