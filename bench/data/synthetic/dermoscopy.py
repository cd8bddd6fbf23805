"""Dermoscopy of pigmented skin lesions, nevus versus melanoma (colour).

Imitates ISIC / HAM10000-style images through the ABCD rule dermatologists use: a nevus is
symmetric, with a regular border, one shade of brown and a small diameter; a melanoma is
asymmetric, with a notched irregular border, several colours (dark brown to black patches,
blue-grey veil) and a larger diameter. Colour comes from melanin absorbance (Beer-Lambert),
brown for epidermal melanin and blue-grey for melanin deep in the dermis. Both classes carry
the artefacts that make real dermoscopy hard: hairs across the lesion and the dark corners
of the dermatoscope's circular field of view.
"""

import numpy as np

from bench.data.synthetic import fields
from bench.data.synthetic.batch import Batch
from bench.data.synthetic.cues import mix_cues

CLASSES = ("nevus", "melanoma")

# Cue targets per class: asymmetry, border irregularity, colour variegation, diameter.
_CUES = np.array([[0.0, 0.0, 0.0, 0.0], [1.0, 1.0, 1.0, 1.0]])
# Optical density (R, G, B) of epidermal melanin (brown) and dermal melanin (blue-grey,
# the Tyndall effect scatters blue back, so red is absorbed most).
_BROWN_OD = np.array([0.45, 0.80, 1.10], dtype=np.float32)
_DEEP_OD = np.array([0.95, 0.75, 0.50], dtype=np.float32)
_FAIR_SKIN = np.array([0.96, 0.78, 0.70], dtype=np.float32)
_DARK_SKIN = np.array([0.78, 0.56, 0.45], dtype=np.float32)
_HAIR = np.array([0.16, 0.11, 0.08], dtype=np.float32)
_HAIRS = 4  # hairs per image at most


def render(batch: Batch) -> np.ndarray:
    """Lesion on skin under a dermatoscope, with hairs and vignetting (B, H, W, 3)."""
    cues = mix_cues(batch.rng, _CUES[batch.patient_labels], batch.difficulty)[batch.patient]
    yy, xx = fields.grid(batch.size)
    mask, centrality = _lesion(batch, yy, xx, cues)
    brown, deep = _pigment(batch, cues[:, 2], centrality)
    density = mask[..., None] * (brown[..., None] * _BROWN_OD + deep[..., None] * _DEEP_OD)
    image = _skin(batch) * np.exp(-density)
    hair = _hairs(batch, yy, xx)[..., None]
    image = (image * (1.0 - hair) + hair * _HAIR) * _field_of_view(batch, yy, xx)[..., None]
    return image + fields.gaussian_noise(batch.rng, image.shape, 0.015 + 0.06 * batch.difficulty)


