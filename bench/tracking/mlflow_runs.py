"""``bench mlflow``: the stored results of a suite as MLflow runs, exported idempotently.

One experiment per suite (named after it). One parent run per cell: its factor levels and
settings as params, the mean of each metric and cost over its folds as metrics, the report
(``report.html`` with the figures inline, ``report.md``, ``figures/*.png``) as artifacts.
One child run per fold result: repeat, fold, sizes, threshold and tuned values as params;
every metric and cost measure as metrics; the per-epoch history of each stage as metric
steps (``<stage>/<metric>``); the fold's job hash as the tag ``bench.job``.

Runs are found again by their tags (``bench.suite_hash``, ``bench.profile``, ``bench.cell``,
``bench.job``), so exporting twice adds nothing, and exporting after new folds were stored
adds exactly their runs (and refreshes the means and the report of their cells only).
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bench.api import Results, load, report
from bench.errors import BenchError

if TYPE_CHECKING:
    import pandas as pd
    from mlflow import MlflowClient

SUITE_HASH, PROFILE, CELL, JOB = "bench.suite_hash", "bench.profile", "bench.cell", "bench.job"
PARENT = "mlflow.parentRunId"
_BATCH = 1000  # MLflow takes at most 1000 metrics per log_batch call
_FOLD_PARAMS = ("repeat", "fold", "n_train", "n_test", "threshold")
_NOT_METRICS = {"job", "cell", *_FOLD_PARAMS}


@dataclass(frozen=True)
class ExportSummary:
    """What one export added, and what the tracking server holds for these results."""

    experiment: str
    parents_added: int
    children_added: int
    parents: int
    children: int

    def lines(self) -> list[str]:
        return [
            f"experiment {self.experiment!r}: added {self.parents_added} cell runs and "
            f"{self.children_added} fold runs; it holds {self.parents} cell runs with "
            f"{self.children} fold runs of these results"
        ]


def export_suite(suite: str, *, uri: str, profile: str | None = None) -> ExportSummary:
    """Export the stored results of ``suite`` (a file or results name) to MLflow at ``uri``."""
    results = load(suite, profile=profile)
    client = _client(uri)
    from mlflow.exceptions import MlflowException

    try:
        return _export(client, results, suite=suite, uri=uri, profile=profile)
    except MlflowException as exc:
        raise BenchError(f"MLflow at {uri}: {str(exc).splitlines()[0]}") from None


def _export(
    client: MlflowClient, results: Results, *, suite: str, uri: str, profile: str | None
) -> ExportSummary:
    experiment = _experiment(client, results.target.name, uri)
    key = {SUITE_HASH: results.inputs.suite_hash, PROFILE: results.inputs.profile}
    parents, children = _existing(client, experiment, key)
    before = len(parents), len(children)
    folds, histories = results.folds(), results.histories()
    settings = _settings(suite, profile)
    changed = set()
    for cell, cell_folds in folds.groupby("cell", sort=False):
        if cell not in parents:
            parents[cell] = _parent(client, experiment, key, cell, settings.get(cell, {}))
        for fold in cell_folds.to_dict("records"):
            if fold["job"] not in children:
                run = _child(client, experiment, key, parents[cell], fold, histories)
                children[fold["job"]] = run
                changed.add(cell)
    if changed:
        _refresh_parents(client, results, {cell: parents[cell] for cell in changed}, suite, profile)
    return ExportSummary(
        experiment=results.target.name,
        parents_added=len(parents) - before[0],
        children_added=len(children) - before[1],
        parents=len(parents),
        children=len(children),
    )


def _client(uri: str) -> MlflowClient:
    try:
        from mlflow import MlflowClient
    except ImportError:
        raise BenchError(
            "bench mlflow needs MLflow: pip install 'medbench[mlflow]' (or pip install mlflow)"
        ) from None
    if uri.startswith("file:"):
        # MLflow 3 keeps its file store only on request; a file: URI is that request.
        os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
    return MlflowClient(tracking_uri=uri)


def _experiment(client: MlflowClient, name: str, uri: str) -> str:
    """The id of the suite's experiment, created on first export."""
    found = client.get_experiment_by_name(name)
    if found is not None:
        return found.experiment_id
    return client.create_experiment(name, artifact_location=_artifact_location(uri))


def _artifact_location(uri: str) -> str | None:
    """Beside a SQLite database, ``mlartifacts/`` (MLflow's default is the working
    directory); the tracking server's own choice otherwise."""
    if uri.startswith("sqlite:///"):
        return (Path(uri.removeprefix("sqlite:///")).resolve().parent / "mlartifacts").as_uri()
    return None


