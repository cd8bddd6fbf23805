"""H&E-stained breast tissue, four BACH-like classes (colour).

Imitates the BACH / ICIAR 2018 grand challenge: ``normal`` tissue shows small glands with an
open lumen lined by one orderly layer of nuclei in pink stroma; ``benign`` lesions keep that
organisation with more, larger glands and a thicker epithelium; carcinoma ``in_situ`` fills
the ducts with crowded, enlarged (atypical) nuclei while the duct outline survives;
``invasive`` carcinoma loses the glands and atypical nuclei infiltrate the stroma in cords.
Colour follows the Beer-Lambert stain model used in colour deconvolution: optical density is
hematoxylin (nuclei, purple) plus eosin (stroma and cytoplasm, pink) times their stain
vectors, and lumens are left unstained (white).
"""

import numpy as np

from bench.data.synthetic.batch import Batch
from bench.data.synthetic.cues import mix_cues
from bench.data.synthetic.fields import (
    gaussian_blur,
    gaussian_noise,
    grid,
    outline,
    per_image,
    smooth_field,
    soft_step,
)

CLASSES = ("normal", "benign", "in_situ", "invasive")

# Cue targets per class: organisation (glands present), lumen filling, nuclear density, atypia.
_CUES = np.array(
    [
        [1.0, 0.0, 0.1, 0.0],
        [1.0, 0.1, 0.45, 0.2],
        [0.9, 1.0, 0.75, 0.7],
        [0.0, 0.5, 1.0, 1.0],
    ]
)
# Stain optical densities (R, G, B) from Ruifrok & Johnston's colour deconvolution.
_HEMATOXYLIN_OD = np.array([0.65, 0.70, 0.29], dtype=np.float32)
_EOSIN_OD = np.array([0.07, 0.99, 0.11], dtype=np.float32)
_GLANDS = 3  # glands per image at most


def render(batch: Batch) -> np.ndarray:
    """A stained tissue field whose architecture and nuclei follow the class cues (B, H, W, 3)."""
    cues = mix_cues(batch.rng, _CUES[batch.patient_labels], batch.difficulty)[batch.patient]
    organisation, filling, density, atypia = (per_image(cues[:, i]) for i in range(4))
    duct, lumen = (organisation * mask for mask in _glands(batch, density))
    fibres, cords = _stroma(batch)
    rate = _nuclear_rate(
        epithelium=duct - lumen,
        filled=lumen * filling,
        infiltrating=(1.0 - organisation) * (0.02 + 0.12 * cords),
        density=density,
    )
    hematoxylin = _nuclei(batch, rate, atypia) + 0.06 + 0.1 * duct
    stroma = 0.4 * (1.0 + 0.25 * fibres)
    eosin = (stroma * (1.0 - duct) + 0.3 * duct) * (1.0 - 0.9 * lumen * (1.0 - filling))
    return _stain(batch, hematoxylin, eosin)


def _nuclear_rate(*, epithelium, filled, infiltrating, density) -> np.ndarray:
    """Nuclei per pixel: sparse in stroma, crowded along the epithelium and in filled
    lumens, and scattered through the stroma (along cords) once glands are lost."""
    crowding = 0.6 + density
    return 0.002 + 0.25 * crowding * epithelium + 0.12 * crowding * filled + density * infiltrating


def _stain(batch: Batch, hematoxylin: np.ndarray, eosin: np.ndarray) -> np.ndarray:
    """Beer-Lambert transmission of both stains, with per-patient staining strength."""
    strength = np.exp(batch.jitter(batch.rng.normal(0.0, 0.15, (batch.n_patients, 2)), 0.03))
    density = (per_image(strength[:, 0]) * hematoxylin)[..., None] * _HEMATOXYLIN_OD
    density += (per_image(strength[:, 1]) * eosin)[..., None] * _EOSIN_OD
    noise = gaussian_noise(batch.rng, density.shape, 0.01 + 0.06 * batch.difficulty)
    return np.exp(-density) + noise


def _glands(batch: Batch, density: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Masks of glands (ducts) and of their lumens; denser epithelium means larger glands."""
    rng, n = batch.rng, batch.n
    yy, xx = grid(batch.size)
    duct, lumen = (np.zeros((n, batch.size, batch.size), np.float32) for _ in range(2))
    edge = 2.0 / batch.size
    for _ in range(_GLANDS):
        radius = (0.2 + 0.12 * density) * per_image(rng.uniform(0.8, 1.2, n))
        dy = yy - per_image(rng.uniform(-0.7, 0.7, n))
        dx = xx - per_image(rng.uniform(-0.7, 0.7, n))
        wobble = outline(
            np.arctan2(dy, dx),
            orders=(2, 3),
            amplitudes=rng.uniform(0, 0.12, (n, 2)),
            phases=rng.uniform(0, 2 * np.pi, (n, 2)),
        )
        distance = np.sqrt(dy**2 + dx**2) / (radius * wobble)
        duct = np.maximum(duct, soft_step((1.0 - distance) * radius, edge))
        inner = per_image(rng.uniform(0.55, 0.75, n))  # lumen radius / gland radius
        lumen = np.maximum(lumen, soft_step((inner - distance) * radius, edge))
    return duct, lumen


def _stroma(batch: Batch) -> tuple[np.ndarray, np.ndarray]:
    """Wavy collagen fibres and the cords along which invasive cells infiltrate them."""
    direction = batch.jitter(batch.rng.uniform(0, np.pi, batch.n_patients), 0.3)
    fibres = smooth_field(
        batch.rng, batch.n, batch.size, sigma=0.012 * batch.size, stretch=6.0, angle=direction
    )
    cords = smooth_field(
        batch.rng, batch.n, batch.size, sigma=0.03 * batch.size, stretch=4.0, angle=direction
    )
    return fibres.real, soft_step(cords.real - 0.8, 0.6)


def _nuclei(batch: Batch, rate: np.ndarray, atypia: np.ndarray) -> np.ndarray:
    """Hematoxylin of nuclei scattered with the given rate per pixel (at 64 px).

    Nuclei are seeded as weighted points and blurred; thresholding a blurred point of
    weight w gives a disc whose radius grows with w, so atypia (larger, more variable
    weights) means enlarged, pleomorphic and darker (hyperchromatic) nuclei.
    """
    seeds = batch.rng.random(rate.shape, dtype=np.float32) < rate * (64.0 / batch.size) ** 2
    spread = gaussian_noise(batch.rng, rate.shape, 1.0) * (0.1 + 0.3 * atypia)
    weight = (1.0 + 0.7 * atypia) * np.exp(spread)
    sigma = 0.015 * batch.size
    # Scaled so that a blurred point keeps its weight as peak height.
    blurred = 2.0 * np.pi * sigma**2 * gaussian_blur(seeds * weight, sigma)
    return soft_step(blurred - 0.45, 0.35) * (1.0 + 0.6 * atypia)
