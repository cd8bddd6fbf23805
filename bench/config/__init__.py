"""Suite files: load TOML, validate, apply a profile, expand the grid into cells."""

from bench.config.load import load_suite
from bench.config.spec import (
    BaseSpec,
    Cell,
    DatasetSpec,
    HeadSpec,
    ProtocolSpec,
    ReportSpec,
    StageSpec,
    StrategySpec,
    Suite,
    TrainSpec,
)

__all__ = [
    "BaseSpec",
    "Cell",
    "DatasetSpec",
    "HeadSpec",
    "ProtocolSpec",
    "ReportSpec",
    "StageSpec",
    "StrategySpec",
    "Suite",
    "TrainSpec",
    "load_suite",
]
