"""``bench data inspect``: what a source holds before any training, and what is wrong with it.

Counts per class and patient, image sizes and modes, unreadable files, files the layout
cannot label, exact duplicates (content hash) and near duplicates (difference hash).
Computing (:func:`inspect_source` → :class:`Inspection`) is separate from presenting
(:func:`render_inspection`), so tests and other tools can use the numbers.
Images are read at their stored size; ``resize``, ``tile`` and ``channels`` do not apply.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.config.spec import DatasetSpec
from bench.data.decode import DEEP_MODES, GREY_MODES, BadImage, open_image, to_array
from bench.data.duplicates import difference_hash, exact_groups, near_pairs
from bench.data.entries import BadFile, Entry, Listing
from bench.data.medmnist import read_medmnist
from bench.data.options import file_options
from bench.data.reader import WORKERS
from bench.data.sources import LISTERS, bare_layout, load_dataset, resolved
from bench.errors import DataError

MODES = {1: "L", 3: "RGB"}  # mode names for arrays, as Pillow would call them


@dataclass(frozen=True)
class Observation:
    """One image as stored: where it is, what it is labelled, its size, mode and hashes."""

    id: str
    path: str
    label: str
    group: str | None
    size: tuple[int, int] | None = None  # (width, height)
    mode: str | None = None
    digest: str | None = None
    dhash: int | None = None
    error: str | None = None


@dataclass(frozen=True)
class Inspection:
    """Everything ``bench data inspect`` reports about one source."""

    source: str
    class_names: tuple[str, ...]
    grouping: str
    observations: tuple[Observation, ...]
    bad: tuple[BadFile, ...]  # what the layout could not label or find
    ignored: tuple[tuple[str, int], ...]
    exact: tuple[tuple[int, ...], ...]  # positions in ``observations`` sharing content
    near: tuple[tuple[int, int, int], ...]  # (i, j, dHash distance), exact pairs excluded
    max_distance: int
    layout: str = ""  # for a bare path: the layout taken and why


def inspect_source(spec: DatasetSpec, *, image_size: int = 64, max_distance: int = 5) -> Inspection:
    """Read every image of ``spec`` once and collect an :class:`Inspection`.

    ``image_size`` only sizes synthetic data, which has no stored images.
    """
    layout = bare_layout(spec)
    spec = resolved(spec)
    if spec.kind in LISTERS:
        listing = LISTERS[spec.kind](spec, file_options(spec))
        with ThreadPoolExecutor(WORKERS) as pool:
            observations = tuple(pool.map(_observe_file, listing.entries))
    else:
        listing, images = _arrays(spec, image_size)
        observations = tuple(map(_observe_array, listing.entries, images))
    exact = exact_groups([o.digest for o in observations])
    return Inspection(
        source=spec.source,
        class_names=listing.class_names,
        grouping=listing.grouping,
        observations=observations,
        bad=listing.bad,
        ignored=listing.ignored,
        exact=tuple(exact),
        near=tuple(_near(observations, max_distance)),
        max_distance=max_distance,
        layout=layout.line() if layout else "",
    )


def render_inspection(inspection: Inspection, *, show: int = 10) -> str:
    """A readable report: tables of classes and sizes, then every problem found."""
    sections = [
        _summary(inspection),
        _class_table(inspection),
        _size_table(inspection, show=show),
        _problems(inspection, show=show),
        _exact_section(inspection, show=show),
        _near_section(inspection, show=show),
    ]
    return "\n\n".join(section for section in sections if section)


def _arrays(spec: DatasetSpec, image_size: int) -> tuple[Listing, np.ndarray]:
    if spec.kind == "medmnist":
        return read_medmnist(spec, file_options(spec))
    images = load_dataset(spec, image_size=image_size)
    entries = tuple(
        Entry(path=Path(spec.location), id=str(i), label=images.class_names[y], group=str(g))
        for i, y, g in zip(images.ids, images.labels, images.groups)
    )
    grouping = "simulated patients of the synthetic generator"
    listing = Listing(entries=entries, class_names=images.class_names, grouping=grouping)
    return listing, images.images


def _observe_file(entry: Entry) -> Observation:
    base = {"id": entry.id, "path": str(entry.path), "label": entry.label, "group": entry.group}
    try:
        data = entry.path.read_bytes()
    except OSError as exc:
        return Observation(**base, error=f"cannot read file ({exc.strerror})")
    digest = hashlib.sha256(data).hexdigest()
    try:
        with open_image(data) as image:
            size, mode = image.size, image.mode
            pixels = to_array(image)
    except BadImage as exc:
        return Observation(**base, digest=digest, error=str(exc))
    return Observation(**base, size=size, mode=mode, digest=digest, dhash=difference_hash(pixels))


def _observe_array(entry: Entry, image: np.ndarray) -> Observation:
    return Observation(
        id=entry.id,
        path=str(entry.path),
        label=entry.label,
        group=entry.group,
        size=(image.shape[1], image.shape[0]),
        mode=MODES[image.shape[-1]],
        digest=hashlib.sha256(image.tobytes()).hexdigest(),
        dhash=difference_hash(image),
    )


def _near(observations, max_distance: int) -> list[tuple[int, int, int]]:
    """Near pairs among readable images, leaving out pairs that are exact copies."""
    readable = [i for i, o in enumerate(observations) if o.dhash is not None]
    pairs = near_pairs([observations[i].dhash for i in readable], max_distance=max_distance)
    found = [(readable[a], readable[b], d) for a, b, d in pairs]
    return [(a, b, d) for a, b, d in found if observations[a].digest != observations[b].digest]


def _summary(inspection: Inspection) -> str:
    n = len(inspection.observations)
    lines = [
        f"{inspection.source}: {n} images in {len(inspection.class_names)} classes",
        f"patients: {inspection.grouping}",
    ]
    lines += [inspection.layout] if inspection.layout else []
    lines += [f"ignored: {count} {what}" for what, count in inspection.ignored]
    return "\n".join(lines)


def _class_table(inspection: Inspection) -> str:
    from tabulate import tabulate

    obs = inspection.observations
    rows = []
    for name in inspection.class_names:
        members = [o for o in obs if o.label == name]
        rows.append(_class_row(name, members))
    rows.append(_class_row("total", list(obs)))
    headers = ["class", "images", "patients", "images/patient (min-max)", "unreadable"]
    return tabulate(rows, headers=headers, tablefmt="simple", colalign=("left",))


def _class_row(name: str, members: list[Observation]) -> list:
    per_patient = Counter(o.group or o.id for o in members)
    spread = f"{min(per_patient.values())}-{max(per_patient.values())}" if members else "-"
    unreadable = sum(o.error is not None for o in members)
    return [name, len(members), len(per_patient), spread, unreadable]


def _size_table(inspection: Inspection, *, show: int) -> str:
    from tabulate import tabulate

    readable = [o for o in inspection.observations if o.size is not None]
    if not readable:
        return ""
    counts = Counter((o.size, o.mode) for o in readable).most_common()
    rows = [[f"{w}x{h}", mode, count] for ((w, h), mode), count in counts[:show]]
    table = tabulate(rows, headers=["size (w x h)", "mode", "images"], tablefmt="simple")
    widths = [o.size[0] for o in readable]
    heights = [o.size[1] for o in readable]
    lines = [table]
    if len(counts) > show:
        rest = sum(count for _, count in counts[show:])
        lines.append(f"... {rest} more images in {len(counts) - show} other size/mode pairs")
    lines.append(f"widths {min(widths)}-{max(widths)} px, heights {min(heights)}-{max(heights)} px")
    lines += _channel_note(readable)
    return "\n".join(lines)


def _channel_note(readable: list[Observation]) -> list[str]:
    grey = sum(o.mode in GREY_MODES | DEEP_MODES for o in readable)
    if 0 < grey < len(readable):
        return [
            f"mixed channel counts: {grey} greyscale, {len(readable) - grey} colour; set "
            "channels = 1 or 3 in the dataset table to load them"
        ]
    return []


def _problems(inspection: Inspection, *, show: int) -> str:
    unreadable = [(o.path, o.error) for o in inspection.observations if o.error]
    listed = [(b.path, b.reason) for b in inspection.bad]
    parts = [
        _listed(f"unreadable files ({len(unreadable)})", unreadable, show=show),
        _listed(f"files the layout cannot use ({len(listed)})", listed, show=show),
    ]
    return "\n\n".join(p for p in parts if p) or "unreadable files: none"


def _listed(title: str, rows: list[tuple[str, str]], *, show: int) -> str:
    if not rows:
        return ""
    lines = [title + ":"] + [f"  {path}  ({reason})" for path, reason in rows[:show]]
    if len(rows) > show:
        lines.append(f"  ... {len(rows) - show} more")
    return "\n".join(lines)


def _exact_section(inspection: Inspection, *, show: int) -> str:
    obs = inspection.observations
    groups = inspection.exact
    if not groups:
        return "exact duplicates: none"
    files = sum(len(g) for g in groups)
    across = [g for g in groups if len({obs[i].label for i in g}) > 1]
    lines = [
        f"exact duplicates: {len(groups)} set(s), {files} files ({len(across)} set(s) span "
        "classes: label conflicts)"
    ]
    for group in sorted(groups, key=lambda g: g not in across)[:show]:
        labels = sorted({obs[i].label for i in group})
        lines.append("  " + " = ".join(obs[i].id for i in group) + f"  [{', '.join(labels)}]")
    return "\n".join(lines)


def _near_section(inspection: Inspection, *, show: int) -> str:
    obs = inspection.observations
    title = f"near duplicates (dHash distance <= {inspection.max_distance}, exact copies aside)"
    pairs = inspection.near
    if not pairs:
        return f"{title}: none"
    across = [p for p in pairs if obs[p[0]].label != obs[p[1]].label]
    lines = [f"{title}: {len(pairs)} pair(s) ({len(across)} across classes)"]
    ordered = sorted(pairs, key=lambda p: (obs[p[0]].label == obs[p[1]].label, p[2]))
    for a, b, distance in ordered[:show]:
        labels = (
            obs[a].label if obs[a].label == obs[b].label else f"{obs[a].label} / {obs[b].label}"
        )
        lines.append(f"  {obs[a].id} ~ {obs[b].id}  distance {distance}  [{labels}]")
    if len(pairs) > show:
        lines.append(f"  ... {len(pairs) - show} more")
    return "\n".join(lines)


def inspected_spec(
    text: str, *, dataset: str | None = None, profile: str | None = None
) -> tuple[DatasetSpec, int]:
    """The dataset ``bench data inspect`` names: a bare source (``folder:data/busi``) or a
    dataset of a suite file (default: its target), with the image size synthetic data needs."""
    if not text.endswith(".toml"):
        if dataset or profile:
            raise DataError(
                f"--dataset and --profile need a suite file, not the source {text!r}; run "
                "`bench data inspect SUITE.toml --dataset NAME`"
            )
        return DatasetSpec(name=text, source=text), 64
    from bench.config import load_suite

    suite = load_suite(text, profile=profile)
    name = dataset or suite.target
    if name not in suite.datasets:
        raise DataError(
            f"{text}: no dataset '{name}' (datasets: {', '.join(sorted(suite.datasets))}); "
            "pass one of them to --dataset"
        )
    return suite.datasets[name], suite.image_size
