"""The unit of work a generator renders: the images of a few whole patients."""

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Batch:
    """Images to render, by class and patient, with the random generator to draw from.

    ``labels`` index the generator's full ``class_names`` (not the selected subset);
    ``patient`` numbers the patients of this batch 0..n_patients-1 in order, so generators
    draw patient-level parameters once and vary them per image around that.
    """

    labels: np.ndarray
    patient: np.ndarray
    size: int
    difficulty: float
    rng: np.random.Generator

    @property
    def n(self) -> int:
        return len(self.labels)

    @property
    def n_patients(self) -> int:
        return int(self.patient[-1]) + 1

    @property
    def patient_labels(self) -> np.ndarray:
        labels = np.empty(self.n_patients, dtype=np.int64)
        labels[self.patient] = self.labels
        return labels

    def jitter(self, patient_values: np.ndarray, scale: float) -> np.ndarray:
        """Patient-level values seen in each image, with Gaussian per-image variation."""
        noise = scale * self.rng.standard_normal(
            (self.n, *patient_values.shape[1:]), dtype=np.float32
        )
        return (patient_values[self.patient] + noise).astype(np.float32)
