"""Local worker processes and a Dask cluster store what the serial executor stores."""

import json
import sqlite3

import pytest

from bench.config import load_suite
from bench.engine.coordinator import RunOptions, run_suite
from bench.engine.executors import ExecutorSpec, task
from bench.engine.executors import cluster as dask_executor
from bench.engine.identity import DEFAULT_THREADS
from bench.errors import BenchError
from bench.store.db import Store
from tests.conftest import TINY_SUITE

# Workers get as many TensorFlow threads as this process has, so numbers are bit-identical:
# floating-point reductions are ordered by thread count, which changes the last digits.
THREADS = DEFAULT_THREADS  # as the serial runs of this process
LOCAL = ExecutorSpec(jobs=2, threads=THREADS)
ONE_CELL = {
    'optimizer = ["adam", "sgd"]': 'optimizer = ["adam"]',
    'strategy = ["scratch", "ctl"]': 'strategy = ["ctl"]',
}


def _suite(root, *, replace=None):
    text = TINY_SUITE.format(root=root)
    for old, new in (replace or {}).items():
        text = text.replace(old, new)
    root.mkdir(parents=True, exist_ok=True)
    (root / "tiny.toml").write_text(text)
    return load_suite(root / "tiny.toml")


SERIAL = ExecutorSpec()
ERROR = "RuntimeError: simulated out of memory"


def _run(suite, spec=SERIAL, **options):
    return run_suite(suite, options=RunOptions(progress=False, executor=spec, **options))


def _results(suite) -> dict:
    """Scores and predictions per (cell, repeat, fold)."""
    db = sqlite3.connect(suite.store_path)
    folds = db.execute("SELECT job, cell, repeat, fold FROM fold_results").fetchall()
    results = {}
    for job, *key in folds:
        scores = dict(db.execute("SELECT metric, value FROM scores WHERE job = ?", (job,)))
        proba = db.execute(
            "SELECT sample, proba FROM predictions WHERE job = ? ORDER BY sample", (job,)
        ).fetchall()
        results[tuple(key)] = (scores, proba)
    db.close()
    return results


def _last_run(suite) -> dict:
    store = Store(suite.store_path)
    run = store.latest_run()
    store.close()
    return run


@pytest.fixture(scope="module")
def serial(tmp_path_factory):
    suite = _suite(tmp_path_factory.mktemp("serial"))
    return suite, _run(suite)


@pytest.fixture(scope="module")
def cluster():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
    ) as cluster:
        yield cluster


def test_worker_processes_store_the_serial_results(serial, tmp_path):
    suite = _suite(tmp_path)
    summary = _run(suite, LOCAL)
    assert (summary.folds_trained, summary.stages_trained, summary.failed) == (12, 1, [])
    assert summary.models_built + summary.models_reused == 12 + 1
    assert _results(suite) == _results(serial[0])
    assert Store(suite.store_path).integrity_check() == "ok"
    again = _run(suite, LOCAL)
    assert (again.folds_trained, again.folds_stored, again.stages_reused) == (0, 12, 1)


def test_workers_are_replaced_after_max_jobs_and_runs_record_where_they_ran(tmp_path):
    suite = _suite(tmp_path, replace=ONE_CELL)
    _run(suite, ExecutorSpec(kind="local", jobs=1, threads=THREADS, max_jobs_per_worker=2))
    db = sqlite3.connect(suite.store_path)
    infos = [json.loads(i) for (i,) in db.execute("SELECT info FROM jobs WHERE kind = 'fold'")]
    assert len(infos) == 3 and all(i["rss_mib"] > 0 for i in infos)
    assert len({i["pid"] for i in infos}) == 2  # stage + fold, then a new process: 2 folds
    info = _last_run(suite)["provenance"]
    assert info["executor"] == {
        "name": "local",
        "jobs": 1,
        "threads_per_worker": THREADS,
        "max_jobs_per_worker": 2,
        "gpus": {},
    }
    assert {"suite_hash", "profile", "command", "git_commit", "seed", "started"} <= set(info)
    assert info["suite_hash"] == suite.hash and info["seed"] == 7
    assert {"numpy", "keras", "tensorflow", "python"} <= set(info["versions"])
    assert {"cpu", "cpus", "gpus", "memory_gib"} <= set(info["hardware"])


