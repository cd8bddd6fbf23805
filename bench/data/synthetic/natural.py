"""Generic colour shapes and textures, a stand-in for ImageNet pretraining (colour).

When ImageNet weights cannot be downloaded, a pretraining stage on these images gives a
backbone generic low-level features (edges, corners, colour contrast, periodic texture) so
transfer strategies can still be compared against training from scratch. Six shape classes
sit on cluttered colour backgrounds; two texture classes fill the frame.
"""

import numpy as np

from bench.data.synthetic import fields
from bench.data.synthetic.batch import Batch
from bench.data.synthetic.cues import cue_strength

CLASSES = ("circle", "square", "triangle", "ring", "cross", "blob", "stripes", "checker")
# Shape radius as a fraction of the half-width, and the largest offset of its centre: large
# enough that corners, holes and arms stay several pixels wide at 32 px, small enough that
# every shape stays in the frame.
SCALE = (0.6, 0.85)
OFFSET = 0.15


def render(batch: Batch) -> np.ndarray:
    """Each image: one shape on a cluttered background, or a two-colour texture (B, H, W, 3)."""
    rng, n = batch.rng, batch.n
    yy, xx = fields.grid(batch.size)
    scale = rng.uniform(*SCALE, n)
    u, v = fields.local_coords(
        yy,
        xx,
        cy=rng.uniform(-OFFSET, OFFSET, n),
        cx=rng.uniform(-OFFSET, OFFSET, n),
        angle=rng.uniform(0, 2 * np.pi, n),
    )
    u, v = u / fields.per_image(scale), v / fields.per_image(scale)
    # Shapes and textures are signed fields (positive = foreground, unit slope at the edge);
    # weaker cues morph every class toward a random blob.
    signed = np.empty_like(u)
    for k, name in enumerate(CLASSES):
        members = batch.labels == k
        signed[members] = _SIGNED[name](u[members], v[members], rng)
    strength = cue_strength(batch.difficulty)
    signed = strength * signed + (1.0 - strength) * np.clip(_blob(u, v, rng), -0.12, 0.12)
    weight = fields.soft_step(signed, fields.per_image(2.0 / (batch.size * scale)))[..., None]
    background, foreground = _palette(batch)
    noise = fields.gaussian_noise(rng, background.shape, 0.02 + 0.12 * batch.difficulty)
    return background + weight * (foreground - background) + noise


def _palette(batch: Batch) -> tuple[np.ndarray, np.ndarray]:
    """A background with slow colour clutter and a contrasting, slightly textured foreground."""
    rng, n = batch.rng, batch.n
    base = rng.uniform(0.15, 0.85, (n, 1, 1, 3)).astype(np.float32)
    noise = [fields.smooth_field(rng, n, batch.size, sigma=0.1 * batch.size) for _ in range(2)]
    clutter = np.stack([noise[0].real, noise[0].imag, noise[1].real], axis=-1)
    shift = rng.uniform(0.3, 0.6, (n, 1, 1, 3)) * rng.choice([-1.0, 1.0], (n, 1, 1, 3))
    foreground = np.clip(base + shift, 0.05, 0.95) + 0.03 * clutter
    return base + 0.1 * clutter, foreground


def _circle(u, v, rng):
    return 1.0 - np.sqrt(u**2 + v**2)


def _square(u, v, rng):
    return 0.8 - np.maximum(np.abs(u), np.abs(v))


def _triangle(u, v, rng):
    # Intersection of three half-planes whose normals are 120 degrees apart.
    angles = np.pi / 2 + 2 * np.pi / 3 * np.arange(3)
    return 0.5 - np.max([u * np.cos(a) + v * np.sin(a) for a in angles], axis=0)


def _ring(u, v, rng):
    return 0.22 - np.abs(np.sqrt(u**2 + v**2) - 0.8)


def _cross(u, v, rng):
    bar = np.minimum(1.0 - np.abs(u), 0.3 - np.abs(v))
    return np.maximum(bar, np.minimum(0.3 - np.abs(u), 1.0 - np.abs(v)))


def _blob(u, v, rng):
    orders = (2, 3, 5)
    amplitudes = rng.uniform(0.05, 0.2, (len(u), len(orders)))
    radius = 0.9 * fields.outline(
        np.arctan2(v, u),
        orders=orders,
        amplitudes=amplitudes,
        phases=rng.uniform(0, 2 * np.pi, (len(u), len(orders))),
    )
    return radius - np.sqrt(u**2 + v**2)


def _stripes(u, v, rng):
    omega = fields.per_image(2 * np.pi * rng.uniform(1.0, 1.8, len(u)))
    return np.sin(omega * u) / omega


def _checker(u, v, rng):
    omega = fields.per_image(2 * np.pi * rng.uniform(0.6, 1.0, len(u)))
    across, down = np.sin(omega * u), np.sin(omega * v)
    return np.sign(across * down) * np.minimum(np.abs(across), np.abs(down)) / omega


_SIGNED = {
    "circle": _circle,
    "square": _square,
    "triangle": _triangle,
    "ring": _ring,
    "cross": _cross,
    "blob": _blob,
    "stripes": _stripes,
    "checker": _checker,
}
