"""From knobs to an :class:`ImageSet`: validate, lay out patients, render, add label noise."""

from collections.abc import Callable, Sequence
from typing import Protocol

import numpy as np

from bench.data.synthetic.batch import Batch
from bench.data.synthetic.cohort import assign_patients, class_sizes, flip_patient_labels
from bench.data.synthetic.imageset import ImageSet
from bench.errors import DataError


class Renderer(Protocol):
    """What the pipeline needs of a dataset (:class:`~bench.data.synthetic.Generator` is one)."""

    @property
    def name(self) -> str: ...
    @property
    def class_names(self) -> tuple[str, ...]: ...
    @property
    def channels(self) -> int: ...
    @property
    def render(self) -> Callable[[Batch], np.ndarray]: ...


# Images rendered per vectorised batch: large enough to amortise numpy overhead, small
# enough that the (B, H, W) temporaries stay in cache-friendly sizes. Fixed, so the
# batching (and therefore every random draw) depends only on the arguments.
BATCH_IMAGES = 256


def synthesize(
    generator: Renderer,
    *,
    samples_per_class: int,
    image_size: int,
    classes: Sequence[str] | None,
    imbalance: float,
    difficulty: float,
    label_noise: float,
    images_per_patient: int,
    seed: int,
) -> ImageSet:
    """Generate a dataset with ``generator``; see :func:`bench.data.synthetic.generate`."""
    _check_knobs(
        samples_per_class=samples_per_class,
        image_size=image_size,
        images_per_patient=images_per_patient,
        imbalance=imbalance,
        difficulty=difficulty,
        label_noise=label_noise,
        seed=seed,
    )
    selected = _select_classes(generator, classes)
    if label_noise > 0 and len(selected) < 2:
        raise DataError(
            f"label_noise={label_noise} needs at least two classes, got {len(selected)}"
        )
    sizes = class_sizes(
        samples_per_class=samples_per_class, imbalance=imbalance, n_classes=len(selected)
    )
    patient_class, image_patient = assign_patients(sizes, images_per_patient=images_per_patient)
    order_rng, render_rng, noise_rng = np.random.default_rng(seed).spawn(3)
    labels = selected[patient_class[image_patient]]
    images = _render(generator, labels, image_patient, image_size, difficulty, render_rng)
    noisy = flip_patient_labels(
        noise_rng, patient_class, fraction=label_noise, n_classes=len(selected)
    )
    order = order_rng.permutation(len(image_patient))
    return ImageSet(
        images=images[order],
        labels=noisy[image_patient][order],
        groups=np.array([f"p{p:04d}" for p in image_patient[order]]),
        ids=np.array([f"{generator.name}-{i:06d}" for i in range(len(order))]),
        class_names=tuple(generator.class_names[i] for i in selected),
    )


def _is_int(value) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool)


def _is_real(value) -> bool:
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool)


# Knob -> (the rule as users read it, the check). NaN fails every comparison, so it is refused.
_RULES = {
    "samples_per_class": ("an integer >= 1", lambda v: _is_int(v) and v >= 1),
    "image_size": ("an integer >= 8 (pixels)", lambda v: _is_int(v) and v >= 8),
    "images_per_patient": ("an integer >= 1", lambda v: _is_int(v) and v >= 1),
    "imbalance": (">= 1.0 (largest / smallest class size)", lambda v: _is_real(v) and v >= 1.0),
    "difficulty": ("in [0, 1]", lambda v: _is_real(v) and 0.0 <= v <= 1.0),
    "label_noise": ("in [0, 1)", lambda v: _is_real(v) and 0.0 <= v < 1.0),
    "seed": ("a non-negative integer", lambda v: _is_int(v) and v >= 0),
}


def _check_knobs(**knobs) -> None:
    for knob, value in knobs.items():
        rule, ok = _RULES[knob]
        if not ok(value):
            raise DataError(f"{knob} must be {rule}, got {value!r}")


def _select_classes(generator: Renderer, classes: Sequence[str] | None) -> np.ndarray:
    """Positions in ``generator.class_names`` of the requested classes, in the requested order."""
    names = generator.class_names
    if classes is None:
        return np.arange(len(names))
    if isinstance(classes, str) or len(classes) == 0 or len(set(classes)) != len(classes):
        raise DataError(f"classes must be a non-empty list of distinct names, got {classes!r}")
    unknown = [c for c in classes if c not in names]
    if unknown:
        raise DataError(
            f"unknown class {unknown[0]!r} for synthetic dataset {generator.name!r}; "
            f"valid classes: {', '.join(names)}"
        )
    return np.array([names.index(c) for c in classes])


def _render(generator, labels, image_patient, size, difficulty, rng) -> np.ndarray:
    """Render all images in batches of whole patients, each batch with its own child generator."""
    starts = _batch_starts(image_patient)
    images = np.empty((len(image_patient), size, size, generator.channels), dtype=np.uint8)
    for (start, stop), child in zip(starts, rng.spawn(len(starts)), strict=True):
        patient = image_patient[start:stop] - image_patient[start]
        batch = Batch(
            labels=labels[start:stop], patient=patient, size=size, difficulty=difficulty, rng=child
        )
        images[start:stop] = _to_uint8(generator.render(batch))
    return images


def _batch_starts(image_patient: np.ndarray) -> list[tuple[int, int]]:
    """(start, stop) image ranges of about BATCH_IMAGES images that never split a patient."""
    first_image = np.flatnonzero(np.diff(image_patient, prepend=-1))
    bounds, start = [], 0
    for boundary in [*first_image[1:], len(image_patient)]:
        if boundary - start >= BATCH_IMAGES or boundary == len(image_patient):
            bounds.append((start, int(boundary)))
            start = int(boundary)
    return bounds


def _to_uint8(images: np.ndarray) -> np.ndarray:
    """Map rendered intensities in [0, 1] to 0..255, clipping what noise pushed outside."""
    if images.ndim == 3:
        images = images[..., None]
    return (np.clip(images, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
