"""What a layout says about its files, before any pixel is read.

Every source kind (class folders, BUSI, pools, CSV and ISIC tables) lists its samples as
:class:`Entry` records and the files it cannot use as :class:`BadFile` records, so
loading, fingerprinting and ``bench data inspect`` share one view of the data.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bench.config.spec import DatasetSpec
from bench.data.options import where
from bench.errors import DataError

NO_PATIENTS = "one group per image (the layout names no patients)"


@dataclass(frozen=True)
class Entry:
    """One image file to read, with the label, patient and fixed split the layout gives."""

    path: Path
    id: str  # stable across machines: a path relative to the dataset root, or an image id
    label: str
    group: str | None = None  # None: the layout names no patient, the image is its own group
    split: str | None = None  # a fixed split named by a manifest ("train", "test"...)


@dataclass(frozen=True)
class BadFile:
    """A file that is not a usable sample: unreadable, or a label and a file that do not meet.

    With ``on_bad_image = "skip"`` these are left out and reported; otherwise the first one
    is raised as a :class:`DataError` built from ``path``, ``reason`` and ``fix``.
    """

    path: str
    reason: str
    fix: str

    def error(self, dataset: str, *, more: int = 0) -> DataError:
        """One line naming the file and the fix, and how many more files have problems."""
        others = f"; {more} more bad file(s), listed by `bench data inspect`" if more else ""
        return DataError(
            f"dataset '{dataset}': '{self.path}': {self.reason}; {self.fix} "
            f'(or set on_bad_image = "skip" to leave such files out){others}'
        )


@dataclass(frozen=True)
class Listing:
    """The samples a layout found, its classes in label order, and what it had to leave out."""

    entries: tuple[Entry, ...]
    class_names: tuple[str, ...]
    bad: tuple[BadFile, ...] = ()
    grouping: str = NO_PATIENTS  # how patients were found, shown by ``bench data inspect``
    ignored: tuple[tuple[str, int], ...] = ()  # ("segmentation masks", 798): not samples


def class_order(
    found: list[str],
    wanted: tuple[str, ...] | None,
    *,
    spec: DatasetSpec,
    looked_in: str,
    natural: tuple[str, ...] | None = None,
) -> tuple[str, ...]:
    """Label order: ``classes`` as the suite lists them, else the source's ``natural`` order
    (MedMNIST label indices) or sorted names; every wanted class must have images."""
    if wanted is None:
        present = set(found)
        return tuple(n for n in natural if n in present) if natural else tuple(sorted(present))
    missing = [name for name in wanted if name not in found]
    if missing:
        raise DataError(
            f"dataset '{spec.name}': class '{missing[0]}' has no images in {looked_in} "
            f"(found: {', '.join(sorted(set(found))) or 'none'}); add its images or drop it "
            f"from {where(spec, 'classes')}"
        )
    return wanted
