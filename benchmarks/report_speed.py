"""How long ``bench report`` takes on a results database with 100 000 fold results.

The store is built synthetically through the Store API, with no training: 10 backbones × 4
optimizers × 5 strategies = 200 cells × 100 repeats × 5 folds = 100 000 fold results, each
with six fake scores, 24 out-of-fold predictions and an 8-epoch history, plus 30 shared stage
jobs. Then ``bench report NAME --latex --html`` runs in a fresh process (interpreter start and
imports included, as a user sees it) and the wall time is printed.

What a report of this size does (see bench/report): every table uses all 100 000 rows; the
per-fold appendix in the documents lists the first 2 000 (folds.csv has all); ROC curves,
confusion matrices and learning curves read a deterministic sample of 400 folds (2 per
cell); the fold-score and critical-difference figures show the best 40 and 20 cells.

    python benchmarks/report_speed.py                  # build in a temp dir, time, print
    python benchmarks/report_speed.py --folds 20000    # a smaller store
    python benchmarks/report_speed.py --keep /tmp/big  # keep (or reuse) the store there
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.store.db import FoldRecord, PlanRow, Store

NAME = "report-speed"
BACKBONES = [f"backbone{i}" for i in range(10)]
OPTIMIZERS = ["sgd", "adam", "adagrad", "rmsprop"]
STRATEGIES = ["scratch", "ctl-fe", "ctl", "dtl", "mstl"]
METRICS = ["accuracy", "precision", "recall", "specificity", "f1", "auc"]
FOLDS_PER_REPEAT = 5
SAMPLES = 24
EPOCHS = 8


def build(root: Path, *, folds: int) -> Path:
    """Write results/NAME/bench.sqlite under ``root`` with ``folds`` fold results."""
    path = root / "results" / NAME / "bench.sqlite"
    store = Store(path)
    store.db.execute("PRAGMA synchronous=OFF")  # building only: no fsync per fold
    try:
        run_id = store.begin_run(
            suite=NAME,
            suite_hash="synthetic",
            profile="synthetic",
            command="benchmarks/report_speed.py",
            provenance={"versions": {"bench": "synthetic"}, "hardware": {"cpu": "none"}},
        )
        records = list(_records(folds))
        store.record_plan(suite_hash="synthetic", profile="synthetic", rows=_plan(records))
        for job, label in _stages():
            store.record_stage(
                job=job,
                label=label,
                run_id=run_id,
                started=time.time(),
                artifact="none",
                history={"loss": [1.0, 0.8, 0.7], "val_loss": [1.1, 0.9, 0.85]},
            )
        for record in records:
            store.record_fold(record, label=record.job, run_id=run_id, started=time.time())
        store.end_run(run_id, status="done")
    finally:
        store.close()
    return path


def time_report(root: Path) -> float:
    """Seconds of ``bench report NAME --latex --html`` in a fresh process under ``root``."""
    command = [sys.executable, "-m", "bench.cli", "report", NAME, "--latex", "--html"]
    command += ["--baseline", "scratch"]
    started = time.perf_counter()
    subprocess.run(command, cwd=root, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def _cells():
    for backbone in BACKBONES:
        for optimizer in OPTIMIZERS:
            for strategy in STRATEGIES:
                factors = {"backbone": backbone, "optimizer": optimizer, "strategy": strategy}
                yield "|".join(f"{k}={v}" for k, v in factors.items()), factors


def _records(total: int):
    cells = list(_cells())
    repeats = max(1, total // (len(cells) * FOLDS_PER_REPEAT))
    rng = np.random.default_rng(0)
    y = np.arange(SAMPLES) % 2
    history = {
        "target": {
            "loss": list(np.linspace(1.0, 0.3, EPOCHS)),
            "val_loss": list(np.linspace(1.1, 0.5, EPOCHS)),
        }
    }
    for index, (cell, factors) in enumerate(cells):
        skill = 0.6 + 0.05 * STRATEGIES.index(factors["strategy"]) + 0.002 * (index % 7)
        for repeat in range(repeats):
            for fold in range(FOLDS_PER_REPEAT):
                p1 = np.clip(0.5 + (y - 0.5) * skill * rng.random(SAMPLES), 0.01, 0.99)
                yield FoldRecord(
                    job=f"{cell}|r{repeat}|f{fold}",
                    cell=cell,
                    factors=factors,
                    repeat=repeat,
                    fold=fold,
                    n_train=96,
                    n_val=24,
                    n_test=SAMPLES,
                    threshold=0.5,
                    params={},
                    scores={m: float(np.clip(skill + rng.normal(0, 0.05), 0, 1)) for m in METRICS},
                    samples=[f"s{i}" for i in range(SAMPLES)],
                    y_true=y.tolist(),
                    proba=np.column_stack([1 - p1, p1]).tolist(),
                    history=history,
                )


def _plan(records: list[FoldRecord]) -> list[PlanRow]:
    stages = [PlanRow(job=job, kind="stage", label=label) for job, label in _stages()]
    return stages + [PlanRow.of_fold(r, label=r.job) for r in records]


def _stages():
    for backbone in BACKBONES:
        for stage in ("pretrain:natural", "intermediate:cells", "pool:ultrasound-pool"):
            yield f"{backbone}/{stage}", f"{backbone}/{stage}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=100_000, help="fold results to store")
    parser.add_argument("--keep", type=Path, help="directory to build in (reused if built)")
    args = parser.parse_args()
    root = args.keep or Path(tempfile.mkdtemp(prefix="report-speed-"))
    if not (root / "results" / NAME / "bench.sqlite").is_file():
        started = time.perf_counter()
        build(root, folds=args.folds)
        print(f"built {args.folds} fold results in {time.perf_counter() - started:.0f} s")
    seconds = time_report(root)
    print(f"bench report on {args.folds} fold results: {seconds:.1f} s (under {root})")


if __name__ == "__main__":
    main()
