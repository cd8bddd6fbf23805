"""Load a protocol card: ``bench/protocols/<name>.toml`` or a path, checked into a :class:`Card`.

A card has a title and citation, an optional ``[reproduction]`` margin, suite-wide
``[settings]`` and per-stage ``[stages."STRATEGY.STAGE"]`` tables. Each setting is one of::

    key = { value = 299, source = "Section 2.2.1: 'resized to 299 x 299'" }
    key = { by_backbone = { vgg16 = 10, xception = 19 }, source = "Table 5" }
    key = { unstated = "what the paper leaves open" }

``note`` may follow any of them. Keys are the resolved plan's (see SUITE_KEYS, STAGE_KEYS).
"""

from __future__ import annotations

import difflib
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from bench.errors import ConfigError

AUGMENT_FIELDS = (
    "rotation", "width_shift", "height_shift", "brightness", "shear", "zoom",
    "horizontal_flip", "vertical_flip", "fill_mode", "mixup_alpha",
)  # fmt: skip
SUITE_KEYS = (
    "suite.image_size",
    "protocol.folds",
    "protocol.repeats",
    "protocol.validation",
    "protocol.threshold",
    "base.weights",
    "balance.method",
    "preprocess.segment",  # of the target's images
    "train.precision",
    "report.metrics",  # the suite reports at least these
    *(f"augmentation.{name}" for name in AUGMENT_FIELDS),
)
GRID_PREFIX = "grid."  # grid.backbone, grid.strategy, grid.augment, any further axis
STAGE_KEYS = (
    "labels",
    "trainable",
    "trainable_layers",  # layers that train, head included, counted as in Keras model.layers
    "total_layers",
    "optimizer",
    "learning_rate",
    "lr_decay",
    "epochs",
    "batch_size",
    "patience",  # 0: no early stopping
    "head.dense",
    "head.dropout",
    "head.output",
    "augmentation",  # the transforms applied to this stage's training batches
)
FORMS = ("value", "by_backbone", "unstated")


@dataclass(frozen=True)
class Setting:
    """One stated (or unstated) setting of a card and where the paper states it."""

    key: str
    value: Any = None
    by_backbone: tuple[tuple[str, Any], ...] = ()
    source: str = ""
    unstated: str | None = None
    note: str = ""

    def expected(self, backbone: str | None = None) -> Any:
        """The value the paper gives (for ``backbone``, when it gives one per backbone)."""
        if self.by_backbone:
            return dict(self.by_backbone).get(backbone)
        return self.value


@dataclass(frozen=True)
class StageCard:
    """The settings of one stage of one strategy (``dtl.pool``: phase 1 of dual transfer)."""

    strategy: str
    stage: str
    arm: str  # what the paper calls it, e.g. "Scenario 2, phase 1"
    settings: tuple[Setting, ...]


@dataclass(frozen=True)
class Card:
    name: str
    title: str
    citation: str
    path: Path
    settings: tuple[Setting, ...]
    stages: tuple[StageCard, ...]
    margin: float | None = None  # equivalence margin of reproduction verdicts (metric units)
    margin_source: str = ""
    notes: tuple[str, ...] = ()


def card_names() -> tuple[str, ...]:
    """The cards shipped with bench."""
    folder = resources.files("bench.protocols")
    return tuple(sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".toml")))


