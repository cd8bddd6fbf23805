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

:class:`LiveLog` makes the same runs while ``bench run`` stores each fold (``[tracking]
mlflow`` or ``--mlflow``): the coordinating process hands it every fold result it stores,
mapped by the same :func:`fold_row` and child-run code as the export; a later export adds
the cells' means and the report to the parent runs.
"""

from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bench.api import TUNED, Results, load, report
from bench.config.spec import Suite
from bench.errors import BenchError
from bench.store.db import FoldRecord

if TYPE_CHECKING:
    from mlflow import MlflowClient

SUITE_HASH, PROFILE, CELL, JOB = "bench.suite_hash", "bench.profile", "bench.cell", "bench.job"
PARENT = "mlflow.parentRunId"
_BATCH = 1000  # MLflow takes at most 1000 metrics per log_batch call
_FOLD_PARAMS = ("repeat", "fold", "n_train", "n_test", "threshold")
_NOT_METRICS = {"job", "cell", *_FOLD_PARAMS}
LIVE_HTTP = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2", "MLFLOW_HTTP_REQUEST_TIMEOUT": "20"}


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
    parents, children, bare = _existing(client, experiment, key)
    before = len(parents), len(children)
    folds, histories = results.folds(), results.histories()
    settings = _suite_settings(suite, profile)
    changed = bare & set(folds["cell"])  # parents logged live, before any means or report
    for cell, cell_folds in folds.groupby("cell", sort=False):
        if cell not in parents:
            parents[cell] = _parent(client, experiment, key, cell, settings.get(cell, {}))
        for fold in cell_folds.to_dict("records"):
            if fold["job"] not in children:
                mine = histories[histories["job"] == fold["job"]]
                curves = zip(mine["stage"], mine["metric"], mine["epoch"], mine["value"])
                children[fold["job"]] = _child(client, experiment, key, parents[cell], fold, curves)
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


class LiveLog:
    """Logs each fold to MLflow at ``uri`` the moment ``bench run`` stores it.

    Use it as a context manager around the run and pass it as the run's ``on_fold``: entering
    opens the suite's experiment (and finds the runs of earlier, resumed runs), each call
    logs one fold as a child run of its cell's parent run (made on the cell's first fold and
    running until the end), leaving marks the parents finished (killed when the run raised).
    A tracking server that cannot be reached, or any MLflow error, costs one warning line;
    from then on nothing is logged and the run goes on.
    """

    def __init__(self, suite: Suite, uri: str, *, warn: Callable[[str], None] | None = None):
        self.suite, self.uri = suite, uri
        self.warn = warn or (lambda line: print(line, file=sys.stderr))
        self.key = {SUITE_HASH: suite.hash, PROFILE: suite.profile}
        self.broken = False
        self.touched: set[str] = set()  # parent runs of this run's cells

    def __enter__(self) -> LiveLog:
        self._guard(self._open)
        return self

    def __exit__(self, kind, value, traceback) -> bool:
        self._guard(lambda: self._end("FINISHED" if kind is None else "KILLED"))
        return False

    def __call__(self, record: FoldRecord) -> None:
        self._guard(lambda: self._log(record))

    def _open(self) -> None:
        # Training waits while a fold is logged: give up on a lost server in seconds, not
        # the minutes of MLflow's default retries (the environment may still say otherwise).
        for name, value in LIVE_HTTP.items():
            os.environ.setdefault(name, value)
        self.client = _client(self.uri)
        self.experiment = _experiment(self.client, self.suite.name, self.uri)
        self.parents, self.children, _ = _existing(self.client, self.experiment, self.key)
        self.settings = _settings(self.suite)

    def _end(self, status: str) -> None:
        for run in self.touched:
            self.client.set_terminated(run, status)

    def _log(self, record: FoldRecord) -> None:
        if record.job in self.children:
            return
        cell = record.cell
        if cell not in self.parents:
            settings = self.settings.get(cell, {})
            self.parents[cell] = _parent(
                self.client, self.experiment, self.key, cell, settings, running=True
            )
        elif self.parents[cell] not in self.touched:
            self.client.update_run(self.parents[cell], status="RUNNING")
        self.touched.add(self.parents[cell])
        curves = [
            (stage, metric, epoch, value)
            for stage, metrics in record.history.items()
            for metric, values in metrics.items()
            for epoch, value in enumerate(values)
        ]
        self.children[record.job] = _child(
            self.client, self.experiment, self.key, self.parents[cell], fold_row(record), curves
        )

    def _guard(self, action: Callable[[], object]) -> None:
        if self.broken:
            return
        try:
            action()
        except Exception as error:  # tracking is a side channel: no failure of it stops a run
            self.broken = True
            first = (str(error).strip().splitlines() or [type(error).__name__])[0]
            self.warn(
                f"warning: MLflow at {self.uri}: {first}; logging stopped, the run goes on "
                "(`bench mlflow` exports the stored folds later)"
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


def _existing(client: MlflowClient, experiment: str, key: dict) -> tuple[dict, dict, set]:
    """Runs already made for these results: parents by cell, children by job, and the cells
    whose parent holds no metrics yet (made by a live log)."""
    query = " and ".join(f"tags.`{k}` = '{v}'" for k, v in key.items())
    parents, children, bare, token = {}, {}, set(), None
    while True:
        page = client.search_runs([experiment], query, max_results=1000, page_token=token)
        for run in page:
            tags = run.data.tags
            if JOB in tags:
                children[tags[JOB]] = run.info.run_id
            elif CELL in tags:
                parents[tags[CELL]] = run.info.run_id
                if not run.data.metrics:
                    bare.add(tags[CELL])
        token = page.token
        if not token:
            return parents, children, bare


def _parent(
    client: MlflowClient,
    experiment: str,
    key: dict,
    cell: str,
    settings: dict,
    *,
    running: bool = False,
) -> str:
    """The cell's run: its levels and settings as params (left running for a live log)."""
    from mlflow.entities import Param

    levels = dict(part.split("=", 1) for part in cell.split("|") if "=" in part)
    run = client.create_run(experiment, tags={**key, CELL: cell}, run_name=cell)
    params = [Param(k, str(v)) for k, v in {**levels, **settings}.items()]
    client.log_batch(run.info.run_id, params=params)
    if not running:
        client.set_terminated(run.info.run_id)
    return run.info.run_id


