"""Text description of a plan, for ``bench validate``."""

from __future__ import annotations

from collections import Counter

from bench.data.sources import load_dataset
from bench.engine.cache import describe_states, job_states
from bench.engine.plan import Plan
from bench.report.provenance import near_duplicate_line


def describe_plan(plan: Plan) -> str:
    suite = plan.suite
    lines = [
        f"suite {suite.name} (profile {suite.profile}, hash {suite.hash})",
        f"  target: {suite.target}; images {suite.image_size}x{suite.image_size} px",
        "",
        "datasets:",
    ]
    lines += [f"  {name:<14} {_dataset_line(plan, name)}" for name in suite.datasets]
    lines += ["", f"grid: {len(suite.cells)} cells ({' × '.join(_axis_sizes(plan))})"]
    lines += [f"  {cell.id}" for cell in suite.cells]
    lines += [
        "",
        f"jobs: {len(plan.stage_jobs)} shared stage(s) trained once, "
        f"{len(plan.fold_jobs)} fold jobs ({suite.protocol.folds} folds × "
        f"{suite.protocol.repeats} repeat(s) × {len(suite.cells)} cells)",
    ]
    lines += [f"  stage {job.label} ({job.hyper.epochs} epochs)" for job in plan.stage_jobs]
    lines += ["", near_duplicate_line(plan.near_duplicates)]
    lines += ["", *describe_states(job_states(plan))]
    return "\n".join(lines)


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
