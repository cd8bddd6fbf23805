"""Breast ultrasound B-mode images (imitating BUSI / Mendeley) and a multi-scanner pool.

Image formation follows the physics that gives ultrasound its look, so that what a network
learns here meets the same statistics on real scans:

1. an echogenicity map of layered breast tissue (skin, subcutaneous fat, fibroglandular
   tissue, pectoral muscle) holding a hypoechoic lesion;
2. attenuation integrated along each beam (image column) from the probe at the top: a lesion
   that attenuates less than tissue brightens what lies below it (posterior enhancement,
   typical of benign cysts and fibroadenomas), one that attenuates more casts a shadow
   (typical of carcinomas);
3. fully developed speckle: intensity = echogenicity x |complex Gaussian|^2, correlated over
   a resolution cell that is wider laterally than axially;
4. log compression into the display's dynamic range, as scanners do.
"""

from dataclasses import astuple, dataclass

import numpy as np

from bench.data.synthetic.batch import Batch
from bench.data.synthetic.cues import mix_cues
from bench.data.synthetic.fields import (
    gaussian_noise,
    grid,
    local_coords,
    outline,
    per_image,
    smooth_field,
    soft_step,
)

CLASSES = ("benign", "malignant", "normal")
SCANNERS = ("scanner-a", "scanner-b", "scanner-c")
_NORMAL = CLASSES.index("normal")

# Cue targets per class: aspect (0 wider-than-tall, 1 taller-than-wide), margin (0 smooth
# oval, 1 spiculated), posterior (0 enhancement, 1 shadowing). "normal" has no lesion.
_LESION_CUES = np.array([[0.0, 0.0, 0.0], [1.0, 1.0, 1.0], [0.5, 0.5, 0.5]])
# Excess attenuation inside a lesion, nepers per image height of lesion traversed, at the
# shadowing (+) and enhancing (-) ends of the posterior cue.
_POSTERIOR_NEPERS = 8.0
# Display grey level of the mean echo (in dB) after automatic gain, before the operator's gain.
_MEAN_GREY = 0.5


@dataclass(frozen=True)
class Scanner:
    """Acquisition settings that differ between machines; scalars or per-image arrays."""

    speckle: float  # axial size of a speckle grain, fraction of the image height
    lateral: float  # lateral / axial grain size: the beam is wider than the pulse is long
    gain_db: float  # receive gain
    attenuation: float  # depth attenuation left after time-gain compensation, nepers over the depth
    dynamic_range_db: float  # log-compressed range shown from black to white


_SINGLE = Scanner(speckle=0.010, lateral=2.0, gain_db=0.0, attenuation=0.8, dynamic_range_db=45.0)
# One row per entry of SCANNERS: fine speckle; coarse speckle, bright, strongly attenuating;
# wide beam, dark, little attenuation and a wide dynamic range.
_POOL_SCANNERS = (
    Scanner(speckle=0.008, lateral=1.8, gain_db=0.0, attenuation=0.8, dynamic_range_db=45),
    Scanner(speckle=0.016, lateral=1.5, gain_db=4.0, attenuation=1.6, dynamic_range_db=40),
    Scanner(speckle=0.011, lateral=3.0, gain_db=-4.0, attenuation=0.3, dynamic_range_db=56),
)
_POOL = np.array([astuple(scanner) for scanner in _POOL_SCANNERS])


def render(batch: Batch) -> np.ndarray:
    """Labelled scans from one machine: benign, malignant or no lesion (normal)."""
    scanner = Scanner(*(np.full(batch.n, value, dtype=np.float32) for value in astuple(_SINGLE)))
    return _scan(batch, lesion_class=batch.patient_labels, scanner=scanner)


