"""Load a suite file: TOML → profile applied → checked → immutable :class:`Suite`."""

from __future__ import annotations

import copy
import tomllib
from dataclasses import replace
from pathlib import Path
from typing import Any

from bench.config import schema
from bench.config.grid import expand_grid
from bench.config.spec import (
    AugmentSpec,
    BaseSpec,
    DatasetSpec,
    ParamSpec,
    ProtocolSpec,
    RegressionSpec,
    ReportSpec,
    Suite,
    TrackingSpec,
    TrainSpec,
    TuningSpec,
)
from bench.config.strategy import augment_spec, builtin_strategies
from bench.errors import ConfigError
from bench.hashing import content_hash
from bench.protocols import load_card

ROLES = ("target", "pool", "intermediate")
TUNABLE = (
    "learning_rate",
    "batch_size",
    "dropout",
    "dense_units",
    "epochs",
    "trainable_layers",
    "augment_strength",
    "lr_decay",
)


def load_suite(path: str | Path, *, profile: str | None = None) -> Suite:
    """Read, check and expand the suite at ``path`` with ``[profiles.<profile>]`` applied."""
    path = Path(path)
    file = str(path)
    raw = _read_toml(path)
    raw = apply_profile(raw, profile, file=file)
    schema.check(raw, file=file)
    return _build(raw, path=path, profile=profile or "default")


def apply_profile(raw: dict, profile: str | None, *, file: str) -> dict:
    """Deep-merge ``[profiles.<profile>]`` over the suite; lists and values replace."""
    profiles = raw.get("profiles", {})
    if profile in (None, "default"):
        return raw
    if profile not in profiles:
        known = ", ".join(sorted(profiles)) or "none"
        raise ConfigError(
            f"{file}: no profile '{profile}'{schema.suggest(profile, profiles)} "
            f"(profiles here: {known}; add [profiles.{profile}])"
        )
    return _merge(copy.deepcopy(raw), profiles[profile])


def suite_hash(raw: dict) -> str:
    """Content hash of what determines results (not report settings, other profiles, the
    tracking server, or the protocol card and deviations the suite declares)."""
    ignored = ("profiles", "report", "regression", "deviations", "tracking")
    relevant = {k: v for k, v in raw.items() if k not in ignored}
    relevant["suite"] = {
        k: v for k, v in raw.get("suite", {}).items() if k not in ("description", "protocol")
    }
    return content_hash(relevant)


def _read_toml(path: Path) -> dict:
    if path.is_dir():
        raise ConfigError(
            f"{path}: is a folder; give a suite TOML file, e.g. suites/ultrasound.toml"
        )
    if not path.is_file():
        raise ConfigError(f"{path}: suite file not found; check the path (suites live in suites/)")
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{path}: not a text file (byte {exc.start} is not UTF-8); give a suite TOML file"
        ) from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror})") from None
    if not text.strip():
        raise ConfigError(f"{path}: the file is empty; start from a suite in suites/")
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None


def _merge(base: dict, override: dict) -> dict:
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = copy.deepcopy(value)
    return base


def _build(raw: dict, *, path: Path, profile: str) -> Suite:
    file = str(path)
    suite = raw.get("suite", {})
    datasets = _datasets(raw, file=file)
    roles = _roles(suite, datasets, file=file)
    datasets[roles["target"]] = _preprocessed(datasets[roles["target"]], raw.get("preprocess", {}))
    train = TrainSpec(**raw.get("train", {}))
    strategies = _strategies(raw, roles=roles, datasets=datasets, file=file)
    grid_raw = raw.get("grid", {})
    known = {*builtin_strategies(), *raw.get("strategies", {})}
    augmentation = _augmentation(raw.get("augmentation", {}), file=file)
    cells, factors = expand_grid(
        grid_raw,
        strategies=strategies,
        known_strategies=known,
        backbones=raw.get("backbones", {}),
        optimizers=raw.get("optimizers", {}),
        augment_default="augmentation" in raw,
        tuned="tuning" in raw,
        file=file,
    )
    return Suite(
        name=suite.get("name", path.stem),
        path=path,
        profile=profile,
        hash=suite_hash(raw),
        seed=suite.get("seed", 0),
        target=roles["target"],
        image_size=suite.get("image_size", 64),
        datasets=datasets,
        base=_base(raw.get("base", {}), datasets, file=file),
        train=train,
        protocol=ProtocolSpec(**raw.get("protocol", {})),
        report=_report(raw.get("report", {}), factors=factors, file=file),
        cells=cells,
        factors=factors,
        optimizers={k: tuple(sorted(v.items())) for k, v in raw.get("optimizers", {}).items()},
        augmentation=augmentation,
        balance=raw.get("balance", {}).get("method", "none"),
        balance_mixup_alpha=raw.get("balance", {}).get("mixup_alpha", 0.2),
        tuning=_tuning(raw["tuning"], file=file) if "tuning" in raw else None,
        description=suite.get("description", ""),
        results_dir=Path(suite.get("results", "results")),
        reports_dir=Path(suite.get("reports", "reports")),
        regression=_regression(raw.get("regression"), file=file),
        backend=suite.get("backend"),
        card=_card(suite.get("protocol"), file=file),
        deviations=tuple(raw.get("deviations", {}).items()),
        tracking=TrackingSpec(**raw.get("tracking", {})),
    )


