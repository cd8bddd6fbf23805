"""Immutable specs a suite file is validated into.

Everything downstream (planner, trainer, report) reads these, never the raw TOML.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from bench.backend import Backend, Precision
from bench.config.trainable import ALL, Trainable

# The closed vocabularies of suite fields; bench.config.schema checks values against them.
Activation = Literal[
    "relu", "relu6", "leaky_relu", "elu", "selu", "gelu", "silu", "swish", "mish",
    "tanh", "sigmoid", "softplus", "softsign", "linear",
]  # fmt: skip
Output = Literal["softmax", "sigmoid"]  # sigmoid: one unit, binary only
LabelMode = Literal["labels", "origin"]  # origin: pseudo-label = dataset or scanner of origin
Init = Literal["random", "base"]
FillMode = Literal["nearest", "constant", "reflect", "wrap"]  # scipy.ndimage's
Leakage = Literal["error", "warn"]
BalanceMethod = Literal["none", "class_weight", "oversample", "undersample", "mixup"]
SegmentMethod = Literal["none", "kmeans"]  # kmeans: bench.data.segment
SegmentOutput = Literal["mask", "crop"]
ExplainMethod = Literal["gradcam", "shap"]
Pruner = Literal["median", "none"]
ParamKind = Literal["float", "int", "categorical"]


@dataclass(frozen=True)
class DatasetSpec:
    """A dataset of the suite: a source plus the knobs that shape it."""

    name: str
    source: str  # "synthetic:ultrasound", "folder:PATH"
    options: tuple[tuple[str, Any], ...] = ()  # samples_per_class, classes, difficulty, ...
    segment: SegmentMethod = "none"  # [preprocess] segment (target only): kmeans finds lesions
    segment_output: SegmentOutput = "mask"  # [preprocess] segment_output

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
    activation: Activation = "relu"
    output: Output = "softmax"


@dataclass(frozen=True)
class StageSpec:
    """One training stage: which data, which labels, which head, what trains, how long."""

    name: str
    data: tuple[str, ...]  # dataset names; several datasets form a pool
    labels: LabelMode = "labels"
    head: HeadSpec = HeadSpec()
    trainable: Trainable = ALL
    optimizer: str | None = None  # None: the cell's optimizer
    learning_rate: float | None = None
    lr_decay: float | None = None
    epochs: int | None = None
    batch_size: int | None = None
    patience: int | None = None
    augmentation: AugmentSpec | None = None  # its own table; None: see plan.stage_augmentation

    def __json__(self) -> dict:
        """Its form in job inputs: without ``augmentation``, which a job hashes where it is
        read (bench/engine/plan.py), so stages without one keep their hashes."""
        return {k: getattr(self, k) for k in self.__dataclass_fields__ if k != "augmentation"}


@dataclass(frozen=True)
class StrategySpec:
    """A transfer strategy: where weights start and the ordered stages that follow."""

    name: str
    init: Init
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
    precision: Precision = "float32"  # or a Keras mixed policy


@dataclass(frozen=True)
class AugmentSpec:
    """Random transforms of training batches (Keras ImageDataGenerator-style ranges)."""

    rotation: float = 0.0  # degrees, uniform in ±rotation
    width_shift: float = 0.0  # fraction of the width
    height_shift: float = 0.0
    brightness: tuple[float, float] | None = None  # multiplicative range, e.g. (0.8, 1.2)
    shear: float = 0.0  # degrees
    zoom: float = 0.0  # ± fraction
    horizontal_flip: bool = False
    vertical_flip: bool = False
    fill_mode: FillMode = "nearest"
    mixup_alpha: float = 0.0  # 0: no MixUp

    @property
    def geometric(self) -> bool:
        return any((self.rotation, self.width_shift, self.height_shift, self.shear, self.zoom))


@dataclass(frozen=True)
class ProtocolSpec:
    """Cross-validation protocol on the target dataset."""

    folds: int = 5
    repeats: int = 1
    validation: float = 0.2  # fraction of each outer training set held out for early stopping
    threshold: Literal["youden"] | float = 0.5  # or "youden": chosen on the inner validation
    leakage: Leakage = "error"  # target images inside earlier stages' data
    deterministic: bool = True  # deterministic kernels on every backend (bench.train.seeding)


@dataclass(frozen=True)
class ParamSpec:
    """One dimension of the search space: float/int (low, high, log) or categorical."""

    name: str
    kind: ParamKind
    low: float | None = None
    high: float | None = None
    log: bool = False
    choices: tuple = ()


@dataclass(frozen=True)
class TuningSpec:
    """Optuna search inside each outer training set (TPE sampler, seeded)."""

    n_trials: int = 10
    timeout: float | None = None  # seconds per outer fold
    pruner: Pruner = "median"  # fed with per-epoch validation loss
    space: tuple[ParamSpec, ...] = ()
    inner_folds: int = 1  # 1: trials scored on the inner validation split; K: inner K-fold


@dataclass(frozen=True)
class ReportSpec:
    metrics: tuple[str, ...] = ("accuracy", "precision", "recall", "specificity", "f1", "auc")
    sort: str = "auc"
    baseline: str | None = None
    heatmap: tuple[str, ...] = ()  # two axes (rows, columns) of the axis heatmap; () automatic
    published: str | None = None  # an imported table the report tests the cells against
    margin: float | None = None  # equivalence margin of those tests, in the metric's units
    explain: ExplainMethod = "gradcam"  # maps of the examples figure


@dataclass(frozen=True)
class TrackingSpec:
    """``[tracking]``: where ``bench run`` logs each fold as it finishes (None: nowhere)."""

    mlflow: str | None = None  # an MLflow tracking URI


@dataclass(frozen=True)
class RegressionSpec:
    """``[regression]``: how much worse a metric may get, and how much slower the suite.

    ``margins`` maps a metric to the non-inferiority margin in its own units (a drop for
    higher-is-better metrics, a rise for loss and brier); only these metrics are gated.
    """

    margins: tuple[tuple[str, float], ...]
    alpha: float = 0.05
    runtime_tolerance: float = 1.5  # largest allowed growth of runtime / calibration time


@dataclass(frozen=True)
class Cell:
    """One point of the grid: a backbone × optimizer × strategy (× further axes)."""

    factors: tuple[tuple[str, str], ...]
    backbone: str
    backbone_options: tuple[tuple[str, Any], ...]
    optimizer: str
    optimizer_options: tuple[tuple[str, Any], ...]
    strategy: StrategySpec
    augment: bool = False  # augment the target stages' batches ([augmentation] or their own)
    fraction: float = 1.0  # share of the labelled training patients used (learning curves)
    settings: tuple[tuple[str, Any], ...] = ()  # setting axes: ("train.epochs", 10), ...

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
    augmentation: AugmentSpec = AugmentSpec()
    balance: BalanceMethod = "none"
    balance_mixup_alpha: float = 0.2  # Beta(alpha, alpha) of balance = "mixup"
    tuning: TuningSpec | None = None
    description: str = ""
    results_dir: Path = field(default=Path("results"))
    reports_dir: Path = field(default=Path("reports"))
    regression: RegressionSpec | None = None  # None: the suite declares no [regression]
    backend: Backend | None = None  # [suite] backend; None: --backend or KERAS_BACKEND decides
    card: str | None = None  # [suite] protocol: the published protocol this suite follows
    deviations: tuple[tuple[str, str], ...] = ()  # [deviations]: setting -> reason
    tracking: TrackingSpec = TrackingSpec()

    @property
    def store_path(self) -> Path:
        return self.results_dir / self.name / "bench.sqlite"

    @property
    def studies_path(self) -> Path:
        """Optuna studies; a file of their own so the results database keeps one writer."""
        return self.results_dir / self.name / "studies.sqlite"

    @property
    def artifacts_dir(self) -> Path:
        """Weights of shared stages, keyed by job hash and shared by every suite of a results
        root, so a pretraining stage is trained once for all suites that declare it."""
        return self.results_dir / "cache" / "stages"
