"""``bench export``: retrain one cell's model the way the benchmark trained it, and save it.

Two modes:

- ``fold=(repeat, fold)`` retrains that fold job of the plan: same hash, same seeds, so the
  same weights as the run. The export checks this by predicting the fold's test images with
  the saved model and comparing with the stored out-of-fold predictions.
- otherwise the cell is *refit* on all labelled target data with its protocol: its
  strategy's stages and hyperparameters, and a patient-grouped, stratified inner validation
  split (``protocol.validation``) for early stopping and the decision threshold. This is
  the model to use; its expected performance is the cell's cross-validated metrics, which
  the metadata carries.
"""

from __future__ import annotations

import json
import platform
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from bench.config.axes import cell_suite
from bench.config.spec import Cell, Suite
from bench.data.sources import load_dataset
from bench.data.splits import Fold, holdout
from bench.engine.identity import versions
from bench.engine.plan import FoldJob, Plan, make_plan
from bench.errors import BenchError, StatsError
from bench.hashing import content_hash, derive_seed
from bench.metrics import LOWER_IS_BETTER
from bench.serve.bundle import Metadata, load_bundle, write_bundle
from bench.serve.choose import best_cell, cv_summary, match_cell
from bench.store.db import Store
from bench.store.scores import load_scores, with_validation_scores

REPRODUCED = 1e-5  # largest |Δp| still counted as reproducing the stored predictions


@dataclass(frozen=True)
class ExportRequest:
    cell: str | None = None  # a cell id, or key=value pairs that single one out
    best: str | None = None  # or: the metric whose best mean over folds picks the cell
    fold: tuple[int, int] | None = None  # (repeat, fold): retrain that fold job, not a refit
    out: Path | None = None  # default: results/<suite>/exports/<cell>[-r<R>f<F>]/


@dataclass(frozen=True)
class ExportResult:
    directory: Path
    metadata: Metadata
    reproduced: float | None  # fold exports: max |Δp| against the stored predictions
    selection: str | None = None  # --best: naive and nested estimates of the winner, in words

    def lines(self) -> list[str]:
        meta = self.metadata
        where = meta.trained_on
        what = (
            f"fold r{where['repeat']} f{where['fold']}"
            if where["data"] == "fold"
            else f"all {where['n_fit'] + where['n_val']} labelled images"
        )
        metrics = ", ".join(
            f"{m} {v['mean']:.3f}" + (f" ± {v['sd']:.3f}" if v["sd"] is not None else "")
            for m, v in meta.cv_metrics.items()
        )
        lines = [
            f"exported {meta.cell} (trained on {what}) to {self.directory}",
            f"cross-validated ({_n_folds(meta)} folds): {metrics}",
        ]
        if self.selection is not None:
            lines.append(f"chosen as best: {self.selection}")
        if where["data"] == "fold":
            lines.append(_reproduction_line(self.reproduced))
        lines.append(
            f"use it: bench predict {self.directory} IMAGE... | bench serve {self.directory}"
        )
        return lines


def export_model(
    suite: Suite, *, request: ExportRequest, log: Callable[[str], None] | None = None
) -> ExportResult:
    """Choose the cell, retrain it, save ``model.keras`` and ``metadata.json``; ``log``
    hears which cell is retrained before the (possibly long) training starts."""
    if request.fold:
        _check_fold(suite, request.fold)
    scores = _stored_scores(suite)
    cell = _choose(suite, scores, request)
    plan = make_plan(suite)
    job = _fold_job(plan, cell, request.fold) if request.fold else refit_job(plan, cell)
    if log:
        what = f"fold r{job.repeat} f{job.fold.fold}" if request.fold else "all labelled data"
        log(f"retraining {cell.id} on {what}")
    expected, selection = _selection(scores, request.best) if request.best else (None, None)
    trained = _train(plan, job)
    directory = request.out or default_out(suite, cell, fold=request.fold)
    seen = cell_suite(suite, cell)  # the cell's image size when the grid sweeps it
    metadata = _metadata(seen, cell, job, trained, scores, fold=request.fold is not None)
    metadata = replace(metadata, expected_performance=expected)
    write_bundle(directory, model=trained.model, metadata=metadata)
    reproduced = _reproduction(seen, job, directory) if request.fold else None
    return ExportResult(
        directory=directory, metadata=metadata, reproduced=reproduced, selection=selection
    )


