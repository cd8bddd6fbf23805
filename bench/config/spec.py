"""Immutable specs a suite file is validated into.

Everything downstream (planner, trainer, report) reads these, never the raw TOML.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TRAINABLE_FORMS = ("all", "head", "last:N", "all_but_last:N", "freeze_first:N")


@dataclass(frozen=True)
class DatasetSpec:
    """A dataset of the suite: a source plus the knobs that shape it."""

    name: str
    source: str  # "synthetic:ultrasound", "folder:PATH"
    options: tuple[tuple[str, Any], ...] = ()  # samples_per_class, classes, difficulty, ...

    @property
    def kind(self) -> str:
        return self.source.split(":", 1)[0]

    @property
    def location(self) -> str:
        return self.source.split(":", 1)[1] if ":" in self.source else ""

    def option(self, key: str, default: Any = None) -> Any:
        return dict(self.options).get(key, default)


@dataclass(frozen=True)
class HeadSpec:
    """Classification head on top of the pooled backbone features."""

    dense: tuple[int, ...] = ()
    dropout: float = 0.0
    activation: str = "relu"
    output: str = "softmax"  # "softmax" or "sigmoid" (sigmoid: one unit, binary only)


@dataclass(frozen=True)
class StageSpec:
    """One training stage: which data, which labels, which head, what trains, how long."""

    name: str
    data: tuple[str, ...]  # dataset names; several datasets form a pool
    labels: str = "labels"  # "labels" or "origin" (pseudo-label = dataset or scanner of origin)
    head: HeadSpec = HeadSpec()
    trainable: str = "all"
    optimizer: str | None = None  # None: the cell's optimizer
    learning_rate: float | None = None
    lr_decay: float | None = None
    epochs: int | None = None
    batch_size: int | None = None
    patience: int | None = None


@dataclass(frozen=True)
class StrategySpec:
    """A transfer strategy: where weights start and the ordered stages that follow."""

    name: str
    init: str  # "random" or "base"
    stages: tuple[StageSpec, ...]
    description: str = ""


@dataclass(frozen=True)
class BaseSpec:
    """Where "base" weights come from: a weights source, optionally followed by pretraining."""

    weights: str = "none"  # "none", "imagenet" or a path to a .weights.h5 file
    pretrain: str | None = None  # dataset name trained on once per backbone
    epochs: int = 10
    batch_size: int = 32
    learning_rate: float = 1e-3
    optimizer: str = "adam"


@dataclass(frozen=True)
class TrainSpec:
    """Defaults for every stage; a stage may override any of them."""

    epochs: int = 20
    batch_size: int = 32
    learning_rate: float = 1e-3
    lr_decay: float = 1.0  # multiplicative per epoch: lr_e = lr * lr_decay**e
    patience: int = 5


@dataclass(frozen=True)
class ProtocolSpec:
    """Cross-validation protocol on the target dataset."""

    folds: int = 5
    repeats: int = 1
    validation: float = 0.2  # fraction of each outer training set held out for early stopping
    threshold: str | float = 0.5  # fixed probability, or "youden" chosen on the inner validation


@dataclass(frozen=True)
class ReportSpec:
    metrics: tuple[str, ...] = ("accuracy", "precision", "recall", "specificity", "f1", "auc")
    sort: str = "auc"
    baseline: str | None = None


@dataclass(frozen=True)
class Cell:
    """One point of the grid: a backbone × optimizer × strategy (× further axes)."""

    factors: tuple[tuple[str, str], ...]
    backbone: str
    backbone_options: tuple[tuple[str, Any], ...]
    optimizer: str
    optimizer_options: tuple[tuple[str, Any], ...]
    strategy: StrategySpec

    @property
    def id(self) -> str:
        return "|".join(f"{k}={v}" for k, v in self.factors)


@dataclass(frozen=True)
class Suite:
    """A validated suite with its profile applied and grid expanded."""

    name: str
    path: Path
    profile: str
    hash: str
    seed: int
    target: str
    image_size: int
    datasets: dict[str, DatasetSpec]
    base: BaseSpec
    train: TrainSpec
    protocol: ProtocolSpec
    report: ReportSpec
    cells: tuple[Cell, ...]
    factors: tuple[str, ...]
    optimizers: dict[str, tuple] = field(default_factory=dict)  # [optimizers.NAME] options
    description: str = ""
    results_dir: Path = field(default=Path("results"))
    reports_dir: Path = field(default=Path("reports"))

    @property
    def store_path(self) -> Path:
        return self.results_dir / self.name / "bench.sqlite"

    @property
    def artifacts_dir(self) -> Path:
        return self.results_dir / self.name / "artifacts"