def _card(name: str | None, *, file: str) -> str | None:
    """The card named by ``suite.protocol``, checked to exist and to load."""
    if name is not None:
        try:
            load_card(name)
        except ConfigError as exc:
            raise ConfigError(f"{file}: 'suite.protocol': {exc}") from None
    return name


def _datasets(raw: dict, *, file: str) -> dict[str, DatasetSpec]:
    tables = raw.get("datasets", {})
    if not tables:
        raise ConfigError(f"{file}: no [datasets.NAME] table; declare at least the target dataset")
    specs = {}
    for name, table in tables.items():
        if "source" not in table:
            raise ConfigError(
                f"{file}: 'datasets.{name}.source' is missing; e.g. source = "
                '"synthetic:ultrasound" or "folder:data/busi"'
            )
        options = tuple(sorted((k, _freeze(v)) for k, v in table.items() if k != "source"))
        specs[name] = DatasetSpec(name=name, source=table["source"], options=options)
    return specs


def _preprocessed(spec: DatasetSpec, table: dict) -> DatasetSpec:
    """The target with ``[preprocess]`` applied: its images are what the model sees, at
    training and at prediction; datasets of earlier stages are read as they are."""
    return replace(
        spec,
        segment=table.get("segment", "none"),
        segment_output=table.get("segment_output", "mask"),
    )


def _roles(suite: dict, datasets: dict, *, file: str) -> dict[str, str]:
    if "target" not in suite:
        raise ConfigError(f"{file}: 'suite.target' is missing; name the dataset to classify")
    roles = {}
    for role in ROLES:
        if role in suite:
            roles[role] = _dataset_ref(suite[role], datasets, f"suite.{role}", file)
    return roles


def _dataset_ref(name: str, datasets: dict, key: str, file: str) -> str:
    if name not in datasets:
        raise ConfigError(
            f"{file}: '{key}' names dataset '{name}'{schema.suggest(name, datasets)}, "
            f"which is not declared (datasets: {', '.join(sorted(datasets))})"
        )
    return name


def _strategies(raw: dict, *, roles: dict, datasets: dict, file: str) -> dict[str, dict]:
    """The strategies the grid uses, checked; per-backbone overrides apply per cell.

    Unknown names stay out: :func:`expand_grid` reports them against all known names.
    """
    tables = {**builtin_strategies(), **raw.get("strategies", {})}
    used = raw.get("grid", {}).get("strategy", [])
    return {
        name: _strategy_table(name, tables[name], roles=roles, datasets=datasets, file=file)
        for name in used
        if name in tables
    }


def _strategy_table(name: str, table: dict, *, roles, datasets, file) -> dict:
    key = f"strategies.{name}"
    init = table.get("init", "base")
    if init not in ("random", "base"):
        raise ConfigError(f'{file}: \'{key}.init\' must be "random" or "base", got {init!r}')
    stages = table.get("stages")
    if not stages:
        raise ConfigError(f"{file}: '{key}.stages' is empty; list at least one stage")
    resolved = [
        _stage_table(s, i, roles=roles, datasets=datasets, file=file, key=key)
        for i, s in enumerate(stages)
    ]
    return {
        "name": name,
        "init": init,
        "stages": resolved,
        "description": table.get("description", ""),
    }


def _stage_table(stage: dict, index: int, *, roles, datasets, file, key) -> dict:
    key = f"{key}.stages[{index}]"
    stage = dict(stage)
    if "data" not in stage:
        raise ConfigError(f"{file}: '{key}.data' is missing; name a dataset or \"@target\"")
    data = stage["data"] if isinstance(stage["data"], list) else [stage["data"]]
    stage["data"] = tuple(
        _resolve_data(d, roles=roles, datasets=datasets, file=file, key=key) for d in data
    )
    stage.setdefault("name", f"stage{index + 1}")
    if "augmentation" in stage:  # checked here; a spec per cell (bench/config/strategy.py)
        _augmentation(stage["augmentation"], file=file, key=f"{key}.augmentation")
    return stage


