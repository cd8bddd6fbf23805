"""Small results databases written through the Store API, with known scores and fixed times.

Grid: backbone {small_cnn, mobilenetv2} × optimizer {adam, sgd} × strategy {scratch, ctl},
``repeats`` × ``folds`` outer folds. Scores follow :func:`known_score` exactly, so tables can
be checked by hand and against golden files; predictions and histories are generated from a
seeded generator only for the figures. Job and run times are overwritten with fixed values
so that the timing tables are reproducible too.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from bench.report.target import ReportTarget
from bench.store.db import FoldRecord, PlanRow, Store

BACKBONES = ("small_cnn", "mobilenetv2")
OPTIMIZERS = ("adam", "sgd")
STRATEGIES = ("scratch", "ctl")
METRICS = ("accuracy", "auc", "loss")
SUITE_HASH = "0123456789abcdef"
PROVENANCE = {
    "versions": {"bench": "0.1.0", "keras": "3.15.1", "python": "3.11.7"},
    "hardware": {"cpu": "Test CPU", "cpus": 2, "gpus": ""},
    "git_commit": "abc123",
}
STARTED = 1_750_000_000.0  # 2025-06-15 15:06:40 UTC
# Validation accuracy per epoch of the two pretraining stages: one learns, one stays near chance.
STAGE_ACCURACY = ([0.30, 0.55, 0.70], [0.12, 0.20, 0.25])


@dataclass(frozen=True)
class StoreSpec:
    """The shape of a test store."""

    repeats: int = 2
    folds: int = 3
    classes: int = 2
    tuned: bool = False
    samples: int = 12


def known_score(
    metric: str, *, backbone: int, optimizer: int, strategy: int, repeat: int, fold: int
) -> float:
    """The stored score: ctl beats scratch by a fold-dependent margin, plus small offsets."""
    wobble = ((3 * fold + 5 * repeat + 2 * backbone + optimizer) % 4) / 100
    gain = strategy * (0.08 + 0.01 * fold + 0.004 * (backbone + 2 * optimizer))
    base = {"accuracy": 0.60, "auc": 0.65, "loss": 0.70}[metric]
    value = base + 0.03 * backbone + 0.01 * optimizer + wobble + gain
    return round(1.3 - value, 6) if metric == "loss" else round(value, 6)


def known_cost(*, backbone: int, strategy: int, fold: int) -> dict[str, float]:
    """The stored model cost: the backbone sets size and speed; latency and training time
    vary a little over folds, as measurements do."""
    return {
        "params": [12_000.0, 410_000.0][backbone],
        "flops": [1.5e6, 2.5e7][backbone],
        "latency_cpu_b1_ms": [0.5, 9.0][backbone] + 0.1 * fold,
        "latency_cpu_b32_ms": [0.05, 0.9][backbone] + 0.01 * fold,
        "train_seconds": 10.0 + 20.0 * backbone + 5.0 * strategy + fold,
    }


def build_store(path: Path, spec: StoreSpec = StoreSpec()) -> Path:
    """Write the store at ``path`` (see the module docstring) and return the path."""
    store = Store(path)
    try:
        run_id = store.begin_run(
            suite="tiny",
            suite_hash=SUITE_HASH,
            profile="default",
            command="bench run tiny.toml",
            provenance=PROVENANCE,
        )
        records = list(_records(spec))
        stages = [f"{b}/pretrain:natural" for b in BACKBONES]
        store.record_plan(
            suite_hash=SUITE_HASH,
            profile="default",
            rows=[PlanRow(job=f"stage-{i}", kind="stage", label=s) for i, s in enumerate(stages)]
            + [PlanRow.of_fold(r, label=r.job) for r in records],
        )
        for i, label in enumerate(stages):
            store.record_stage(
                job=f"stage-{i}",
                label=label,
                run_id=run_id,
                started=STARTED,
                artifact="a.h5",
                history={
                    "loss": [1.2, 0.9, 0.7],
                    "val_loss": [1.3, 1.0, 0.9 + 0.2 * i],  # stage-1 keeps its epoch 2
                    "val_accuracy": STAGE_ACCURACY[i],
                    "val_chance": [0.125],
                },
            )
        for record in records:
            store.record_fold(record, label=record.job, run_id=run_id, started=STARTED)
        store.end_run(run_id, status="done")
        _fix_times(store)
    finally:
        store.close()
    return path


def _records(spec: StoreSpec):
    rng = np.random.default_rng(0)
    classes = max(spec.classes, 2)
    for b, backbone in enumerate(BACKBONES):
        for o, optimizer in enumerate(OPTIMIZERS):
            for s, strategy in enumerate(STRATEGIES):
                factors = {"backbone": backbone, "optimizer": optimizer, "strategy": strategy}
                cell = "|".join(f"{k}={v}" for k, v in factors.items())
                for repeat in range(spec.repeats):
                    for fold in range(spec.folds):
                        y, proba = _predictions(rng, spec.samples, classes, signal=1.0 + s)
                        where = dict(backbone=b, optimizer=o, strategy=s, repeat=repeat, fold=fold)
                        yield FoldRecord(
                            job=f"{cell}|r{repeat}|f{fold}",
                            cell=cell,
                            factors=factors,
                            repeat=repeat,
                            fold=fold,
                            n_train=48,
                            n_val=12,
                            n_test=spec.samples,
                            threshold=0.5 if classes > 2 else 0.4 + 0.05 * s,
                            params=_params(b, o, fold) if spec.tuned else {},
                            scores={m: known_score(m, **where) for m in METRICS},
                            samples=[f"img{i:03d}" for i in range(spec.samples)],
                            y_true=y.tolist(),
                            proba=proba.tolist(),
                            history={"target": _history(rng, epochs=4 + fold % 2)},
                            val_scores={m: _validation_score(m, **where) for m in METRICS},
                            cost=known_cost(backbone=b, strategy=s, fold=fold),
                        )


def _validation_score(metric: str, **where) -> float:
    """The inner-validation score: the test score with a fold-dependent error, so the cell
    best on validation is not always the one best on test."""
    error = ((7 * where["fold"] + 3 * where["backbone"] + where["optimizer"]) % 5 - 2) / 50
    return round(known_score(metric, **where) + error, 6)


def _predictions(rng, n: int, classes: int, *, signal: float):
    y = np.arange(n) % classes
    logits = rng.normal(size=(n, classes))
    logits[np.arange(n), y] += signal
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return y, proba


def _history(rng, *, epochs: int) -> dict[str, list[float]]:
    loss = [round(1.0 * math.exp(-0.4 * e) + 0.05 * rng.random(), 4) for e in range(epochs)]
    return {"loss": loss, "val_loss": [round(v + 0.15, 4) for v in loss]}


def _params(backbone: int, optimizer: int, fold: int) -> dict:
    return {
        "learning_rate": [1e-3, 3e-4, 1e-4][(fold + backbone) % 3],
        "dropout": 0.25 * (1 + optimizer),
        "head": ["dense128", "dense256"][fold % 2],
    }


def _fix_times(store: Store) -> None:
    """Replace wall-clock times with fixed ones: 2 s per fold job, 30 s per stage job."""
    with store.transaction() as db:
        db.execute("UPDATE runs SET started = ?, ended = ?", (STARTED, STARTED + 600.0))
        db.execute("UPDATE jobs SET started = ?", (STARTED,))
        db.execute("UPDATE jobs SET duration = 2.0 + rowid % 3 WHERE kind = 'fold'")
        db.execute("UPDATE jobs SET duration = 30.0 WHERE kind = 'stage'")


def tiny_target(
    root: Path, *, baseline: str | None = "scratch", name: str = "tiny"
) -> ReportTarget:
    """A report target for a store under ``root/results/<name>``, as a suite would give."""
    return ReportTarget(
        name=name,
        store_path=root / "results" / name / "bench.sqlite",
        out_dir=root / "reports" / name,
        hint="run the test fixture first",
        suite_hash=SUITE_HASH,
        profile="default",
        description="Tiny test suite",
        factors=("backbone", "optimizer", "strategy"),
        metrics=METRICS,
        sort="auc",
        baseline=baseline,
        protocol="3-fold stratified group CV × 2 repeat(s)",
        classes=("benign", "malignant"),
        base_cells=frozenset(
            f"backbone={b}|optimizer={o}|strategy=ctl" for b in BACKBONES for o in OPTIMIZERS
        ),
    )


@pytest.fixture
def binary_store(tmp_path: Path) -> ReportTarget:
    """The default test store (binary, 2 repeats × 3 folds) and its report target."""
    target = tiny_target(tmp_path)
    build_store(target.store_path)
    return target