def render_pool(batch: Batch) -> np.ndarray:
    """Scans from several machines, class = scanner of origin, lesions of random type.

    Imitates the unlabelled pool of DTL phase 1, where the only label is the dataset an image
    came from. Difficulty pulls each patient's scanner settings toward random ones.
    """
    low, high = _POOL.min(axis=0), _POOL.max(axis=0)
    targets = (_POOL[batch.patient_labels] - low) / (high - low)
    settings = low + mix_cues(batch.rng, targets, batch.difficulty) * (high - low)
    lesion_class = batch.rng.integers(0, len(CLASSES), size=batch.n_patients)
    return _scan(batch, lesion_class=lesion_class, scanner=Scanner(*settings[batch.patient].T))


def _scan(batch: Batch, *, lesion_class: np.ndarray, scanner: Scanner) -> np.ndarray:
    yy, xx = grid(batch.size)
    depth = (yy + 1.0) / 2.0
    cues = mix_cues(batch.rng, _LESION_CUES[lesion_class], batch.difficulty)[batch.patient]
    has_lesion = per_image(lesion_class[batch.patient] != _NORMAL)
    mask = _lesion_mask(batch, yy, xx, cues=cues) * has_lesion
    echo = _tissue(batch, depth, xx) * _lesion_echo(batch, mask, margin=cues[:, 1])
    # Beer-Lambert along each column: residual tissue attenuation plus the lesion's excess
    # (negative for enhancement), accumulated over the lesion path travelled so far.
    path = np.cumsum(mask, axis=1) / batch.size
    excess = per_image(_POSTERIOR_NEPERS * (2.0 * cues[:, 2] - 1.0))
    beam = np.exp(-per_image(scanner.attenuation) * depth - excess * path)
    speckle = _compound_speckle(batch, scanner)
    # Electronic noise floor, raised with difficulty (lower signal-to-noise ratio).
    floor = 10.0 ** ((-32.0 + 10.0 * batch.difficulty) / 10.0)
    noise = floor * batch.rng.standard_exponential(mask.shape, dtype=np.float32)
    intensity = echo * beam * speckle + noise
    return _log_compress(batch, intensity, scanner)


def _compound_speckle(batch: Batch, scanner: Scanner) -> np.ndarray:
    """Mean-one speckle intensity averaged over two looks, as spatial compounding does."""
    looks = [
        smooth_field(
            batch.rng,
            batch.n,
            batch.size,
            sigma=scanner.speckle * batch.size,
            stretch=scanner.lateral,
        )
        for _ in range(2)
    ]
    return (np.abs(looks[0]) ** 2 + np.abs(looks[1]) ** 2) / 4.0


def _log_compress(batch: Batch, intensity: np.ndarray, scanner: Scanner) -> np.ndarray:
    """Decibels into [0, 1] over the dynamic range, as a scanner's display does.

    Automatic gain puts each image's mean echo level at the same grey (so a dark lesion or
    a shadow does not darken the whole picture, and mean brightness says nothing about the
    class); the scanner's and the operator's gain then shift it, the latter per patient.
    """
    level = 10.0 * np.log10(intensity)
    level -= level.mean(axis=(1, 2), keepdims=True)
    gain = scanner.gain_db + batch.jitter(batch.rng.normal(0.0, 2.0, batch.n_patients), 0.5)
    noise = gaussian_noise(batch.rng, intensity.shape, 0.02 + 0.06 * batch.difficulty)
    return _MEAN_GREY + (level + per_image(gain)) / per_image(scanner.dynamic_range_db) + noise


