"""Image trees: one folder per class, the BUSI release, and unlabelled pools.

- ``folder:PATH`` — each sub-folder of PATH is a class; its images may sit at any depth
  below it (BreakHis nests patient and magnification folders).
- ``busi:PATH`` — the breast-ultrasound release: ``benign/``, ``malignant/``, ``normal/``
  under PATH or under ``PATH/Dataset_BUSI_with_GT/``; other folders are not classes.
- ``pool:PATH`` — unlabelled images; the pseudo-label is the sub-folder an image came from
  (a scanner, a hospital, a source dataset), images directly in PATH take PATH's name.

In every tree, ``*_mask.png`` and ``*_mask_N.png`` files are segmentation masks, never
samples, and hidden files and ``__MACOSX`` folders (left by zip tools) are skipped.
Patients come from ``patient_pattern`` (a regular expression searched in the path relative
to PATH, group 1 or the whole match); without it each image is its own group.
"""

from __future__ import annotations

import fnmatch
import os
import re
from dataclasses import dataclass
from pathlib import Path

from bench.config.spec import DatasetSpec
from bench.data.entries import NO_PATIENTS, BadFile, Entry, Listing, class_order
from bench.data.options import FileOptions, where
from bench.errors import DataError

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff"}
MASK = re.compile(r"_mask(_\d+)?$", re.IGNORECASE)
BUSI_CLASSES = ("benign", "malignant", "normal")
BUSI_ARCHIVE = "Dataset_BUSI_with_GT"


@dataclass(frozen=True)
class Tree:
    """Image files below a folder, sorted by their path relative to it, masks counted apart."""

    images: tuple[Path, ...]
    relative: tuple[str, ...]  # posix paths relative to the folder, same order
    masks: int


def image_tree(folder: Path) -> Tree:
    """Image files at any depth below ``folder``, without masks, hidden files or zip debris.

    ``os.walk`` with string paths: building a Path per file costs more than reading the
    cached pixels of a 64 px image, and a warm load of a large dataset is mostly this walk.
    """
    found, masks = [], 0
    for directory, subfolders, names in os.walk(folder, followlinks=True):
        subfolders[:] = [d for d in subfolders if not _hidden(d)]
        prefix = os.path.relpath(directory, folder).replace(os.sep, "/")
        for name in names:
            stem, suffix = os.path.splitext(name)
            if _hidden(name) or suffix.lower() not in IMAGE_SUFFIXES:
                continue
            if MASK.search(stem):
                masks += 1
            else:
                found.append((name if prefix == "." else f"{prefix}/{name}", directory, name))
    found.sort()
    images = tuple(Path(directory, name) for _, directory, name in found)
    return Tree(images=images, relative=tuple(r for r, _, _ in found), masks=masks)


def dataset_root(spec: DatasetSpec) -> Path:
    """The folder a tree or table source points at; it must exist."""
    root = Path(spec.location).expanduser()
    if not root.is_dir():
        raise DataError(
            f"{where(spec, 'source')}: folder '{root}' not found; put the dataset there (see "
            "README 'Real data') or run the default profile, which uses built-in synthetic data"
        )
    return root


def list_folder(spec: DatasetSpec, options: FileOptions) -> Listing:
    """Class-per-folder tree; an image directly in the root has no class and is a bad file."""
    root = dataset_root(spec)
    return _class_tree(spec, options, root, _subfolders(root), loose_label=None)


def list_busi(spec: DatasetSpec, options: FileOptions) -> Listing:
    """The BUSI release, found at PATH or inside the archive folder it unzips to."""
    root = dataset_root(spec)
    if (root / BUSI_ARCHIVE).is_dir():
        root = root / BUSI_ARCHIVE
    folders = [root / name for name in BUSI_CLASSES if (root / name).is_dir()]
    if not folders:
        raise DataError(
            f"{where(spec, 'source')}: no benign/, malignant/ or normal/ folder under '{root}'; "
            f"point it at the unzipped BUSI release ({BUSI_ARCHIVE}/)"
        )
    return _class_tree(spec, options, root, folders, loose_label=None)


