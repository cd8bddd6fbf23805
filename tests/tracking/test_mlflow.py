"""bench mlflow against a local file store and a SQLite tracking URI, read back with MLflow."""

from __future__ import annotations

import pytest

from bench.cli import main
from bench.store.db import FoldRecord, PlanRow, Store
from tests.report.conftest import build_store, tiny_target

mlflow = pytest.importorskip("mlflow", reason="the mlflow extra is not installed")

CELLS, FOLDS = 8, 8 * 2 * 3


@pytest.fixture
def tiny(tmp_path, monkeypatch):
    """The binary test store as results/tiny under a fresh working directory."""
    target = tiny_target(tmp_path)
    build_store(target.store_path)
    monkeypatch.chdir(tmp_path)
    return target


@pytest.fixture(params=["file", "sqlite"])
def uri(request, tmp_path):
    if request.param == "file":
        return (tmp_path / "mlruns").as_uri()
    return f"sqlite:///{tmp_path / 'mlflow.db'}"


def runs(uri: str) -> tuple[list, list]:
    """(parent runs, child runs) of the tiny experiment."""
    client = mlflow.MlflowClient(tracking_uri=uri)
    experiment = client.get_experiment_by_name("tiny")
    everything = client.search_runs([experiment.experiment_id], max_results=1000)
    children = [r for r in everything if "mlflow.parentRunId" in r.data.tags]
    parents = [r for r in everything if "mlflow.parentRunId" not in r.data.tags]
    return parents, children


def test_export_holds_the_stored_numbers_and_is_idempotent(tiny, uri, capsys):
    assert main(["mlflow", "tiny", "--uri", uri]) == 0
    assert "added 8 cell runs and 48 fold runs" in capsys.readouterr().out
    parents, children = runs(uri)
    assert (len(parents), len(children)) == (CELLS, FOLDS)
    check_numbers(uri, parents, children)

    assert main(["mlflow", "tiny", "--uri", uri]) == 0
    assert "added 0 cell runs and 0 fold runs" in capsys.readouterr().out
    assert tuple(map(len, runs(uri))) == (CELLS, FOLDS)

    _store_one_more_fold(tiny.store_path)
    assert main(["mlflow", "tiny", "--uri", uri]) == 0
    assert "added 0 cell runs and 1 fold runs" in capsys.readouterr().out
    assert tuple(map(len, runs(uri))) == (CELLS, FOLDS + 1)


def check_numbers(uri, parents, children) -> None:
    """Fold metrics, params, history steps, parent means and artifacts, as stored."""
    import bench

    folds = bench.load("tiny").folds().set_index("job")
    client = mlflow.MlflowClient(tracking_uri=uri)
    by_id = {p.info.run_id: p for p in parents}
    for child in children:
        job = child.data.tags["bench.job"]
        fold = folds.loc[job]
        assert child.data.metrics["auc"] == pytest.approx(fold["auc"])
        assert child.data.metrics["params"] == fold["params"]
        assert child.data.params["threshold"] == str(fold["threshold"])
        parent = by_id[child.data.tags["mlflow.parentRunId"]]
        assert parent.data.tags["bench.cell"] == fold["cell"] == child.data.tags["bench.cell"]
    # Per-epoch history as metric steps.
    child = children[0]
    history = client.get_metric_history(child.info.run_id, "target/loss")
    epochs = bench.load("tiny").histories()
    mine = epochs[(epochs["job"] == child.data.tags["bench.job"]) & (epochs["metric"] == "loss")]
    assert [m.step for m in history] == mine["epoch"].tolist()
    assert [m.value for m in history] == pytest.approx(mine["value"].tolist())
    # A parent: settings as params, the mean of its folds, the report as artifacts.
    parent = parents[0]
    cell = parent.data.tags["bench.cell"]
    assert parent.data.params["strategy"] == cell.split("strategy=")[1]
    mean = folds.loc[folds["cell"] == cell, "auc"].mean()
    assert parent.data.metrics["auc"] == pytest.approx(mean)
    artifacts = {a.path for a in client.list_artifacts(parent.info.run_id, "report")}
    assert {"report/report.html", "report/report.md"} <= artifacts


def test_without_results_the_error_is_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["mlflow", "nothing", "--uri", (tmp_path / "m").as_uri()]) == 2
    err = capsys.readouterr().err
    assert err.startswith("bench: error: results/nothing/bench.sqlite") and "Traceback" not in err


def _store_one_more_fold(path) -> None:
    """A third repeat's first fold for one cell, as a resumed run would store it."""
    store = Store(path)
    try:
        cell = "backbone=small_cnn|optimizer=adam|strategy=scratch"
        factors = dict(part.split("=") for part in cell.split("|"))
        record = FoldRecord(
            job=f"{cell}|r2|f0",
            cell=cell,
            factors=factors,
            repeat=2,
            fold=0,
            n_train=48,
            n_val=12,
            n_test=2,
            threshold=0.5,
            params={},
            scores={"accuracy": 0.5, "auc": 0.6, "loss": 0.7},
            samples=["img000", "img001"],
            y_true=[0, 1],
            proba=[[0.6, 0.4], [0.3, 0.7]],
            history={"target": {"loss": [0.9, 0.8]}},
        )
        run_id = store.begin_run(
            suite="tiny",
            suite_hash="0123456789abcdef",
            profile="default",
            command="",
            provenance={},
        )
        store.record_plan(
            suite_hash="0123456789abcdef",
            profile="default",
            rows=[PlanRow.of_fold(record, label=record.job)],
        )
        store.record_fold(record, label=record.job, run_id=run_id, started=0.0)
        store.end_run(run_id, status="done")
    finally:
        store.close()
