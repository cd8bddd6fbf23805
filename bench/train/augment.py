"""On-the-fly augmentation of training batches (NumPy and SciPy, backend-agnostic).

Applied inside :class:`bench.train.batches.ShuffledBatches` to the current training data
only — never before splitting, so no copy of a test image reaches training. Images are in
raw pixel units [0, 255] here; the backbone's preprocessing runs after augmentation.
"""

from __future__ import annotations

import math

import numpy as np

from bench.config.spec import AugmentSpec

SCIPY_MODES = {
    "nearest": "nearest",
    "constant": "constant",
    "reflect": "reflect",
    "wrap": "grid-wrap",
}


def augment_batch(x: np.ndarray, spec: AugmentSpec, rng: np.random.Generator) -> np.ndarray:
    """Random geometric and photometric transforms, one draw per image."""
    out = np.empty_like(x)
    for i, image in enumerate(x):
        out[i] = _augment_image(image, spec, rng)
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


def _augment_image(image: np.ndarray, spec: AugmentSpec, rng: np.random.Generator) -> np.ndarray:
    if spec.horizontal_flip and rng.random() < 0.5:
        image = image[:, ::-1]
    if spec.vertical_flip and rng.random() < 0.5:
        image = image[::-1]
    if spec.geometric:
        image = _affine(image, spec, rng)
    if spec.brightness:
        low, high = spec.brightness
        image = np.clip(image * rng.uniform(low, high), 0, 255)
    return image


def _affine(image: np.ndarray, spec: AugmentSpec, rng: np.random.Generator) -> np.ndarray:
    """Rotate, shear, zoom and shift about the image centre in one resampling."""
    from scipy import ndimage

    h, w = image.shape[:2]
    angle = math.radians(rng.uniform(-spec.rotation, spec.rotation))
    shear = math.radians(rng.uniform(-spec.shear, spec.shear))
    zoom = rng.uniform(1 - spec.zoom, 1 + spec.zoom)
    shift = np.array(
        [
            rng.uniform(-spec.height_shift, spec.height_shift) * h,
            rng.uniform(-spec.width_shift, spec.width_shift) * w,
        ]
    )
    rotation = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    matrix = rotation @ np.array([[1, -math.sin(shear)], [0, math.cos(shear)]]) / zoom
    centre = np.array([(h - 1) / 2, (w - 1) / 2])
    offset = centre - matrix @ centre - shift
    channels = [
        ndimage.affine_transform(
            image[..., c],
            matrix,
            offset=offset,
            order=1,
            mode=SCIPY_MODES[spec.fill_mode],
            cval=0.0,
        )
        for c in range(image.shape[-1])
    ]
    return np.stack(channels, axis=-1)
