"""From one decoded image to the square uint8 samples a dataset holds.

Order: segment the lesion (``bench.data.segment``, when asked), cut tiles at full
resolution (each tile becomes a sample, as histology pipelines do with large photographs),
resize each to ``image_size`` by stretching or by padding with black to keep the aspect
ratio, then set the channel count. Channels come last because converting small images is
cheaper and the luma weighting commutes with resizing.
The backbone's own input scaling is not done here (see ``bench.models.preprocess``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bench.data.decode import BadImage
from bench.data.segment import segment

LUMA = np.array([0.299, 0.587, 0.114])  # ITU-R 601-2, as Pillow's "L" conversion


@dataclass(frozen=True)
class Preprocessing:
    """Everything that turns a decoded image into samples; part of every cache key."""

    image_size: int
    resize: str = "stretch"  # or "pad"
    channels: int | None = None  # None keeps what the file holds
    tile: int | None = None
    segment: str = "none"  # or "kmeans" (bench.data.segment)
    segment_output: str = "mask"  # or "crop"

    @property
    def identity(self) -> dict:
        """What cache keys and fingerprints hash: segmentation only when it is on, so data
        read without it keep the keys they had."""
        fields = {k: getattr(self, k) for k in self.__dataclass_fields__}
        if self.segment == "none":
            del fields["segment"], fields["segment_output"]
        return fields

    @property
    def decode_at_least(self) -> int | None:
        """Smallest side a reduced-scale decode may give (tiles and crops need full
        resolution)."""
        cropped = self.segment != "none" and self.segment_output == "crop"
        return None if self.tile or cropped else self.image_size


def prepare(image: np.ndarray, prep: Preprocessing) -> np.ndarray:
    """Decoded (H, W, C) → (T, S, S, C') samples: T tiles (1 without tiling), S = image_size."""
    if prep.segment != "none":
        image = segment(image, output=prep.segment_output)
    pieces = tiles(image, prep.tile) if prep.tile else [image]
    resized = [resize(piece, prep.image_size, how=prep.resize) for piece in pieces]
    return np.stack([set_channels(piece, prep.channels) for piece in resized])


def tiles(image: np.ndarray, side: int) -> list[np.ndarray]:
    """Non-overlapping side x side tiles, row by row; a remainder narrower than a tile is
    dropped (as in the BACH patch pipelines), an image smaller than one tile is unusable."""
    height, width = image.shape[:2]
    if height < side or width < side:
        raise BadImage(f"image is {width}x{height} px, smaller than one tile of {side} px")
    return [
        image[top : top + side, left : left + side]
        for top in range(0, height - side + 1, side)
        for left in range(0, width - side + 1, side)
    ]


def resize(image: np.ndarray, size: int, *, how: str) -> np.ndarray:
    """Square ``size`` px image: stretched, or scaled to fit and centred on black."""
    from PIL import Image

    height, width = image.shape[:2]
    if how == "pad":
        scale = size / max(height, width)
        target = (max(1, round(width * scale)), max(1, round(height * scale)))
    else:
        target = (size, size)
    picture = Image.fromarray(image[..., 0] if image.shape[-1] == 1 else image)
    if picture.size != target:
        picture = picture.resize(target, Image.Resampling.BILINEAR)
    pixels = np.asarray(picture, dtype=np.uint8).reshape(target[1], target[0], -1)
    return _centre(pixels, size) if how == "pad" else pixels


def set_channels(image: np.ndarray, channels: int | None) -> np.ndarray:
    """Grey → RGB by repeating the channel, RGB → grey by luma; None or equal: unchanged."""
    if channels is None or image.shape[-1] == channels:
        return image
    if channels == 3:
        return np.repeat(image, 3, axis=-1)
    return np.round(image @ LUMA).astype(np.uint8)[..., None]


def _centre(pixels: np.ndarray, size: int) -> np.ndarray:
    canvas = np.zeros((size, size, pixels.shape[-1]), dtype=np.uint8)
    top, left = (size - pixels.shape[0]) // 2, (size - pixels.shape[1]) // 2
    canvas[top : top + pixels.shape[0], left : left + pixels.shape[1]] = pixels
    return canvas
