"""`bench run` with [tracking] mlflow / --mlflow: each fold logged as it is stored, read back
with MLflow while the run goes and after; a bad URI is one warning and the run finishes."""

from __future__ import annotations

import sys

import pytest

import bench
from bench.cli import main
from bench.config import load_suite
from bench.tracking import mlflow_runs
from bench.tracking.mlflow_runs import LiveLog
from tests.tracking.test_mlflow import runs

mlflow = pytest.importorskip("mlflow", reason="the mlflow extra is not installed")

SMALL = {'optimizer = ["adam", "sgd"]': 'optimizer = ["adam"]'}  # 2 cells x 3 folds


def test_each_fold_is_logged_as_it_is_stored(write_suite, tmp_path, monkeypatch, capsys):
    uri = (tmp_path / "mlruns").as_uri()
    path = write_suite(f'[tracking]\nmlflow = "{uri}"\n', replace=SMALL)
    seen = []  # (children so far, parent statuses) right after each fold was logged
    log_fold = LiveLog.__call__

    def watching(self, record):
        log_fold(self, record)
        parents, children = runs(uri)
        seen.append((len(children), {p.info.status for p in parents}))

    monkeypatch.setattr(LiveLog, "__call__", watching)
    assert main(["run", str(path), "--quiet"]) == 0
    assert "warning" not in capsys.readouterr().err
    assert [count for count, _ in seen] == [1, 2, 3, 4, 5, 6]
    assert all(statuses == {"RUNNING"} for _, statuses in seen)

    parents, children = runs(uri)
    assert len(parents) == 2 and {p.info.status for p in parents} == {"FINISHED"}
    results = bench.load(path)
    folds = results.folds().set_index("job")
    histories = results.histories()
    client = mlflow.MlflowClient(tracking_uri=uri)
    for child in children:
        job = child.data.tags["bench.job"]
        fold = folds.loc[job]
        # Params: the fold's settings; metrics: every score and cost, the curves by epoch.
        assert child.data.params["fold"] == str(fold["fold"])
        assert child.data.params["n_test"] == str(fold["n_test"])
        assert child.data.params["threshold"] == str(fold["threshold"])
        assert child.data.metrics["auc"] == pytest.approx(fold["auc"])
        # The same mapping as the export of the stored fold: every number of its row.
        exported = {
            k: v
            for k, v in fold.items()
            if k not in mlflow_runs._NOT_METRICS and mlflow_runs._number(v)
        }
        scalars = {k: v for k, v in child.data.metrics.items() if "/" not in k}
        assert scalars == pytest.approx(exported) and "params" in scalars
        mine = histories[histories["job"] == job]
        curves = {f"{s}/{m}" for s, m in zip(mine["stage"], mine["metric"], strict=True)}
        assert curves and curves <= set(child.data.metrics)
        loss = mine[(mine["stage"] == "target") & (mine["metric"] == "loss")]
        steps = client.get_metric_history(child.info.run_id, "target/loss")
        assert [m.step for m in steps] == loss["epoch"].tolist()
        assert [m.value for m in steps] == pytest.approx(loss["value"].tolist())
        parent = next(p for p in parents if p.info.run_id == child.data.tags["mlflow.parentRunId"])
        assert parent.data.tags["bench.cell"] == fold["cell"]
    parent = parents[0]
    assert parent.data.params["epochs"] == "2" and parent.data.params["backbone"] == "small_cnn"
    assert parent.data.params["strategy"] == parent.data.tags["bench.cell"].split("strategy=")[1]


def test_the_export_afterwards_adds_only_the_means(write_suite, tmp_path, capsys):
    uri = (tmp_path / "mlruns").as_uri()
    path = write_suite(replace={**SMALL, 'strategy = ["scratch", "ctl"]': 'strategy = ["scratch"]'})
    assert main(["run", str(path), "--quiet", "--mlflow", uri]) == 0
    (parent,), children = runs(uri)
    assert len(children) == 3 and not parent.data.metrics
    capsys.readouterr()
    assert main(["mlflow", str(path), "--uri", uri]) == 0
    assert "added 0 cell runs and 0 fold runs" in capsys.readouterr().out
    (parent,), _ = runs(uri)
    mean = bench.load(path).folds()["auc"].mean()
    assert parent.data.metrics["auc"] == pytest.approx(mean)


def test_a_bad_uri_is_one_warning_and_the_run_finishes(write_suite, capsys):
    path = write_suite(replace={**SMALL, 'strategy = ["scratch", "ctl"]': 'strategy = ["scratch"]'})
    assert main(["run", str(path), "--quiet", "--mlflow", "nosuchscheme://nowhere"]) == 0
    captured = capsys.readouterr()
    warnings = [line for line in captured.err.splitlines() if "MLflow" in line]
    assert len(warnings) == 1 and warnings[0].startswith(
        "warning: MLflow at nosuchscheme://nowhere: "
    )
    assert "logging stopped, the run goes on" in warnings[0]
    assert "folds: 3 trained" in captured.out and len(bench.load(path).folds()) == 3


def _record(job: str):
    from bench.store.db import FoldRecord

    cell = "backbone=small_cnn|optimizer=adam|strategy=scratch"
    return FoldRecord(
        job=job,
        cell=cell,
        factors=dict(part.split("=") for part in cell.split("|")),
        repeat=0,
        fold=0,
        n_train=10,
        n_val=2,
        n_test=4,
        threshold=0.5,
        params={"learning_rate": 0.01},
        scores={"auc": 0.75},
        samples=[],
        y_true=[],
        proba=[],
        history={"target": {"loss": [0.9, 0.7]}},
        cost={"params": 1234.0},
    )


def test_a_server_lost_mid_run_warns_once(write_suite, tmp_path, monkeypatch):
    suite = load_suite(write_suite(replace=SMALL))
    uri = (tmp_path / "mlruns").as_uri()
    lines, calls = [], []
    child = mlflow_runs._child

    def flaky(*args):
        calls.append(args)
        if len(calls) > 1:
            raise ConnectionError("connection refused\nretries exhausted")
        return child(*args)

    monkeypatch.setattr(mlflow_runs, "_child", flaky)
    with LiveLog(suite, uri, warn=lines.append) as log:
        for job in ("a", "b", "c"):
            log(_record(job))
    assert len(calls) == 2  # nothing is tried after the failure
    assert lines == [
        f"warning: MLflow at {uri}: connection refused; logging stopped, the run goes on "
        "(`bench mlflow` exports the stored folds later)"
    ]
    (parent,), (logged,) = runs(uri)
    assert logged.data.tags["bench.job"] == "a"
    assert logged.data.params["tuned_learning_rate"] == "0.01"
    # As the export maps a stored fold: scores, cost and numeric tuned values as metrics.
    expected = {"auc": 0.75, "params": 1234.0, "tuned_learning_rate": 0.01, "target/loss": 0.7}
    assert logged.data.metrics == expected
    assert parent.info.status == "RUNNING"  # after the failure nothing is sent, not even the end


def test_without_mlflow_installed_the_run_is_told_once(write_suite, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "mlflow", None)  # import mlflow raises ImportError
    suite = load_suite(write_suite(replace=SMALL))
    lines = []
    with LiveLog(suite, (tmp_path / "m").as_uri(), warn=lines.append) as log:
        log(_record("a"))
    assert len(lines) == 1 and "needs MLflow: pip install 'medbench[mlflow]'" in lines[0]