def list_pool(spec: DatasetSpec, options: FileOptions) -> Listing:
    """Unlabelled images; the pseudo-label is the sub-folder (origin) each came from."""
    root = dataset_root(spec)
    return _class_tree(spec, options, root, _subfolders(root), loose_label=root.name)


def _class_tree(
    spec: DatasetSpec,
    options: FileOptions,
    root: Path,
    folders: list[Path],
    *,
    loose_label: str | None,
) -> Listing:
    loose = [p for p in sorted(root.iterdir()) if _is_image(p) and not MASK.search(p.stem)]
    found = [f.name for f in folders] + ([loose_label] if loose and loose_label else [])
    class_names = class_order(found, options.classes, spec=spec, looked_in=f"'{root}/<class>/'")
    entries, masks = [], 0
    for folder in folders:
        if folder.name in class_names:
            tree = image_tree(folder)
            masks += tree.masks
            files = _included(tree, options, spec=spec, folder=folder)
            entries += _entries(files, folder.name, spec=spec, options=options)
    if loose_label in class_names:
        entries += _entries([(p, p.name) for p in loose], loose_label, spec=spec, options=options)
    elif loose and options.classes is None:
        entries += [_outside_classes(path) for path in loose]
    bad = [e for e in entries if isinstance(e, BadFile)]
    return Listing(
        entries=tuple(e for e in entries if isinstance(e, Entry)),
        class_names=class_names,
        bad=tuple(bad),
        grouping=_grouping(spec, options),
        ignored=(("segmentation masks (*_mask*)", masks),) if masks else (),
    )


def _entries(files, label: str, *, spec, options) -> list[Entry | BadFile]:
    """An entry for each (path, path relative to the root) of one class, or a bad file when
    ``patient_pattern`` finds no patient in its path."""
    return [_entry(path, relative, label, spec=spec, options=options) for path, relative in files]


def _entry(path: Path, relative: str, label: str, *, spec, options) -> Entry | BadFile:
    patient = _patient(relative, path, spec, options)
    if isinstance(patient, BadFile):
        return patient
    return Entry(path=path, id=relative, label=label, group=patient)


def _included(tree: Tree, options: FileOptions, *, spec, folder: Path) -> list[tuple]:
    """(path, path relative to the root) of the images ``include`` keeps; a class folder
    left without any is an error."""
    pairs = [(path, f"{folder.name}/{rel}") for path, rel in zip(tree.images, tree.relative)]
    kept = [(path, rel) for path, rel in pairs if _matches(rel, options.include)]
    if not kept:
        matching = f" matching {where(spec, 'include')}" if options.include else ""
        raise DataError(
            f"dataset '{spec.name}': class folder '{folder}' holds no images{matching} "
            f"({', '.join(sorted(IMAGE_SUFFIXES))}); add images or remove the folder"
        )
    return kept


def _matches(relative: str, patterns: tuple[str, ...]) -> bool:
    return not patterns or any(fnmatch.fnmatchcase(relative, p) for p in patterns)


def _patient(relative: str, path: Path, spec: DatasetSpec, options) -> str | BadFile | None:
    if options.patient_pattern is None:
        return None
    match = re.search(options.patient_pattern, relative)
    if match is None:
        return BadFile(
            path=str(path),
            reason="no patient id in the path",
            fix=f"adjust {where(spec, 'patient_pattern')} = {options.patient_pattern!r}",
        )
    return match.group(1) if match.groups() else match.group(0)


def _grouping(spec: DatasetSpec, options: FileOptions) -> str:
    if options.patient_pattern is None:
        return NO_PATIENTS
    return f"patients from {where(spec, 'patient_pattern')} = {options.patient_pattern!r}"


def _outside_classes(path: Path) -> BadFile:
    return BadFile(
        path=str(path),
        reason="image outside any class folder (no label)",
        fix="move it into the folder of its class",
    )


def _subfolders(root: Path) -> list[Path]:
    return sorted(p for p in root.iterdir() if p.is_dir() and not _hidden(p.name))


def _is_image(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_SUFFIXES and not _hidden(path.name) and path.is_file()


def _hidden(name: str) -> bool:
    return name.startswith(".") or name == "__MACOSX"
