"""The named synthetic datasets and the :func:`generate` entry point."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from bench.data.synthetic import cells, dermoscopy, histology, natural, ultrasound
from bench.data.synthetic.batch import Batch
from bench.data.synthetic.imageset import ImageSet
from bench.data.synthetic.pipeline import synthesize
from bench.errors import DataError


@dataclass(frozen=True)
class Generator:
    """A named synthetic dataset: its classes, channel count and batch renderer.

    Calling it takes the keyword arguments of :func:`generate` and returns an ImageSet.
    """

    name: str
    class_names: tuple[str, ...]
    channels: int
    render: Callable[[Batch], np.ndarray]

    def __call__(self, **knobs) -> ImageSet:
        return generate(self.name, **knobs)


SYNTHETIC: dict[str, Generator] = {
    g.name: g
    for g in (
        Generator("ultrasound", ultrasound.CLASSES, 1, ultrasound.render),
        Generator("ultrasound-pool", ultrasound.SCANNERS, 1, ultrasound.render_pool),
        Generator("cells", cells.CLASSES, 3, cells.render),
        Generator("natural", natural.CLASSES, 3, natural.render),
        Generator("dermoscopy", dermoscopy.CLASSES, 3, dermoscopy.render),
        Generator("dermoscopy8", dermoscopy.CLASSES_8, 3, dermoscopy.render_8),
        Generator("histology", histology.CLASSES, 3, histology.render),
    )
}


def generate(
    name: str,
    *,
    samples_per_class: int = 50,
    image_size: int = 64,
    classes: Sequence[str] | None = None,
    imbalance: float = 1.0,
    difficulty: float = 0.5,
    label_noise: float = 0.0,
    images_per_patient: int = 3,
    seed: int = 0,
) -> ImageSet:
    """Generate the synthetic dataset ``name`` (a key of :data:`SYNTHETIC`).

    - ``samples_per_class``: images of the first (largest) class.
    - ``image_size``: height and width in pixels (>= 8); shapes scale with it.
    - ``classes``: a subset of the generator's classes, in the order wanted (labels follow
      it); None keeps all, in the generator's order.
    - ``imbalance``: largest / smallest class size, >= 1. Class i of K gets
      ``max(1, round(samples_per_class / imbalance ** (i / (K - 1))))`` images.
    - ``difficulty`` in [0, 1]: 0 makes classes trivially separable, 1 leaves only faint cues
      under stronger noise (see :mod:`bench.data.synthetic.cues`).
    - ``label_noise`` in [0, 1): fraction of *patients* relabelled to a random other class,
      after rendering (images do not change); every patient keeps a single label.
    - ``images_per_patient``: each class is split into simulated patients of this many
      images (or one fewer); images of one patient share patient-level appearance.
    - ``seed``: same arguments give byte-identical arrays on the same platform.

    Images are shuffled; ``ids`` number them in that order. Invalid arguments raise
    :class:`~bench.errors.DataError` naming the argument and its valid range.
    """
    if name not in SYNTHETIC:
        raise DataError(f"unknown synthetic dataset {name!r}; valid names: {', '.join(SYNTHETIC)}")
    return synthesize(
        SYNTHETIC[name],
        samples_per_class=samples_per_class,
        image_size=image_size,
        classes=classes,
        imbalance=imbalance,
        difficulty=difficulty,
        label_noise=label_noise,
        images_per_patient=images_per_patient,
        seed=seed,
    )
