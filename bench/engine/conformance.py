"""Hold a suite's resolved plan against a protocol card: one row per setting (per backbone
where the paper gives values per backbone, or the suite's value depends on it).

A row is ``ok``, ``differs``, ``unstated`` (the paper is silent), or ``deviation`` when the
suite declares the difference under ``[deviations]`` with its reason. Stage settings are
named ``STRATEGY.STAGE.KEY`` (``dtl.pool.trainable_layers``), suite settings by their key.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from bench.config.trainable import parse_trainable
from bench.engine.resolve import resolve_plan
from bench.errors import ConfigError
from bench.protocols import Card, Setting, StageCard, load_card
from bench.report.target import ProtocolCheck

PER_BACKBONE = ("trainable", "trainable_layers", "total_layers")  # resolved per backbone
ORDERLESS = ("grid.",)  # a grid axis is a set of levels
AT_LEAST = ("report.metrics",)  # the suite may report more than the paper
ABSENT = "—"
STATUSES = ("ok", "differs", "deviation", "unstated")


@dataclass(frozen=True)
class Row:
    setting: str
    backbone: str  # "" when the row holds for every backbone
    card: str
    suite: str
    status: str  # ok, differs, unstated, deviation
    source: str = ""
    reason: str = ""  # why the paper is silent, or why the suite deviates

    @property
    def label(self) -> str:
        return f"{self.status} ({self.reason})" if self.reason else self.status


@dataclass(frozen=True)
class Conformance:
    card: Card
    rows: tuple[Row, ...]

    @property
    def differences(self) -> tuple[Row, ...]:
        return tuple(row for row in self.rows if row.status == "differs")

    def summary(self) -> str:
        """How many rows have each status, e.g. "69 ok, 0 differs, 0 deviation, 7 unstated"."""
        counts = {s: sum(r.status == s for r in self.rows) for s in STATUSES}
        return ", ".join(f"{n} {status}" for status, n in counts.items())

    def report(self, suite) -> ProtocolCheck:
        """What ``bench report`` shows of it."""
        header, rows = self.table()
        card = self.card
        return ProtocolCheck(
            card.name, card.title, card.citation, self.summary(), header, rows, suite.deviations
        )

    def table(self) -> tuple[tuple[str, ...], tuple[tuple[str, ...], ...]]:
        """Header and rows as text, for the terminal and the report."""
        header = ("setting", "backbone", "card", "suite", "status")
        body = tuple((r.setting, r.backbone, r.card, r.suite, r.label) for r in self.rows)
        return header, body


def check_conformance(suite, card: str | None = None) -> Conformance:
    """The suite (with its profile applied) against ``card`` (default: ``suite.protocol``)."""
    name = card or suite.card
    if name is None:
        raise ConfigError(
            f"{suite.path}: no card to check against; pass --against CARD or set "
            '[suite] protocol = "<card>"'
        )
    protocol = load_card(name)
    plan = resolve_plan(suite)
    deviations = dict(suite.deviations)
    rows = [_suite_row(setting, plan["settings"]) for setting in protocol.settings]
    for stage in protocol.stages:
        rows += _stage_rows(stage, plan["cells"])
    _check_deviations(deviations, rows, suite=suite, card=protocol)
    return Conformance(card=protocol, rows=tuple(_declared(row, deviations) for row in rows))


def conformance_lines(suite, result: Conformance) -> list[str]:
    """``bench validate --against``: the table, a count per status and what differs."""
    from tabulate import tabulate

    card = result.card
    header, body = result.table()
    lines = [
        f"suite {suite.name} (profile {suite.profile}) against card {card.name}: {card.title}",
        f"  {card.citation}",
        "",
        tabulate(body, headers=header, tablefmt="simple"),
        "",
        result.summary(),
    ]
    if result.differences:
        names = dict.fromkeys(
            f"{r.setting} [{r.backbone}]" if r.backbone else r.setting for r in result.differences
        )
        lines.append(
            f"differs: {', '.join(names)} (change the suite, or declare the setting under "
            "[deviations] with the reason)"
        )
    lines.append(
        "data checks skipped: no data folder is read here; `bench validate SUITE` without "
        "--against checks the data"
    )
    return lines


def _suite_row(setting: Setting, settings: dict) -> Row:
    actual = settings.get(setting.key, ABSENT)
    return _judge(setting.key, "", setting, [setting.expected()], [actual])


def _stage_rows(card: StageCard, cells: list[dict]) -> list[Row]:
    name = f"{card.strategy}.{card.stage}"
    cells = [c for c in cells if c["strategy"] == card.strategy]
    stages = [(c, s) for c in cells for s in c["stages"] if s["name"] == card.stage]
    if not stages:
        why = "strategy not in the grid" if not cells else f"no stage '{card.stage}'"
        return [Row(name, "", card.arm or "a stage of the paper", why, "differs")]
    rows = []
    for setting in card.settings:
        per_backbone = bool(setting.by_backbone) or setting.key in PER_BACKBONE
        groups: dict[str, list] = {}
        for cell, stage in stages:
            groups.setdefault(cell["backbone"] if per_backbone else "", []).append((cell, stage))
        for backbone, members in groups.items():
            expected = [_expected(setting, cell, stage) for cell, stage in members]
            actual = [_actual(setting.key, stage) for _, stage in members]
            rows.append(_judge(f"{name}.{setting.key}", backbone, setting, expected, actual))
    return rows


@dataclass(frozen=True, eq=False)
class Layers:
    """A trainable rule on one backbone and head: equal to a rule or a count of layers when
    as many layers train."""

    rule: str
    trained: int
    total: int

    def __eq__(self, other) -> bool:
        if isinstance(other, int) and not isinstance(other, bool):
            return self.trained == other
        return isinstance(other, Layers) and self.trained == other.trained

    def __str__(self) -> str:
        return f"{self.rule} ({self.trained} of {self.total} layers train)"


def _expected(setting: Setting, cell: dict, stage: dict):
    value = setting.expected(cell["backbone"])
    if setting.key == "augmentation" and not cell["augment"] and not stage["shared"]:
        return []  # a target stage's transforms are those of cells with augmentation on
    if setting.key == "trainable" and value is not None:
        trained = sum(parse_trainable(value).flags(stage["backbone_layers"])) + stage["head_layers"]
        return Layers(value, trained, stage["total_layers"])
    return value


def _actual(key: str, stage: dict):
    if key in ("trainable", "trainable_layers"):
        return Layers(stage["trainable"], stage["trainable_layers"], stage["total_layers"])
    if key.startswith("head."):
        return stage["head"][key.removeprefix("head.")]
    return stage[key]


def _judge(setting: str, backbone: str, card: Setting, expected: list, actual: list) -> Row:
    """One row over the cells it covers: it differs if any cell differs."""
    suite = _show_all(actual)
    if card.unstated is not None or None in expected:  # silent, or silent on this backbone
        reason = card.unstated or f"no value for {backbone}"
        return Row(setting, backbone, ABSENT, suite, "unstated", card.source, reason)
    same = all(_same(e, a, key=setting) for e, a in zip(expected, actual, strict=True))
    status = "ok" if same else "differs"
    return Row(setting, backbone, _show_all(expected), suite, status, card.source)


def _same(expected, actual, *, key: str) -> bool:
    if key in AT_LEAST and isinstance(actual, list):
        return set(expected) <= set(actual)
    if isinstance(expected, list) and isinstance(actual, list):
        if key.startswith(ORDERLESS):
            expected, actual = sorted(map(str, expected)), sorted(map(str, actual))
        return len(expected) == len(actual) and all(
            _same(e, a, key="") for e, a in zip(expected, actual, strict=True)
        )
    numbers = (int, float)
    if isinstance(expected, numbers) and isinstance(actual, numbers):
        if isinstance(expected, bool) or isinstance(actual, bool):
            return expected is actual
        return math.isclose(expected, actual, rel_tol=1e-3)  # three significant digits
    return expected == actual


def _show_all(values: list) -> str:
    return " / ".join(dict.fromkeys(_show(v) for v in values))


def _show(value) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_show(v) for v in value) + "]" if value else "none"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:g}"
    return ABSENT if value is None else str(value)


def _check_deviations(deviations: dict, rows: list[Row], *, suite, card: Card) -> None:
    settings = {row.setting for row in rows}
    for key in deviations:
        if key not in settings:
            raise ConfigError(
                f"{suite.path}: 'deviations.{key}' names no setting of card '{card.name}' "
                f"(its settings: {', '.join(sorted(settings))})"
            )


def _declared(row: Row, deviations: dict) -> Row:
    if row.status != "differs" or row.setting not in deviations:
        return row
    return replace(row, status="deviation", reason=deviations[row.setting])
