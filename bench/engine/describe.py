"""Text description of a plan, for ``bench validate``: the data, the grid, the jobs, how
each stage trains (augmentation, balancing), the tuning plan and what the run will cost.

Costs are upper bounds: early stopping ends most fits before their last epoch.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, fields

from bench.config.spec import AugmentSpec, Suite, TuningSpec
from bench.data.sources import bare_layout, load_dataset
from bench.engine.cache import describe_states, job_states
from bench.engine.catalog import datasets_read
from bench.engine.conformance import check_conformance
from bench.engine.plan import FoldJob, Plan
from bench.store.findings import near_duplicate_line


def describe_plan(plan: Plan) -> str:
    suite = plan.suite
    lines = [
        f"suite {suite.name} (profile {suite.profile}, hash {suite.hash})",
        f"  target: {suite.target}; images {suite.image_size}x{suite.image_size} px",
        "",
        "datasets:",
    ]
    read = datasets_read(suite)
    for name, spec in suite.datasets.items():
        line = _dataset_line(plan, name) if name in read else f"{spec.source}: not read by any cell"
        lines.append(f"  {name:<14} {line}")
        layout = bare_layout(spec)
        lines += [f"  {'':<14} {layout.line()}"] if layout else []
    lines += ["", f"grid: {len(suite.cells)} cells ({' × '.join(_axis_sizes(plan))})"]
    lines += [f"  {cell.id}" for cell in suite.cells]
    lines += [
        "",
        f"jobs: {len(plan.stage_jobs)} shared stage(s) trained once, "
        f"{len(plan.fold_jobs)} fold jobs ({suite.protocol.folds} folds × "
        f"{suite.protocol.repeats} repeat(s) × {len(suite.cells)} cells)",
    ]
    lines += [f"  stage {job.label} ({job.hyper.epochs} epochs)" for job in plan.stage_jobs]
    lines += ["", *_training_lines(plan)]
    lines += ["", *tuning_lines(suite.tuning)]
    lines += ["", *_cost_lines(plan)]
    lines += ["", _protocol_line(suite)] if suite.card else []
    lines += ["", near_duplicate_line(plan.near_duplicates)]
    lines += ["", *describe_states(job_states(plan))]
    return "\n".join(lines)


def _protocol_line(suite: Suite) -> str:
    """How the suite compares with the card it names (the table: ``--against``)."""
    return (
        f"protocol: card {suite.card}: {check_conformance(suite).summary()} "
        f"(bench validate {suite.path} --profile {suite.profile} --against {suite.card})"
    )


@dataclass
class Fits:
    """What one kind of stage costs over the whole run (epochs are upper bounds)."""

    fits: int = 0
    epochs: int = 0
    image_epochs: int = 0

    def add(self, *, fits: int, epochs: int, images: int) -> None:
        self.fits += fits
        self.epochs += fits * epochs
        self.image_epochs += fits * epochs * images


def _training_lines(plan: Plan) -> list[str]:
    """Augmentation and balancing of every stage: they act on training batches only."""
    suite = plan.suite
    augmented = sum(cell.augment for cell in suite.cells)
    augmentation = augmentation_text(suite.augmentation)
    lines = ["training (augmentation and balancing act on training batches, never on test folds):"]
    plain = [job for job in plan.stage_jobs if job.stage.augmentation is None]
    if plain:
        lines.append(
            f"  {len(plain)} shared stage(s), listed under jobs: augmentation off, balancing none"
        )
    own = Counter(
        (job.stage.name, augmentation_text(job.stage.augmentation))
        for job in plan.stage_jobs
        if job.stage.augmentation is not None
    )
    for (name, text), jobs in sorted(own.items()):
        lines.append(
            f"  {jobs} shared stage(s) {name}: augmentation {text} (its own), balancing none"
        )
    for name, strategy in sorted({c.strategy.name: c.strategy for c in suite.cells}.items()):
        cells = [c for c in suite.cells if c.strategy.name == name]
        on = sum(c.augment for c in cells)
        for stage in strategy.stages:
            if suite.target not in stage.data:
                continue
            own = stage.augmentation
            text = augmentation_text(own) if own is not None else augmentation
            aug = "off" if not on else f"{text} in {on} of {len(cells)} cells"
            lines.append(
                f"  {name} stage {stage.name}: augmentation {aug}, balancing {_balancing(suite)}"
            )
    if augmented == 0 and augmentation != "none":
        lines.append("  [augmentation] is set, but no cell has augment = true")
    target = suite.datasets[suite.target]
    if target.segment != "none":
        lines.append(
            f"  target images: {target.segment} lesion segmentation, {target.segment_output} "
            "(when read, before resizing; cached)"
        )
    return lines


def _balancing(suite) -> str:
    if suite.balance == "mixup":
        return f"mixup (alpha {suite.balance_mixup_alpha:g}) up to the majority count"
    return suite.balance


def augmentation_text(spec: AugmentSpec) -> str:
    """The transforms in force, e.g. "rotation 15, horizontal_flip, mixup_alpha 0.2"."""
    default = AugmentSpec()
    changed = [f for f in fields(spec) if getattr(spec, f.name) != getattr(default, f.name)]
    parts = [
        f.name if getattr(spec, f.name) is True else f"{f.name} {getattr(spec, f.name)}"
        for f in changed
    ]
    return ", ".join(parts) or "none"


def tuning_lines(tuning: TuningSpec | None) -> list[str]:
    if tuning is None:
        return ["tuning: none (each stage trains with the suite's hyperparameters)"]
    judged = (
        "the inner validation split"
        if tuning.inner_folds == 1
        else f"an inner {tuning.inner_folds}-fold split of the outer training set"
    )
    pruner = "median (after 2 epochs)" if tuning.pruner == "median" else "none"
    budget = f", at most {tuning.timeout:g} s" if tuning.timeout else ""
    lines = [
        f"tuning: Optuna TPE sampler (seeded per fold), {tuning.n_trials} trials per outer fold"
        f"{budget}, pruner {pruner}; each trial judged on {judged} (never the test fold); "
        "the last target stage of every cell is tuned",
        "  space:",
    ]
    for p in tuning.space:
        where = (
            ", ".join(map(str, p.choices))
            if p.kind == "categorical"
            else f"[{p.low:g}, {p.high:g}]{' log' if p.log else ''}"
        )
        lines.append(f"    {p.name}: {p.kind} {where}")
    return lines


def _cost_lines(plan: Plan) -> list[str]:
    suite = plan.suite
    shared, target = Fits(), Fits()
    for job in plan.stage_jobs:
        images = _fit_part(suite, sum(_size(suite, name) for name in job.stage.data))
        shared.add(fits=1, epochs=job.hyper.epochs, images=images)
    for job in plan.fold_jobs:
        for fits, epochs, images in _fold_fits(suite, job):
            target.add(fits=fits, epochs=epochs, images=images)
    total = shared.image_epochs + target.image_epochs
    return [
        f"estimated cost (upper bounds; early stopping ends most fits sooner): "
        f"{len(plan.stage_jobs) + len(plan.fold_jobs)} jobs, {shared.fits + target.fits} fits",
        f"  shared stages: {shared.fits} fits, ≤ {shared.epochs} epochs, "
        f"≤ {shared.image_epochs:,} images × epochs",
        f"  fold jobs: {target.fits} fits, ≤ {target.epochs} epochs, "
        f"≤ {target.image_epochs:,} images × epochs",
        f"  in all: ≤ {total:,} images × epochs",
    ]


def _fold_fits(suite: Suite, job: FoldJob):
    """(fits, epochs, images) per stage of a fold job; tuning adds trials to the last one."""
    tuning = suite.tuning
    for index, (stage, hyper) in enumerate(job.stages):
        images = (
            len(job.fold.train)
            if suite.target in stage.data
            else _fit_part(suite, sum(_size(suite, name) for name in stage.data))
        )
        fits, epochs = 1, hyper.epochs
        if tuning and index == len(job.stages) - 1:
            fits += tuning.n_trials * max(1, tuning.inner_folds)
            epochs = max([epochs, *(int(p.high) for p in tuning.space if p.name == "epochs")])
        yield fits, epochs, images


def _size(suite: Suite, name: str) -> int:
    return len(load_dataset(suite.datasets[name], image_size=suite.image_size).labels)


def _fit_part(suite: Suite, images: int) -> int:
    """Images a shared stage fits on: what its validation split leaves."""
    return round(images * (1 - suite.protocol.validation))


def _dataset_line(plan: Plan, name: str) -> str:
    suite = plan.suite
    spec = suite.datasets[name]
    images = load_dataset(spec, image_size=suite.image_size)
    counts = Counter(images.labels.tolist())
    per_class = ", ".join(f"{c} {counts[i]}" for i, c in enumerate(images.class_names))
    return (
        f"{spec.source}: {len(images.labels)} images, {len(set(images.groups))} patients "
        f"({per_class})"
    )


def _axis_sizes(plan: Plan) -> list[str]:
    suite = plan.suite
    return [f"{len({dict(c.factors)[a] for c in suite.cells})} {a}" for a in suite.factors]