def _tissue(batch: Batch, depth: np.ndarray, xx: np.ndarray) -> np.ndarray:
    """Layered breast echogenicity: bright skin, dark fat, bright gland, grey muscle, textured."""
    rng, n_patients = batch.rng, batch.n_patients
    skin = per_image(batch.jitter(rng.uniform(0.03, 0.05, n_patients), 0.003))
    fat = per_image(batch.jitter(rng.uniform(0.14, 0.30, n_patients), 0.02))
    gland = per_image(batch.jitter(rng.uniform(0.72, 0.92, n_patients), 0.03))
    # Layer boundaries undulate gently across the image.
    cycles = batch.jitter(rng.uniform(0.3, 1.2, n_patients), 0.05)
    phase = rng.uniform(0, 2 * np.pi, batch.n)
    wave = 0.03 * np.sin(np.pi * per_image(cycles) * xx + per_image(phase))
    width = 3.0 / batch.size
    echo = (
        1.8
        - 1.55 * soft_step(depth - skin, width)
        + 0.75 * soft_step(depth - fat - wave, width)
        - 0.55 * soft_step(depth - gland + wave, width)
    )
    sigma = 0.05 * batch.size
    texture = (
        0.8 * smooth_field(rng, n_patients, batch.size, sigma=sigma).real[batch.patient]
        + 0.6 * smooth_field(rng, batch.n, batch.size, sigma=sigma).real
    )
    return echo * np.exp(0.7 * texture)


def _lesion_echo(batch: Batch, mask: np.ndarray, *, margin: np.ndarray) -> np.ndarray:
    """Lesion echogenicity factor: dark interior, thin bright capsule if well circumscribed."""
    contrast_db = batch.rng.uniform(13.0, 19.0, batch.n) * (1.0 - 0.55 * batch.difficulty)
    interior = 1.0 - mask * (1.0 - per_image(10.0 ** (-contrast_db / 10.0)))
    rim = 4.0 * mask * (1.0 - mask)
    return interior * (1.0 + 2.5 * per_image(1.0 - margin) * rim)


def _lesion_mask(batch: Batch, yy: np.ndarray, xx: np.ndarray, *, cues: np.ndarray) -> np.ndarray:
    """Soft lesion mask: an oval whose aspect and margin follow the cues, plus spicules."""
    rng, n_patients = batch.rng, batch.n_patients
    aspect, margin = cues[:, 0], per_image(cues[:, 1])
    radius = rng.uniform(0.22, 0.36, n_patients)[batch.patient]
    ratio = np.exp(0.55 * (1.0 - 2.0 * aspect))  # width / height, 1.7 (wide) to 0.6 (tall)
    rx, ry = radius * np.sqrt(ratio), radius / np.sqrt(ratio)
    u, v = local_coords(
        yy,
        xx,
        cy=batch.jitter(rng.uniform(-0.15, 0.2, n_patients), 0.04),
        cx=batch.jitter(rng.uniform(-0.4, 0.4, n_patients), 0.05),
        angle=batch.jitter(rng.normal(0.0, 0.15, n_patients), 0.05),
    )
    u, v = u / per_image(rx), v / per_image(ry)
    theta = np.arctan2(v, u)
    orders = (2, 3, 4, 6, 9, 13)
    shape = rng.uniform(0.4, 1.6, (n_patients, len(orders)))[batch.patient] * np.array(
        [0.05, 0.04, 0.07, 0.07, 0.05, 0.04], dtype=np.float32
    )
    amplitudes = shape * np.where(np.arange(len(orders)) < 2, 1.0, cues[:, 1:2])
    phases = batch.jitter(rng.uniform(0, 2 * np.pi, (n_patients, len(orders))), 0.1)
    boundary = outline(theta, orders=orders, amplitudes=amplitudes, phases=phases)
    # Spicules: narrow radial peaks of uneven length (a slow harmonic modulates them).
    count = rng.integers(5, 11, n_patients)[batch.patient]
    phase = batch.jitter(rng.uniform(0, 2 * np.pi, n_patients), 0.1)
    peaks = np.maximum(np.cos(per_image(count) * theta + per_image(phase)), 0.0) ** 12
    spikes = peaks * (1.0 + np.cos(2.0 * theta + per_image(phase * 3.0)))
    edge = (1.0 + 3.0 * margin) * 2.0 / (batch.size * per_image(np.sqrt(rx * ry)))
    return soft_step(boundary + 0.35 * margin * spikes - np.sqrt(u**2 + v**2), edge)
