"""Who is in a synthetic dataset: class sizes, simulated patients and label noise.

Image order before shuffling is class by class, patient by patient, so a patient's images
are contiguous and can be rendered together with shared patient-level parameters.
"""

import numpy as np


def class_sizes(*, samples_per_class: int, imbalance: float, n_classes: int) -> np.ndarray:
    """Images per class, decaying geometrically from ``samples_per_class`` by ``imbalance``.

    Class i of K gets ``max(1, round(samples_per_class / imbalance ** (i / (K - 1))))``, so the
    first class is the largest, the last the smallest, and their ratio is ``imbalance`` up to
    rounding (a single class always gets ``samples_per_class``).
    """
    exponents = np.arange(n_classes) / max(n_classes - 1, 1)
    sizes = np.round(samples_per_class / imbalance**exponents).astype(np.int64)
    return np.maximum(sizes, 1)


def assign_patients(sizes: np.ndarray, *, images_per_patient: int) -> tuple[np.ndarray, np.ndarray]:
    """Split each class into patients of ``images_per_patient`` images (or one fewer).

    Returns ``(patient_class, image_patient)``: the class of each patient and the patient of
    each image. A class with fewer images than ``images_per_patient`` is a single patient.
    """
    per_patient = [_split(int(n), images_per_patient) for n in sizes]
    patient_class = np.repeat(np.arange(len(sizes)), [len(p) for p in per_patient])
    counts = np.concatenate(per_patient)
    return patient_class, np.repeat(np.arange(len(counts)), counts)


def _split(n_images: int, images_per_patient: int) -> np.ndarray:
    n_patients = -(-n_images // images_per_patient)
    return np.array([len(part) for part in np.array_split(np.arange(n_images), n_patients)])


def flip_patient_labels(
    rng: np.random.Generator, patient_class: np.ndarray, *, fraction: float, n_classes: int
) -> np.ndarray:
    """Relabel ``round(fraction * n_patients)`` patients to a uniformly chosen other class.

    Noise is per patient (a wrong diagnosis on the patient record), so every patient keeps a
    single label and the fraction of flipped images is ``fraction`` up to patient sizes.
    """
    flipped = patient_class.copy()
    chosen = rng.choice(
        len(patient_class), size=round(fraction * len(patient_class)), replace=False
    )
    flipped[chosen] = (
        patient_class[chosen] + rng.integers(1, n_classes, size=len(chosen))
    ) % n_classes
    return flipped