def _selection(scores, metric: str) -> tuple[dict | None, str]:
    """The nested estimate of choosing the best cell on ``metric`` (metadata, line)."""
    from bench.stats.selection import nested_estimate

    try:
        estimate = nested_estimate(
            scores, metric=metric, higher_is_better=metric not in LOWER_IS_BETTER
        )
    except StatsError as error:
        return None, f"no selection-aware estimate: {error}"
    expected = {
        "metric": metric,
        "nested": estimate.nested,
        "ci": [estimate.ci_low, estimate.ci_high],
        "naive": estimate.naive,
        "optimism": estimate.optimism,
        "folds": estimate.folds,
        "procedure": "per outer fold, the cell best on inner validation, scored on the "
        "outer test fold (nested cross-validation of the selection)",
    }
    return expected, estimate.line()


def refit_job(plan: Plan, cell: Cell) -> FoldJob:
    """The cell's fold job with all labelled data as training set and no test part."""
    suite = plan.suite
    template = next(job for job in plan.fold_jobs if job.cell.id == cell.id)
    target = load_dataset(suite.datasets[suite.target], image_size=suite.image_size)
    seed = derive_seed(suite.seed, cell.id, "refit")
    fit, val = holdout(target.labels, target.groups, fraction=suite.protocol.validation, seed=seed)
    fold = Fold(repeat=-1, fold=-1, train=fit, val=val, test=np.array([], dtype=np.int64))
    identity = [template.hash, "refit", target.ids[fit].tolist(), target.ids[val].tolist()]
    return replace(template, hash=content_hash(identity), repeat=-1, fold=fold, seed=seed)


def default_out(suite: Suite, cell: Cell, *, fold: tuple[int, int] | None) -> Path:
    """``results/<suite>/exports/<factor values>[-r<R>f<F>]``."""
    name = "-".join(value for _, value in cell.factors)
    if fold:
        name += f"-r{fold[0]}f{fold[1]}"
    return suite.results_dir / suite.name / "exports" / re.sub(r"[^\w.-]", "_", name)


def _stored_scores(suite: Suite):
    if not suite.store_path.is_file():
        raise BenchError(
            f"{suite.store_path}: no results yet; run `bench run {suite.path}` first, "
            "export picks and describes a cell by its cross-validated scores"
        )
    store = Store(suite.store_path)
    try:
        scores = load_scores(store, suite_hash=suite.hash, profile=suite.profile)
        return with_validation_scores(store, scores, suite_hash=suite.hash, profile=suite.profile)
    finally:
        store.close()


def _choose(suite: Suite, scores, request: ExportRequest) -> Cell:
    if (request.cell is None) == (request.best is None):
        raise BenchError("give exactly one of --cell ID and --best METRIC")
    if request.best:
        return best_cell(suite.cells, scores, metric=request.best)
    cell = match_cell(suite.cells, request.cell)
    if cell.id not in set(scores["cell"]):
        raise BenchError(
            f"cell {cell.id} has no finished folds in {suite.store_path}; "
            f"run `bench run {suite.path}` first"
        )
    return cell


def _fold_job(plan: Plan, cell: Cell, fold: tuple[int, int]) -> FoldJob:
    jobs = [job for job in plan.fold_jobs if job.cell.id == cell.id]
    return next(job for job in jobs if (job.repeat, job.fold.fold) == fold)


def _check_fold(suite: Suite, fold: tuple[int, int]) -> None:
    protocol = suite.protocol
    if fold[0] >= protocol.repeats or fold[1] >= protocol.folds:
        raise BenchError(
            f"--fold {fold[0]}:{fold[1]}: no such fold; repeats run 0..{protocol.repeats - 1} "
            f"and folds 0..{protocol.folds - 1}"
        )