def test_failures_fail_fast_and_retry_through_worker_processes(tmp_path, monkeypatch):
    suite = _suite(tmp_path, replace=ONE_CELL)
    monkeypatch.setitem(task.JOB_FUNCTIONS, "fold", "tests.engine.jobs:fail_fold_1")
    first = _run(suite, LOCAL)
    assert first.folds_trained == 2
    assert first.failed == [(f"{suite.cells[0].id} r0 f1", ERROR)]
    error, tb = _failure(suite)
    assert error == ERROR and "tests/engine/jobs.py" in tb and "Traceback" in tb
    with pytest.raises(BenchError, match="--fail-fast"):
        _run(suite, LOCAL, retry_failed=True, fail_fast=True)
    assert _last_run(suite)["status"] == "failed"

    monkeypatch.setitem(task.JOB_FUNCTIONS, "fold", "bench.engine.jobs:run_fold_job")
    second = _run(suite, LOCAL)
    assert second.folds_trained == 0 and len(second.failed) == 1  # never counted as done
    third = _run(suite, LOCAL, retry_failed=True)
    assert third.folds_trained == 1 and third.failed == []


def test_a_worker_that_dies_costs_only_its_job(tmp_path, monkeypatch):
    suite = _suite(tmp_path, replace=ONE_CELL)
    monkeypatch.setitem(task.JOB_FUNCTIONS, "fold", "tests.engine.jobs:die_on_fold_1")
    summary = _run(suite, ExecutorSpec(jobs=1, kind="local", threads=THREADS))
    assert summary.folds_trained == 2
    ((_, error),) = summary.failed
    assert error.startswith("WorkerDied: the worker process running this job died")
    assert "SIGKILL" in error


def test_dask_cluster_stores_the_serial_results(serial, cluster, tmp_path):
    suite = _suite(tmp_path)
    dask = ExecutorSpec(kind="dask", scheduler=cluster.scheduler_address, threads=THREADS)
    summary = _run(suite, dask)
    assert (summary.folds_trained, summary.stages_trained, summary.failed) == (12, 1, [])
    assert _results(suite) == _results(serial[0])
    assert len(list(suite.artifacts_dir.glob("*.npz"))) == 1  # the stage came back here
    executor = _last_run(suite)["provenance"]["executor"]
    assert executor["name"] == "dask" and len(executor["workers"]) == 2


def test_failures_are_stored_and_retried_through_dask(cluster, tmp_path, monkeypatch):
    suite = _suite(tmp_path, replace=ONE_CELL)
    dask = ExecutorSpec(kind="dask", scheduler=cluster.scheduler_address)
    monkeypatch.setitem(task.JOB_FUNCTIONS, "fold", "tests.engine.jobs:fail_fold_1")
    first = _run(suite, dask)
    assert first.folds_trained == 2 and [e for _, e in first.failed] == [ERROR]
    with pytest.raises(BenchError, match="--fail-fast"):
        _run(suite, dask, retry_failed=True, fail_fast=True)
    monkeypatch.setitem(task.JOB_FUNCTIONS, "fold", "bench.engine.jobs:run_fold_job")
    retried = _run(suite, dask, retry_failed=True)
    assert retried.folds_trained == 1 and retried.failed == []


def test_executor_mistakes_get_one_line(tmp_path, monkeypatch):
    monkeypatch.setattr(dask_executor, "CONNECT_TIMEOUT", 1)
    suite = _suite(tmp_path, replace=ONE_CELL)
    with pytest.raises(BenchError, match="needs --scheduler"):
        _run(suite, ExecutorSpec(kind="dask"))
    with pytest.raises(BenchError, match="use --executor local or dask"):
        _run(suite, ExecutorSpec(kind="serial", jobs=2))
    with pytest.raises(BenchError, match="cannot reach the Dask scheduler"):
        _run(suite, ExecutorSpec(kind="dask", scheduler="tcp://127.0.0.1:9"))