def fold_row(record: FoldRecord) -> dict:
    """A fold result as the coordinator stores it, as the row :meth:`Results.folds` reads
    back: levels, sizes, threshold, scores, tuned values and cost."""
    return {
        "job": record.job,
        "cell": record.cell,
        "repeat": record.repeat,
        "fold": record.fold,
        "threshold": record.threshold,
        **record.factors,
        "n_train": record.n_train,
        "n_test": record.n_test,
        **record.scores,
        **record.cost,
        **{f"{TUNED}{name}": value for name, value in record.params.items()},
    }


def _child(
    client: MlflowClient,
    experiment: str,
    key: dict,
    parent: str,
    fold: dict,
    curves: Iterable[tuple[str, str, int, float]],
) -> str:
    """The fold's run: ``fold`` (a :func:`fold_row`) and its ``(stage, metric, epoch,
    value)`` training curves."""
    from mlflow.entities import Metric, Param

    tags = {**key, CELL: fold["cell"], JOB: fold["job"], PARENT: parent}
    name = f"{fold['cell']} r{fold['repeat']} f{fold['fold']}"
    run = client.create_run(experiment, tags=tags, run_name=name).info.run_id
    now = int(time.time() * 1000)
    scalar = {k: v for k, v in fold.items() if k not in _NOT_METRICS and _number(v)}
    params = [Param(k, str(fold[k])) for k in _FOLD_PARAMS]
    params += [Param(k, str(v)) for k, v in fold.items() if k.startswith(TUNED) and _set(v)]
    metrics = [Metric(k, float(v), now, 0) for k, v in scalar.items()]
    metrics += [
        Metric(f"{stage}/{metric}", float(value), now, int(epoch))
        for stage, metric, epoch, value in curves
        if math.isfinite(value)
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


def _suite_settings(suite: str, profile: str | None) -> dict[str, dict]:
    """Per cell, the settings a suite file gives it (none for a results name)."""
    if not str(suite).endswith(".toml"):
        return {}
    from bench.config import load_suite

    return _settings(load_suite(suite, profile=profile))


def _settings(loaded: Suite) -> dict[str, dict]:
    """Per cell of a loaded suite, its settings as parent-run params."""
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
