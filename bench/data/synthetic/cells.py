"""Bright-field microscopy of cultured cancer cell lines, three morphologies (colour).

Imitates the labelled intermediate domain of multistage transfer learning (cell-line
microscopy, 3 classes): ``round`` cells lie scattered and isolated, ``spindle`` cells are
elongated, tapered and roughly aligned (fibroblast-like), ``clustered`` cells pack into
cobblestone clumps. Unstained cells absorb little light, so they appear as faint grey-brown
bodies with darker nuclei and a bright phase halo at their edge, on an unevenly illuminated
background.
"""

import numpy as np

from bench.data.synthetic.batch import Batch
from bench.data.synthetic.cues import mix_cues
from bench.data.synthetic.fields import (
    gaussian_noise,
    grid,
    local_coords,
    per_image,
    smooth_field,
    soft_step,
)

CLASSES = ("round", "spindle", "clustered")

# Cue targets per class: elongation (0 round, 1 spindle) and clustering (0 scattered, 1 clumped).
_CUES = np.array([[0.0, 0.0], [1.0, 0.0], [0.15, 1.0]])
_SLOTS = 8  # cells drawn per image at most
# Optical density (R, G, B) of cytoplasm and nucleus per unit of stain.
_CYTOPLASM_OD = np.array([0.30, 0.36, 0.45], dtype=np.float32)
_NUCLEUS_OD = np.array([0.55, 0.65, 0.50], dtype=np.float32)


def render(batch: Batch) -> np.ndarray:
    """Cells of each patient's (well's) morphology, in colour (B, H, W, 3)."""
    cues = mix_cues(batch.rng, _CUES[batch.patient_labels], batch.difficulty)[batch.patient]
    body, nucleus, halo = _cells(batch, elongation=cues[:, 0], clustering=cues[:, 1])
    texture = smooth_field(batch.rng, batch.n, batch.size, sigma=0.015 * batch.size)
    density = (body * (0.8 + 0.3 * texture.real))[..., None] * _CYTOPLASM_OD
    density += (nucleus * (1.0 + 0.3 * texture.imag))[..., None] * _NUCLEUS_OD
    image = _illumination(batch) * np.exp(-density) + 0.25 * halo[..., None]
    return image + gaussian_noise(batch.rng, image.shape, 0.015 + 0.08 * batch.difficulty)


def _illumination(batch: Batch) -> np.ndarray:
    """Köhler illumination that is never quite even: a tint, vignetting and slow variation."""
    yy, xx = grid(batch.size)
    tint = np.array([0.90, 0.88, 0.82]) + batch.rng.normal(0, 0.01, (batch.n_patients, 3))
    slow = smooth_field(batch.rng, batch.n, batch.size, sigma=0.3 * batch.size).real
    light = (1.0 - 0.12 * (yy**2 + xx**2)) * (1.0 + 0.04 * slow)
    return light[..., None] * tint[batch.patient][:, None, None, :].astype(np.float32)


def _cells(
    batch: Batch, *, elongation: np.ndarray, clustering: np.ndarray
) -> tuple[np.ndarray, ...]:
    """Masks (B, H, W) of cell bodies, nuclei and the phase halo just outside the bodies."""
    yy, xx = grid(batch.size)
    rng, n = batch.rng, batch.n
    present = np.arange(_SLOTS) < rng.integers(4, _SLOTS + 1, size=(n, 1))
    centres = _centres(batch, clustering)
    # Spindle cells share the culture's alignment, loosely.
    direction = batch.jitter(rng.uniform(0, np.pi, batch.n_patients), 0.2)
    radius = rng.uniform(0.09, 0.13, (n, _SLOTS)) * (1.0 - 0.2 * clustering[:, None])
    length = radius * np.exp(0.9 * elongation[:, None])
    width = radius * np.exp(-0.5 * elongation[:, None])
    body, nucleus, outer = (np.zeros((n, batch.size, batch.size), np.float32) for _ in range(3))
    edge = 2.5 / batch.size
    for j in range(_SLOTS):
        u, v = local_coords(
            yy,
            xx,
            cy=centres[:, j, 0],
            cx=centres[:, j, 1],
            angle=direction + rng.normal(0, 0.35, n),
        )
        u = u / per_image(length[:, j])
        # Tapering: the cell narrows toward its ends in proportion to how elongated it is.
        taper = np.maximum(1.0 - per_image(0.8 * elongation) * u**2, 0.15)
        distance = np.sqrt(u**2 + (v / (per_image(width[:, j]) * taper)) ** 2)
        size, on = per_image(np.sqrt(length[:, j] * width[:, j])), per_image(present[:, j])
        body = np.maximum(body, on * soft_step((1.0 - distance) * size, edge))
        nucleus = np.maximum(nucleus, on * soft_step((0.45 - distance) * size, edge))
        outer = np.maximum(outer, on * soft_step((1.3 - distance) * size, edge))
    return body, nucleus, outer - body


def _centres(batch: Batch, clustering: np.ndarray) -> np.ndarray:
    """Cell centres (B, slots, 2 for y, x): scattered, or packed around one of two clump centres."""
    rng, n = batch.rng, batch.n
    scattered = rng.uniform(-0.75, 0.75, (n, _SLOTS, 2))
    clumps = rng.uniform(-0.4, 0.4, (n, 2, 2))
    member = rng.integers(0, 2, (n, _SLOTS))
    packed = np.take_along_axis(clumps, member[..., None], axis=1)
    packed += rng.normal(0, 0.13, (n, _SLOTS, 2))
    weight = clustering[:, None, None]
    return (1.0 - weight) * scattered + weight * packed