def _failure(suite) -> tuple[str, str]:
    db = sqlite3.connect(suite.store_path)
    row = db.execute("SELECT error, traceback FROM jobs WHERE status = 'failed'").fetchone()
    db.close()
    return row


def test_each_worker_gets_its_own_gpu_and_extra_workers_share_them(monkeypatch):
    from bench.engine.executors import local
    from bench.engine.provenance import Gpu

    two = (Gpu(id="GPU-aaa", index="0", name="H100"), Gpu(id="GPU-bbb", index="1", name="H100"))
    monkeypatch.setattr(local, "gpus", lambda: two)
    executor = local.LocalExecutor(jobs=3, artifacts="unused", threads=1, max_jobs_per_worker=5)
    assert executor.describe()["gpus"] == {
        "worker-0": "GPU-aaa",
        "worker-1": "GPU-bbb",
        "worker-2": "GPU-aaa",
    }
    envs = [worker.env for worker in executor._slots.values()]
    assert all(env["TF_FORCE_GPU_ALLOW_GROWTH"] == "true" for env in envs)  # 3 workers, 2 GPUs
    assert all(worker.pool is None for worker in executor._slots.values())  # nothing started


def test_gpus_follow_cuda_visible_devices(monkeypatch):
    from bench.engine import provenance
    from bench.engine.provenance import Gpu

    found = (Gpu(id="GPU-aaa", index="0"), Gpu(id="GPU-bbb", index="1"))
    monkeypatch.setattr(provenance, "_nvidia_smi", lambda: found)
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    assert provenance.gpus() == found
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "1")
    assert provenance.gpus() == (found[1],)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "GPU-aaa")
    assert provenance.gpus() == (found[0],)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "-1")
    assert provenance.gpus() == ()


def test_workers_sharing_a_gpu_get_equal_memory_bounds_and_too_many_are_refused(monkeypatch):
    from bench.engine.executors import local
    from bench.engine.executors.gpus import gpu_env, workers_on
    from bench.engine.provenance import Gpu
    from bench.errors import BenchError

    h200 = (Gpu(id="GPU-aaa", index="0", name="H200", memory_mib=143771),)
    two = (*h200, Gpu(id="GPU-bbb", index="1", name="H200", memory_mib=143771))
    assert [workers_on(g, jobs=5, gpus=2) for g in (0, 1)] == [3, 2]
    alone = gpu_env(0, jobs=2, devices=two)
    assert alone == {"CUDA_VISIBLE_DEVICES": "GPU-aaa"}  # one worker per GPU: no bound
    assert "BENCH_GPU_MEMORY_FRACTION" not in gpu_env(1, jobs=3, devices=two)  # alone on bbb
    shared = [gpu_env(i, jobs=5, devices=two) for i in range(5)]
    assert [env["BENCH_GPU_MEMORY_FRACTION"] for env in shared] == ["0.3000", "0.4500"] * 2 + [
        "0.3000"
    ]
    assert all(env["XLA_PYTHON_CLIENT_PREALLOCATE"] == "false" for env in shared)
    assert shared[1]["XLA_PYTHON_CLIENT_MEM_FRACTION"] == shared[1]["BENCH_GPU_MEMORY_FRACTION"]
    monkeypatch.setattr(local, "gpus", lambda: h200)
    eight = local.LocalExecutor(jobs=8, artifacts="unused", threads=1, max_jobs_per_worker=5)
    assert set(eight.describe()["gpus"].values()) == {"GPU-aaa"}
    assert {w.env["BENCH_GPU_MEMORY_FRACTION"] for w in eight._slots.values()} == {"0.1125"}
    with pytest.raises(BenchError) as refused:
        local.LocalExecutor(jobs=200, artifacts="unused", threads=1, max_jobs_per_worker=5)
    assert str(refused.value) == (
        "--jobs 200 puts 200 workers on GPU 0 (H200, 143771 MiB): 647 MiB each, below the "
        "1024 MiB a worker needs; use --jobs 126 or fewer"
    )