def _lesion(batch: Batch, yy, xx, cues: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Soft lesion mask and a centrality map (1 at the centre, 0 at the border)."""
    rng, n_patients = batch.rng, batch.n_patients
    radius = (0.3 + 0.28 * cues[:, 3]) * batch.jitter(rng.uniform(0.85, 1.15, n_patients), 0.03)
    u, v = fields.local_coords(
        yy,
        xx,
        cy=batch.jitter(rng.normal(0, 0.08, n_patients), 0.05),
        cx=batch.jitter(rng.normal(0, 0.08, n_patients), 0.05),
        angle=batch.jitter(rng.uniform(0, 2 * np.pi, n_patients), 0.3),
    )
    flattening = batch.jitter(rng.uniform(0.75, 0.95, n_patients), 0.02)
    u, v = u / fields.per_image(radius), v / fields.per_image(radius * flattening)
    # Order 2 (an ellipse) keeps mirror symmetry; orders 1 and 3 break it (asymmetry); high
    # orders notch the border (irregularity).
    orders = (2, 1, 3, 7, 11, 16)
    weights = np.stack([np.ones(batch.n), *[cues[:, 0]] * 2, *[cues[:, 1]] * 3], axis=1)
    shape = rng.uniform(0.6, 1.4, (n_patients, len(orders)))[batch.patient] * np.array(
        [0.06, 0.2, 0.12, 0.05, 0.04, 0.03], dtype=np.float32
    )
    phases = batch.jitter(rng.uniform(0, 2 * np.pi, (n_patients, len(orders))), 0.05)
    boundary = fields.outline(
        np.arctan2(v, u), orders=orders, amplitudes=shape * weights, phases=phases
    )
    distance = np.sqrt(u**2 + v**2) / boundary
    edge = fields.per_image((1.5 + 3.0 * cues[:, 1]) * 2.0 / (batch.size * radius))
    return fields.soft_step(1.0 - distance, edge), np.clip(1.0 - distance, 0.0, 1.0)


def _pigment(
    batch: Batch, variegation: np.ndarray, centrality: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Brown and blue-grey melanin concentrations: uniform for a nevus, patchy for a melanoma."""
    patches = fields.smooth_field(batch.rng, batch.n, batch.size, sigma=0.08 * batch.size)
    darkness = batch.jitter(batch.rng.uniform(0.8, 1.5, batch.n_patients), 0.05)
    variegation = fields.per_image(variegation)
    brown = (
        fields.per_image(darkness)
        * (0.8 + 0.5 * centrality)
        * np.maximum(1.0 + 0.9 * variegation * patches.real, 0.1)
    )
    deep = 1.5 * variegation * np.maximum(patches.imag - 0.4, 0.0)
    return brown, deep


def _skin(batch: Batch) -> np.ndarray:
    """Skin reflectance (B, H, W, 3): a patient's tone with blotchy redness and fine texture."""
    tone = batch.jitter(batch.rng.uniform(0, 1, batch.n_patients), 0.02)[:, None]
    colour = (1.0 - tone) * _FAIR_SKIN + tone * _DARK_SKIN
    exposure = batch.rng.uniform(0.92, 1.05, (batch.n, 1))
    field = fields.smooth_field(batch.rng, batch.n, batch.size, sigma=0.15 * batch.size)
    fine = fields.smooth_field(batch.rng, batch.n, batch.size, sigma=0.01 * batch.size).real
    erythema = np.maximum(field.real, 0.0)
    redness = np.stack([0.03 * erythema, -0.05 * erythema, -0.04 * erythema], axis=-1)
    shading = 1.0 + 0.02 * fine + 0.03 * field.imag
    return ((colour * exposure)[:, None, None, :] + redness) * shading[..., None]


def _hairs(batch: Batch, yy, xx) -> np.ndarray:
    """Dark curved hairs (coverage in [0, 1]), 0 to 4 per image whatever the class."""
    rng, n = batch.rng, batch.n
    count = rng.integers(0, _HAIRS + 1, n)
    coverage = np.zeros((n, batch.size, batch.size), np.float32)
    edge = 1.5 / batch.size
    for j in range(_HAIRS):
        u, v = fields.local_coords(
            yy,
            xx,
            cy=rng.uniform(-0.8, 0.8, n),
            cx=rng.uniform(-0.8, 0.8, n),
            angle=rng.uniform(0, np.pi, n),
        )
        bend = fields.per_image(rng.uniform(-0.5, 0.5, n)) * u**2
        width = fields.per_image(rng.uniform(0.6, 1.2, n) / batch.size)
        half_length = fields.per_image(rng.uniform(0.5, 1.5, n))
        across = fields.soft_step(width - np.abs(v - bend), edge)
        hair = across * fields.soft_step(half_length - np.abs(u), edge)
        coverage = np.maximum(coverage, hair * fields.per_image(j < count))
    return coverage


def _field_of_view(batch: Batch, yy, xx) -> np.ndarray:
    """The dermatoscope's round field: light falls off toward its rim and the corners are black."""
    rim = fields.per_image(batch.jitter(batch.rng.uniform(1.15, 1.45, batch.n_patients), 0.02))
    radius = np.sqrt(yy**2 + xx**2)
    return fields.soft_step(rim - radius, 0.08) * (1.0 - 0.2 * radius**2)


# --- eight classes, as in HAM10000 plus normal skin (Johri et al. 2025) ----------------------
CLASSES_8 = ("nv", "mel", "bkl", "bcc", "akiec", "vasc", "df", "normal")

# Cue targets per class: asymmetry, border irregularity, colour variegation, diameter (as
# above), then brown melanin, haemoglobin (red), vessels, white structures, lesion present.
# A nevus is a small even brown disc; a melanoma large, notched and variegated; a benign
# keratosis pale brown with milia-like white spots; a basal cell carcinoma pinkish with
# branching vessels; an actinic keratosis red with white scale; a vascular lesion red
# without pigment; a dermatofibroma small with a white centre; normal skin has no lesion.
_CUES_8 = np.array(
    [
        [0.0, 0.0, 0.0, 0.4, 1.0, 0.0, 0.0, 0.0, 1.0],
        [1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.2, 1.0],
        [0.4, 0.3, 0.2, 0.7, 0.45, 0.0, 0.0, 0.7, 1.0],
        [0.6, 0.5, 0.3, 0.5, 0.15, 0.35, 1.0, 0.3, 1.0],
        [0.4, 0.7, 0.0, 0.6, 0.0, 0.7, 0.2, 0.9, 1.0],
        [0.0, 0.1, 0.0, 0.3, 0.0, 1.0, 0.0, 0.0, 1.0],
        [0.0, 0.0, 0.0, 0.0, 0.6, 0.15, 0.0, 1.0, 1.0],
        [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    ]
)
# Haemoglobin absorbs green and blue: red to purple where it is dense.
_HAEM_OD = np.array([0.20, 1.30, 1.00], dtype=np.float32)
_WHITE = np.array([0.97, 0.95, 0.93], dtype=np.float32)


def render_8(batch: Batch) -> np.ndarray:
    """One of eight lesion types (or none) on skin, with hairs and vignetting (B, H, W, 3)."""
    cues = mix_cues(batch.rng, _CUES_8[batch.patient_labels], batch.difficulty)[batch.patient]
    yy, xx = fields.grid(batch.size)
    mask, centrality = _lesion(batch, yy, xx, cues[:, :4])
    mask = mask * fields.per_image(cues[:, 8])
    brown, deep = _pigment(batch, cues[:, 2], centrality)
    vessels = _vessels(batch) * fields.per_image(cues[:, 6])
    haem = fields.per_image(cues[:, 5]) * (0.5 + 0.7 * centrality) + 1.2 * vessels
    density = mask[..., None] * (
        (fields.per_image(cues[:, 4]) * brown)[..., None] * _BROWN_OD
        + deep[..., None] * _DEEP_OD
        + haem[..., None] * _HAEM_OD
    )
    image = _skin(batch) * np.exp(-density)
    white = (mask * fields.per_image(cues[:, 7]) * _white(batch, centrality))[..., None]
    image = image * (1.0 - white) + white * _WHITE
    hair = _hairs(batch, yy, xx)[..., None]
    image = (image * (1.0 - hair) + hair * _HAIR) * _field_of_view(batch, yy, xx)[..., None]
    return image + fields.gaussian_noise(batch.rng, image.shape, 0.015 + 0.06 * batch.difficulty)


def _vessels(batch: Batch) -> np.ndarray:
    """Thin branching lines (coverage in [0, 1]): the zero crossings of a smooth field."""
    field = fields.smooth_field(batch.rng, batch.n, batch.size, sigma=0.06 * batch.size).real
    return fields.soft_step(0.25 - np.abs(field), 0.2)


def _white(batch: Batch, centrality: np.ndarray) -> np.ndarray:
    """White structures: a central patch and scattered spots (scale, milia-like cysts)."""
    spots = fields.smooth_field(batch.rng, batch.n, batch.size, sigma=0.025 * batch.size).real
    patch = fields.soft_step(centrality - 0.55, 0.2)
    return np.clip(0.8 * patch + fields.soft_step(spots - 1.3, 0.6), 0.0, 1.0)
