"""The in-memory labelled image collection every synthetic generator returns."""

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ImageSet:
    """Images with their labels, simulated patients and stable sample ids.

    ``images`` is uint8 (N, H, W, C) with C = 1 for greyscale modalities and 3 for colour;
    ``labels`` are int64 indices into ``class_names``; ``groups`` names the patient (or
    subject) of each image, so grouped splits keep a patient's images together; ``ids`` are
    unique and identical for identical generator arguments.
    """

    images: np.ndarray
    labels: np.ndarray
    groups: np.ndarray
    ids: np.ndarray
    class_names: tuple[str, ...]

    def __post_init__(self) -> None:
        n = len(self.images)
        if self.images.ndim != 4 or self.images.dtype != np.uint8:
            raise ValueError(
                f"images must be uint8 (N, H, W, C), got {self.images.dtype} {self.images.shape}"
            )
        if not len(self.labels) == len(self.groups) == len(self.ids) == n:
            raise ValueError("images, labels, groups and ids must have the same length")