def _resolve_data(ref: str, *, roles, datasets, file, key) -> str:
    if ref.startswith("@"):
        role = ref[1:]
        if role not in roles:
            raise ConfigError(
                f"{file}: '{key}.data' uses {ref}, but 'suite.{role}' is not set; "
                f'add {role} = "<dataset name>" to [suite]'
            )
        return roles[role]
    return _dataset_ref(ref, datasets, f"{key}.data", file)


def _base(table: dict, datasets: dict, *, file: str) -> BaseSpec:
    table = dict(table)
    if table.get("pretrain") == "":  # a profile switches pretraining off with ""
        del table["pretrain"]
    if "pretrain" in table:
        _dataset_ref(table["pretrain"], datasets, "base.pretrain", file)
    return BaseSpec(**table)


def _augmentation(table: dict, *, file: str, key: str = "augmentation") -> AugmentSpec:
    """``[augmentation]`` or a stage's own table (at ``key``), its brightness range checked."""
    low_high = table.get("brightness", [0, 0])
    if len(low_high) != 2 or not 0 <= low_high[0] <= low_high[1]:
        raise ConfigError(
            f"{file}: '{key}.brightness' must be [low, high] with 0 <= low <= high, "
            f"e.g. [0.8, 1.2]; got {low_high}"
        )
    return augment_spec(table)


def _tuning(table: dict, *, file: str) -> TuningSpec:
    space = tuple(_param(name, spec, file=file) for name, spec in table.get("space", {}).items())
    if not space:
        raise ConfigError(
            f"{file}: '[tuning.space]' is empty; declare at least one parameter, "
            'e.g. learning_rate = {{ type = "float", low = 1e-4, high = 1e-2, '
            "log = true }}"
        )
    return TuningSpec(
        n_trials=table.get("n_trials", 10),
        timeout=table.get("timeout"),
        pruner=table.get("pruner", "median"),
        space=space,
        inner_folds=table.get("inner_folds", 1),
    )


def _param(name: str, spec: dict, *, file: str) -> ParamSpec:
    key = f"tuning.space.{name}"
    if name not in TUNABLE:
        raise ConfigError(
            f"{file}: '{key}' is not a tunable parameter"
            f"{schema.suggest(name, TUNABLE)} (tunable: {', '.join(TUNABLE)})"
        )
    kind = spec.get("type")
    if kind == "categorical":
        if not spec.get("choices"):
            raise ConfigError(f"{file}: '{key}.choices' must list at least one value")
        return ParamSpec(name=name, kind=kind, choices=tuple(spec["choices"]))
    if kind is None:
        raise ConfigError(f'{file}: \'{key}.type\' is missing; use "float", "int" or "categorical"')
    low, high = spec.get("low"), spec.get("high")
    if low is None or high is None or low > high:
        raise ConfigError(f"{file}: '{key}' needs low <= high, got low = {low}, high = {high}")
    if spec.get("log") and low <= 0:
        raise ConfigError(f"{file}: '{key}' is log-scaled, so low must be > 0")
    return ParamSpec(name=name, kind=kind, low=low, high=high, log=spec.get("log", False))


def _report(table: dict, *, factors: tuple[str, ...], file: str) -> ReportSpec:
    fields = dict(table)
    if "metrics" in fields:
        fields["metrics"] = tuple(fields["metrics"])
    if "heatmap" in fields:
        fields["heatmap"] = _heatmap_axes(fields["heatmap"], factors, file=file)
    return ReportSpec(**fields)


def _heatmap_axes(axes: list, factors: tuple[str, ...], *, file: str) -> tuple[str, str]:
    if len(axes) != 2 or axes[0] == axes[1]:
        raise ConfigError(
            f"{file}: 'report.heatmap' must name two different grid axes (rows, columns), "
            f'e.g. ["train.learning_rate", "train.epochs"]; got {axes}'
        )
    for axis in axes:
        if axis not in factors:
            raise ConfigError(
                f"{file}: 'report.heatmap' names '{axis}', which is not an axis of the grid"
                f"{schema.suggest(axis, factors)} (axes: {', '.join(factors)})"
            )
    return tuple(axes)


def _regression(table: dict | None, *, file: str) -> RegressionSpec | None:
    """The gate's thresholds; margins and tolerance are checked here, metric names by the gate."""
    if table is None:
        return None
    margins = table.get("margins", {})
    if not margins:
        raise ConfigError(
            f"{file}: 'regression.margins' is missing or empty; declare a margin per gated "
            "metric, e.g. margins = { accuracy = 0.05, auc = 0.05 }"
        )
    options = {k: v for k, v in table.items() if k != "margins"}
    return RegressionSpec(margins=tuple(sorted(margins.items())), **options)


def _freeze(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value