def _train(plan: Plan, job: FoldJob):
    """Train ``job`` in a fresh worker, training missing shared stages first (same hashes,
    same seeds: the weights the run cached)."""
    from bench.engine.jobs import Worker, train_fold
    from bench.train.fit import ModelPool
    from bench.train.seeding import seed_process

    suite = plan.suite
    seed_process(suite.seed, deterministic=suite.protocol.deterministic)
    worker = Worker(suite=suite, pool=ModelPool(), artifacts=suite.artifacts_dir)
    _ensure_stage(plan, job.parent, worker)
    return train_fold(job, worker)


def _ensure_stage(plan: Plan, job_hash: str | None, worker) -> None:
    from bench.engine.artifacts import load_weights
    from bench.engine.jobs import run_stage_job

    if job_hash is None:
        return
    try:
        load_weights(worker.artifacts, job_hash)
    except FileNotFoundError:
        stage = next(job for job in plan.stage_jobs if job.hash == job_hash)
        _ensure_stage(plan, stage.parent, worker)
        run_stage_job(stage, worker)


def _metadata(suite: Suite, cell: Cell, job: FoldJob, trained, scores, *, fold: bool):
    target = load_dataset(suite.datasets[suite.target], image_size=suite.image_size)
    binary = len(target.class_names) == 2
    trained_on = {
        "data": "fold" if fold else "all",
        "job": job.hash,
        "seed": job.seed,
        "n_fit": len(job.fold.train),
        "n_val": len(job.fold.val),
        "params": trained.params,  # hyperparameters chosen by [tuning] on the inner split
    }
    if fold:
        trained_on |= {"repeat": job.repeat, "fold": job.fold.fold}
    return Metadata(
        classes=tuple(target.class_names),
        image_size=suite.image_size,
        preprocessing=trained.preprocessing,
        threshold=float(trained.threshold) if binary else None,
        backbone=cell.backbone,
        cell=cell.id,
        factors=dict(cell.factors),
        suite=suite.name,
        suite_hash=suite.hash,
        profile=suite.profile,
        trained_on=trained_on,
        cv_metrics=cv_summary(scores, cell=cell.id),
        versions={
            **versions(),
            "numpy": np.__version__,
            "python": platform.python_version(),
        },
        created=datetime.now(UTC).isoformat(timespec="seconds"),
        segment=suite.datasets[suite.target].segment,
        segment_output=suite.datasets[suite.target].segment_output,
    )


def _reproduction(suite: Suite, job: FoldJob, directory: Path) -> float | None:
    """Max |Δp| between the saved model on the fold's test images and the stored
    out-of-fold predictions; None when the store has none for this job."""
    stored = stored_predictions(suite, job.hash)
    if not stored:
        return None
    target = load_dataset(suite.datasets[suite.target], image_size=suite.image_size)
    test = job.fold.test
    proba = load_bundle(directory).predict_proba(target.images[test])
    expected = np.array([stored[sample] for sample in target.ids[test]])
    return float(np.abs(proba - expected).max())


def stored_predictions(suite: Suite, job: str) -> dict[str, list[float]]:
    store = Store(suite.store_path)
    try:
        rows = store.db.execute(
            "SELECT sample, proba FROM predictions WHERE job = ?", (job,)
        ).fetchall()
    finally:
        store.close()
    return {sample: json.loads(proba) for sample, proba in rows}


def _reproduction_line(reproduced: float | None) -> str:
    if reproduced is None:
        return (
            "this fold job is not in the store (the plan changed since the run?): "
            "reproduction not checked"
        )
    if reproduced <= REPRODUCED:
        return f"reproduces the stored out-of-fold predictions (max |Δp| = {reproduced:.1e})"
    return (
        f"warning: differs from the stored out-of-fold predictions by up to {reproduced:.1e} "
        "(other library versions or hardware than the run?)"
    )


def _n_folds(meta: Metadata) -> int:
    return max((v["n"] for v in meta.cv_metrics.values()), default=0)
