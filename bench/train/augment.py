"""On-the-fly augmentation of training batches: draws vectorised over the batch, pixels
resampled by OpenCV (compiled, and it releases the GIL, so loader threads run in parallel).

Applied inside :class:`bench.train.batches.ShuffledBatches` to the current training data
only — never before splitting, so no copy of a test image reaches training. Images are in
raw pixel units [0, 255] here; the backbone's preprocessing runs after augmentation.

Flips, rotation, shear, zoom and shifts compose into one affine map per image, so each
image is resampled once. OpenCV's ``warpAffine`` over Pillow's affine transform: Pillow
fills uncovered pixels only with a constant (no nearest, reflect or wrap), and measured on
this package's benchmark (``benchmarks/pipeline.py``) OpenCV is the faster of the two.
"""

from __future__ import annotations

from functools import cache

import numpy as np

from bench.config.spec import AugmentSpec

# Keras ImageDataGenerator fill modes (SciPy's names) as OpenCV borders; "reflect" is
# SciPy's half-sample reflection (d c b a | a b c d), OpenCV's BORDER_REFLECT.
BORDERS = {"nearest": "BORDER_REPLICATE", "constant": "BORDER_CONSTANT",
           "reflect": "BORDER_REFLECT", "wrap": "BORDER_WRAP"}  # fmt: skip


def augment_batch(x: np.ndarray, spec: AugmentSpec, rng: np.random.Generator) -> np.ndarray:
    """Random geometric and photometric transforms, one draw per image.

    Resampling keeps the input's dtype (uint8 pixels are interpolated and rounded by
    OpenCV, at most half a grey level from the exact value, about twice as fast as in
    float); brightness makes float32."""
    matrices = affine_matrices(spec, rng, n=len(x), height=x.shape[1], width=x.shape[2])
    out = x if matrices is None else _warp(x, matrices, spec.fill_mode)
    if spec.brightness:
        low, high = spec.brightness
        gain = rng.uniform(low, high, size=len(x)).astype(np.float32)
        out = out * gain[:, None, None, None]
        np.clip(out, 0, 255, out=out)
    return out


def mixup(
    x: np.ndarray, y: np.ndarray, alpha: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """MixUp (Zhang et al. 2018): convex combinations of image pairs and of their targets."""
    lam = rng.beta(alpha, alpha, size=len(x)).astype(x.dtype)
    partner = rng.permutation(len(x))
    mixed_x = lam[:, None, None, None] * x + (1 - lam[:, None, None, None]) * x[partner]
    mixed_y = lam[:, None] * y + (1 - lam[:, None]) * y[partner]
    return mixed_x, mixed_y


def affine_matrices(
    spec: AugmentSpec, rng: np.random.Generator, *, n: int, height: int, width: int
) -> np.ndarray | None:
    """Per image, the (2, 3) map from output (x, y) to input (x, y) pixel coordinates:
    flips, then rotation, shear and zoom about the centre, then the shift. None when the
    spec moves no pixel."""
    flip_x = _flips(spec.horizontal_flip, rng, n)
    flip_y = _flips(spec.vertical_flip, rng, n)
    if not (spec.geometric or spec.horizontal_flip or spec.vertical_flip):
        return None
    angle = np.radians(rng.uniform(-spec.rotation, spec.rotation, n))
    shear = np.radians(rng.uniform(-spec.shear, spec.shear, n))
    zoom = rng.uniform(1 - spec.zoom, 1 + spec.zoom, n)
    shift_y = rng.uniform(-spec.height_shift, spec.height_shift, n) * height
    shift_x = rng.uniform(-spec.width_shift, spec.width_shift, n) * width
    cos, sin = np.cos(angle), np.sin(angle)
    # Rotation @ shear / zoom in (row, column) order, as Keras's ImageDataGenerator builds it.
    top = np.stack([cos, -cos * np.sin(shear) - sin * np.cos(shear)], -1)
    bottom = np.stack([sin, -sin * np.sin(shear) + cos * np.cos(shear)], -1)
    rc = np.stack([top, bottom], -2) / zoom[:, None, None]
    rc = np.stack([flip_y, flip_x], -1)[:, :, None] * rc  # flipped input coordinates
    linear = rc[:, ::-1, ::-1]  # (row, column) → (x, y)
    centre = np.array([(width - 1) / 2, (height - 1) / 2])
    shift = np.stack([flip_x * shift_x, flip_y * shift_y], -1)
    offset = centre - linear @ centre - shift
    return np.concatenate([linear, offset[:, :, None]], axis=-1)


def _flips(enabled: bool, rng: np.random.Generator, n: int) -> np.ndarray:
    """-1 where an image is flipped along that axis, else 1 (draws only when enabled)."""
    return np.where(rng.random(n) < 0.5, -1.0, 1.0) if enabled else np.ones(n)


def _warp(x: np.ndarray, matrices: np.ndarray, fill_mode: str) -> np.ndarray:
    cv2 = _opencv()
    height, width, channels = x.shape[1:]
    border = getattr(cv2, BORDERS[fill_mode])
    flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    out = np.empty(x.shape, dtype=x.dtype)
    for i, matrix in enumerate(matrices):
        warped = cv2.warpAffine(
            x[i], matrix, (width, height), flags=flags, borderMode=border, borderValue=0
        )
        out[i] = warped.reshape(height, width, channels)
    return out


@cache
def _opencv():
    """OpenCV, one thread per call: batches are parallel across loader threads instead
    (OpenCV's own threads on top would oversubscribe the cores)."""
    import cv2

    cv2.setNumThreads(1)
    return cv2
