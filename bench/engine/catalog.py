"""The data catalog: every dataset a suite reads, resolved once into what planning needs.

An entry holds a dataset's identity (its fingerprint), classes, sample ids, labels and
patient groups, and hashes of its images for the leakage checks, but no pixels, so
:func:`bench.engine.plan.make_plan` is a pure function of the suite and its catalog: a
test can plan from a catalog written by hand, with no data on disk. :func:`read_catalog`
is the one place planning reads data (``bench.data.sources`` caches what it reads).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import numpy as np

from bench.config.axes import cell_suite
from bench.config.spec import DatasetSpec, StageSpec, Suite
from bench.data.sources import fingerprint, load_dataset
from bench.data.synthetic.imageset import ImageSet
from bench.engine.leakage import difference_hashes, image_hashes


@dataclass(frozen=True)
class DataEntry:
    """What planning needs of one dataset."""

    fingerprint: str  # bench.data.sources.fingerprint: what a job's hash says of the data
    class_names: tuple[str, ...]
    ids: np.ndarray  # sample ids, in the order of labels and groups
    labels: np.ndarray  # class index per sample
    groups: np.ndarray  # patient per sample
    image_hashes: frozenset[str] = frozenset()  # content hashes of the images (leakage guard)
    difference_hashes: np.ndarray | None = None  # (N, 64) dHash bits; the target's only
    # fingerprints at the other image sizes a `suite.image_size` grid axis asks for
    resized: Mapping[int, str] = field(default_factory=dict)

    def fingerprint_at(self, image_size: int) -> str:
        return self.resized.get(image_size, self.fingerprint)


Catalog = Mapping[str, DataEntry]  # dataset name -> entry


def read_catalog(suite: Suite) -> dict[str, DataEntry]:
    """An entry for the target and every dataset a stage of a cell, or the base, trains on."""
    return {name: _entry(suite, name) for name in datasets_read(suite)}


def datasets_read(suite: Suite) -> list[str]:
    """The datasets ``suite`` plans with, the target first."""
    names = [suite.target]
    for cell in suite.cells:
        if cell.strategy.init == "base" and suite.base.pretrain is not None:
            names.append(suite.base.pretrain)
        names += [name for stage in cell.strategy.stages for name in stage.data]
    return list(dict.fromkeys(names))


def stage_classes(stage: StageSpec, datasets: Mapping[str, object]) -> tuple[str, ...]:
    """Class names a stage predicts: its dataset's classes, or the datasets of origin of a
    pool. ``datasets`` maps names to anything with ``class_names`` (an entry, an ImageSet)."""
    if stage.labels == "origin" and len(stage.data) > 1:
        return stage.data
    return tuple(datasets[stage.data[0]].class_names)  # type: ignore[attr-defined]


def _entry(suite: Suite, name: str) -> DataEntry:
    spec = suite.datasets[name]
    sizes = {cell_suite(suite, cell).image_size for cell in suite.cells} - {suite.image_size}
    images = load_dataset(spec, image_size=suite.image_size)
    target = name == suite.target
    return DataEntry(
        fingerprint=fingerprint(spec, image_size=suite.image_size),
        class_names=tuple(images.class_names),
        ids=images.ids,
        labels=images.labels,
        groups=images.groups,
        image_hashes=frozenset(image_hashes(_as_read(spec, images, suite.image_size))),
        difference_hashes=difference_hashes(images.images) if target else None,
        resized={size: fingerprint(spec, image_size=size) for size in sorted(sizes)},
    )


def _as_read(spec: DatasetSpec, images: ImageSet, image_size: int) -> np.ndarray:
    """A dataset's images before ``[preprocess]``: earlier stages' data are compared with what
    was read, so a segmented target still matches its unsegmented copies."""
    if spec.segment == "none":
        return images.images
    return load_dataset(replace(spec, segment="none"), image_size=image_size).images
