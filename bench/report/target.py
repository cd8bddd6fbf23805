"""What a report is about: a suite file, or a results name such as an imported table.

``bench report suites/x.toml`` reports that suite's hash and profile from
``results/<name>/bench.sqlite`` and writes to ``<reports>/<name>/``. Any argument not ending
in ``.toml`` is a results name, as ``bench compare`` reads it: ``results/<name>/bench.sqlite``,
its latest run (of ``--profile`` when given), written to ``reports/<name>/``; with no suite
file there is no description, protocol line or default baseline (pass ``--baseline``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bench.config.spec import Suite
from bench.protocols import load_card


@dataclass(frozen=True)
class ProtocolCheck:
    """The suite held against the protocol card it names (``[suite] protocol``)."""

    card: str
    title: str
    citation: str
    summary: str  # how many settings agree, differ, deviate or are unstated
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]  # setting, backbone, card, suite, status
    deviations: tuple[tuple[str, str], ...]  # [deviations]: setting, reason


@dataclass(frozen=True)
class ReportTarget:
    """Where the results are, where the report goes, and the suite's report defaults.

    ``suite_hash``/``profile`` None: the latest run in the store. ``base_cells`` are the
    cells whose strategy starts from base weights (they reuse the shared stage jobs);
    ``classes`` name the target's class indices; ``hint`` tells how to make missing results;
    ``published``/``margin``: the imported table the report tests the cells against.
    """

    name: str
    store_path: Path
    out_dir: Path
    hint: str
    suite_hash: str | None = None
    profile: str | None = None
    description: str = ""
    factors: tuple[str, ...] | None = None
    metrics: tuple[str, ...] | None = None
    sort: str | None = None
    baseline: str | None = None
    protocol: str | None = None
    classes: tuple[str, ...] | None = None
    base_cells: frozenset[str] | None = None
    protocol_check: ProtocolCheck | None = None
    heatmap: tuple[str, ...] = ()  # rows and columns of the axis heatmap; () automatic
    published: str | None = None  # the imported table the cells are tested against
    margin: float | None = None  # the equivalence margin of those tests


def resolve_target(argument: str, *, profile: str | None = None) -> ReportTarget:
    """A suite file (``*.toml``) or a results name, as described in the module docstring."""
    if argument.endswith(".toml"):
        from bench.config import load_suite

        return target_from_suite(load_suite(argument, profile=profile))
    return ReportTarget(
        name=argument,
        store_path=Path("results") / argument / "bench.sqlite",
        out_dir=Path("reports") / argument,
        hint="run `bench run` or `bench import` first",
        profile=profile,
    )


def target_from_suite(suite: Suite) -> ReportTarget:
    """The report target of a loaded suite: its hash, profile and ``[report]`` settings."""
    protocol = suite.protocol
    classes = (
        suite.datasets[suite.target].option("classes") if suite.target in suite.datasets else None
    )
    return ReportTarget(
        name=suite.name,
        store_path=suite.store_path,
        out_dir=suite.reports_dir / suite.name,
        hint=f"no results yet for suite '{suite.name}'; run `bench run {suite.path}` first",
        suite_hash=suite.hash,
        profile=suite.profile,
        description=suite.description,
        factors=tuple(suite.factors),
        metrics=tuple(suite.report.metrics),
        sort=suite.report.sort,
        baseline=suite.report.baseline,
        published=suite.report.published,
        margin=_margin(suite),
        protocol=(
            f"{protocol.folds}-fold stratified group CV × {protocol.repeats} repeat(s); inner "
            f"validation {protocol.validation:g}; threshold {protocol.threshold}"
        ),
        classes=tuple(classes) if classes else None,
        base_cells=frozenset(c.id for c in suite.cells if c.strategy.init == "base"),
        heatmap=suite.report.heatmap,
    )


def _margin(suite: Suite) -> float | None:
    """The suite's ``[report] margin``, else that of the protocol card it names."""
    if suite.report.margin is not None or suite.card is None:
        return suite.report.margin
    return load_card(suite.card).margin
