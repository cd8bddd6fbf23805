"""Read images for an exported model exactly as training read them.

Folder datasets are read with PIL: ``convert("RGB")`` (greyscale repeats its channel, as
:func:`bench.models.preprocess.to_rgb` does for synthetic data), then a bilinear resize to
the suite's image size, with the suite's lesion segmentation (``[preprocess]``) between the
two when it has one. Prediction, serving and Grad-CAM take the same steps, so an image of
the dataset gets the numbers its out-of-fold prediction had.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from bench.errors import DataError

Segmentation = tuple[str, str] | None  # (method, output) of bench.data.segment
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".gif", ".webp"})
MAX_PIXELS = 40_000_000  # larger images are refused before decoding (decompression bombs)


class ImageError(DataError):
    """An input is not a readable image, or too large to decode."""


def decode_image(
    data: bytes, *, size: int | None, name: str = "image", segmentation: Segmentation = None
) -> np.ndarray:
    """uint8 (size, size, 3) pixels of an encoded image (png, jpeg, bmp, tiff, ...);
    ``size=None`` keeps the image's own size (for overlays); ``segmentation`` is
    (method, output) of the lesion segmentation, or None."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            _check_pixels(image, name)
            return to_model_size(image, size=size, segmentation=segmentation)
    except ImageError:
        raise
    except UnidentifiedImageError:
        raise ImageError(f"{name}: not a readable image (unrecognised format)") from None
    except Exception as exc:  # PIL raises many types (OSError, SyntaxError, struct.error...)
        raise ImageError(f"{name}: not a readable image ({type(exc).__name__}: {exc})") from None


def read_image(
    path: str | Path, *, size: int | None, segmentation: Segmentation = None
) -> np.ndarray:
    """uint8 (size, size, 3) pixels of an image file; an unreadable file names itself."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ImageError(f"{path}: cannot read ({exc.strerror or exc})") from None
    return decode_image(data, size=size, name=str(path), segmentation=segmentation)


def to_model_size(image, *, size: int | None, segmentation: Segmentation = None) -> np.ndarray:
    """A PIL image → RGB, segmented when asked, bilinear-resized to ``size`` px: the folder
    loader's steps."""
    from PIL import Image

    rgb = image.convert("RGB")
    if segmentation is not None:
        from bench.data.segment import segment

        rgb = Image.fromarray(segment(np.asarray(rgb), output=segmentation[1]))
    if size is not None:
        rgb = rgb.resize((size, size), Image.BILINEAR)
    return np.asarray(rgb, dtype=np.uint8)


def image_files(paths: Iterable[str | Path]) -> list[Path]:
    """Files named directly, plus the images under named folders (recursive, sorted).

    Inside folders, files with ``_mask`` in their name are skipped, as the dataset loader
    skips segmentation masks; a file named explicitly is always taken.
    """
    paths = [Path(p) for p in paths]
    files = []
    for path in paths:
        if path.is_dir():
            files += [
                p
                for p in sorted(path.rglob("*"))
                if p.suffix.lower() in IMAGE_SUFFIXES and "_mask" not in p.stem and p.is_file()
            ]
        elif path.exists():
            files.append(path)
        else:
            raise ImageError(f"{path}: no such file or folder")
    if not files:
        raise ImageError(
            f"no images found in {', '.join(map(str, paths))} "
            f"(looked for {', '.join(sorted(IMAGE_SUFFIXES))})"
        )
    return files


def _check_pixels(image, name: str) -> None:
    width, height = image.size
    if width * height > MAX_PIXELS:
        raise ImageError(
            f"{name}: {width}×{height} px is more than the {MAX_PIXELS:,} pixels accepted"
        )