def load_card(name_or_path: str | Path) -> Card:
    """A shipped card by name (``"mukhlif2023"``) or a card file by path."""
    path = _card_path(str(name_or_path))
    file = str(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{file}: not valid TOML: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{file}: cannot be read ({exc})") from None
    return _card(raw, path=path)


def _card_path(text: str) -> Path:
    path = Path(text)
    if path.suffix == ".toml" or path.parent != Path("."):
        if not path.is_file():
            raise ConfigError(f"{path}: card file not found; give a path or a card name")
        return path
    names = card_names()
    if text not in names:
        close = difflib.get_close_matches(text, names, n=1, cutoff=0.6)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        raise ConfigError(
            f"no protocol card '{text}'{hint} (cards: {', '.join(names)}; or give a path)"
        )
    return Path(str(resources.files("bench.protocols").joinpath(f"{text}.toml")))


def _card(raw: dict, *, path: Path) -> Card:
    file = str(path)
    known = {"name", "title", "citation", "notes", "reproduction", "settings", "stages"}
    for key in raw:
        if key not in known:
            raise ConfigError(f"{file}: unknown key '{key}'{_hint(key, known)}")
    for key in ("title", "citation"):
        if not isinstance(raw.get(key), str) or not raw[key].strip():
            raise ConfigError(f"{file}: '{key}' is missing; name the paper the card describes")
    margin, margin_source = _reproduction(_table(raw, "reproduction", file=file), file=file)
    settings = tuple(
        _setting(key, entry, file=file, where="settings", keys=SUITE_KEYS, grid=True)
        for key, entry in (_table(raw, "settings", file=file) or {}).items()
    )
    stages = tuple(
        _stage(key, _table(raw["stages"], key, file=file, where="stages."), file=file)
        for key in _table(raw, "stages", file=file) or {}
    )
    return Card(
        name=raw.get("name", path.stem),
        title=raw["title"],
        citation=raw["citation"],
        path=path,
        settings=settings,
        stages=stages,
        margin=margin,
        margin_source=margin_source,
        notes=tuple(raw.get("notes", ())),
    )


def _table(raw: dict, key: str, *, file: str, where: str = "") -> dict | None:
    value = raw.get(key)
    if value is not None and not isinstance(value, dict):
        raise ConfigError(f"{file}: '{where}{key}' must be a table, got {value!r}")
    return value


def _reproduction(table: dict | None, *, file: str) -> tuple[float | None, str]:
    if table is None:
        return None, ""
    margin, source = table.get("margin"), table.get("source", "")
    if isinstance(margin, bool) or not isinstance(margin, int | float) or margin <= 0:
        raise ConfigError(
            f"{file}: 'reproduction.margin' must be a positive number, got {margin!r}"
        )
    if not source:
        raise ConfigError(
            f"{file}: 'reproduction.source' is missing; say where the margin comes from or why"
        )
    return float(margin), source


def _stage(key: str, table: dict, *, file: str) -> StageCard:
    strategy, dot, stage = key.partition(".")
    if not dot or not strategy or not stage:
        raise ConfigError(
            f"{file}: 'stages.{key}' must be named STRATEGY.STAGE, e.g. [stages.\"dtl.pool\"]"
        )
    arm = table.get("arm", "")
    settings = tuple(
        _setting(name, entry, file=file, where=f"stages.{key}", keys=STAGE_KEYS)
        for name, entry in table.items()
        if name != "arm"
    )
    return StageCard(strategy=strategy, stage=stage, arm=arm, settings=settings)


def _setting(key: str, entry: Any, *, file: str, where: str, keys, grid=False) -> Setting:
    path = f"{where}.{key}"
    if key not in keys and not (grid and key.startswith(GRID_PREFIX)):
        raise ConfigError(f"{file}: unknown setting '{path}'{_hint(key, keys)}")
    if not isinstance(entry, dict):
        raise ConfigError(
            f"{file}: '{path}' must be a table: {{ value = ..., source = \"...\" }}, "
            f'{{ by_backbone = {{ ... }}, source = "..." }} or {{ unstated = "..." }}'
        )
    forms = [form for form in FORMS if form in entry]
    extra = set(entry) - {*FORMS, "source", "note"}
    if len(forms) != 1 or extra:
        raise ConfigError(
            f"{file}: '{path}' needs exactly one of {', '.join(FORMS)} (and source, note)"
        )
    if forms[0] == "unstated" and not (isinstance(entry["unstated"], str) and entry["unstated"]):
        raise ConfigError(f"{file}: '{path}.unstated' must say what the paper leaves open")
    if forms[0] != "unstated" and not entry.get("source"):
        raise ConfigError(f"{file}: '{path}.source' is missing; cite the table, section or words")
    by_backbone = entry.get("by_backbone", {})
    if forms[0] == "by_backbone" and (not isinstance(by_backbone, dict) or not by_backbone):
        raise ConfigError(f"{file}: '{path}.by_backbone' must map backbones to values")
    return Setting(
        key=key,
        value=entry.get("value"),
        by_backbone=tuple(by_backbone.items()),
        source=entry.get("source", ""),
        unstated=entry.get("unstated"),
        note=entry.get("note", ""),
    )


def _hint(word: str, choices) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""