def _existing(client: MlflowClient, experiment: str, key: dict) -> tuple[dict, dict]:
    """Runs already exported for these results: parents by cell, children by job."""
    query = " and ".join(f"tags.`{k}` = '{v}'" for k, v in key.items())
    parents, children, token = {}, {}, None
    while True:
        page = client.search_runs([experiment], query, max_results=1000, page_token=token)
        for run in page:
            tags = run.data.tags
            if JOB in tags:
                children[tags[JOB]] = run.info.run_id
            elif CELL in tags:
                parents[tags[CELL]] = run.info.run_id
        token = page.token
        if not token:
            return parents, children


def _parent(client: MlflowClient, experiment: str, key: dict, cell: str, settings: dict) -> str:
    from mlflow.entities import Param

    levels = dict(part.split("=", 1) for part in cell.split("|") if "=" in part)
    run = client.create_run(experiment, tags={**key, CELL: cell}, run_name=cell)
    params = [Param(k, str(v)) for k, v in {**levels, **settings}.items()]
    client.log_batch(run.info.run_id, params=params)
    client.set_terminated(run.info.run_id)
    return run.info.run_id


def _child(
    client: MlflowClient,
    experiment: str,
    key: dict,
    parent: str,
    fold: dict,
    histories: pd.DataFrame,
) -> str:
    from mlflow.entities import Metric, Param

    tags = {**key, CELL: fold["cell"], JOB: fold["job"], PARENT: parent}
    name = f"{fold['cell']} r{fold['repeat']} f{fold['fold']}"
    run = client.create_run(experiment, tags=tags, run_name=name).info.run_id
    now = int(time.time() * 1000)
    scalar = {k: v for k, v in fold.items() if k not in _NOT_METRICS and _number(v)}
    params = [Param(k, str(fold[k])) for k in _FOLD_PARAMS]
    params += [Param(k, str(v)) for k, v in fold.items() if k.startswith("tuned_") and _set(v)]
    metrics = [Metric(k, float(v), now, 0) for k, v in scalar.items()]
    mine = histories[histories["job"] == fold["job"]]
    metrics += [
        Metric(f"{r.stage}/{r.metric}", float(r.value), now, int(r.epoch))
        for r in mine.itertuples()
        if math.isfinite(r.value)
    ]
    client.log_batch(run, params=params)
    for start in range(0, len(metrics), _BATCH):
        client.log_batch(run, metrics=metrics[start : start + _BATCH])
    client.set_terminated(run)
    return run


def _refresh_parents(
    client: MlflowClient, results: Results, parents: dict, suite: str, profile: str | None
) -> None:
    """Log the current means of the cells whose folds changed, and the report, to them."""
    from mlflow.entities import Metric

    cells = results.cells().set_index("cell")
    folds = results.folds()
    files = report(suite, profile=profile, html=True)
    now = int(time.time() * 1000)
    for cell, run in parents.items():
        means = folds[folds["cell"] == cell].drop(columns=list(_NOT_METRICS), errors="ignore")
        means = means.select_dtypes("number").mean()
        n = int(cells.at[cell, "n"])
        metrics = [Metric(k, float(v), now, n) for k, v in means.items() if math.isfinite(v)]
        client.log_batch(run, metrics=metrics)
        for path in files:
            if path.suffix in (".html", ".md") or (path.suffix == ".png"):
                where = "report/figures" if path.parent.name == "figures" else "report"
                client.log_artifact(run, str(path), artifact_path=where)


def _settings(suite: str, profile: str | None) -> dict[str, dict]:
    """Per cell, the settings a suite file gives it (none for a results name)."""
    if not str(suite).endswith(".toml"):
        return {}
    from bench.config import load_suite

    loaded = load_suite(suite, profile=profile)
    shared = {
        "image_size": loaded.image_size,
        "folds": loaded.protocol.folds,
        "repeats": loaded.protocol.repeats,
        "epochs": loaded.train.epochs,
        "batch_size": loaded.train.batch_size,
        "learning_rate": loaded.train.learning_rate,
    }
    return {
        cell.id: {
            **shared,
            **{f"backbone.{k}": v for k, v in cell.backbone_options},
            **{f"optimizer.{k}": v for k, v in cell.optimizer_options},
            "strategy.init": cell.strategy.init,
            "strategy.stages": " > ".join(stage.name for stage in cell.strategy.stages),
        }
        for cell in loaded.cells
    }


def _number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _set(value) -> bool:
    return not (isinstance(value, float) and math.isnan(value))
