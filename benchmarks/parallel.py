"""Parallel execution on this machine: ``--jobs 2`` vs ``--jobs 1``, a two-worker Dask
cluster vs serial, and a worker process's resident memory over 100 small fits.

    python benchmarks/parallel.py                               # suites/ultrasound.toml as shipped
    python benchmarks/parallel.py --folds 3 --optimizer adam    # a reduced copy of it
    python benchmarks/parallel.py --skip-timing                 # only the memory figure

Every timed run is ``bench run`` in a subprocess with a fresh results folder, so nothing is
reused between runs and each wall time includes starting Python and importing TensorFlow.
The Dask cluster (two worker processes, one thread each) is started before its run is timed,
as a cluster would already be running. Ratios are only meaningful on an otherwise idle
machine, so the load average is printed with each figure.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parent))
from suite_runs import ROOT, suite_copy, timed_run

MEMORY_SUITE = """
[suite]
name = "memory"
target = "ultrasound"
seed = 3
image_size = 32
results = "{root}/results"

[datasets.ultrasound]
source = "synthetic:ultrasound"
classes = ["benign", "malignant"]
samples_per_class = 40
images_per_patient = 2

[grid]
backbone = ["small_cnn"]
optimizer = ["sgd", "adam", "adagrad", "rmsprop"]
strategy = ["scratch"]

[train]
epochs = 3
batch_size = 16

[protocol]
folds = 5
repeats = 5
"""


def main() -> None:
    args = _parser().parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-parallel-") as folder:
        root = Path(folder)
        if not args.skip_timing:
            _timings(args.suite, root, folds=args.folds, optimizers=args.optimizer)
        _memory(root)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suite", type=Path, default=ROOT / "suites" / "ultrasound.toml")
    parser.add_argument("--folds", type=int, help="reduce [protocol] folds")
    parser.add_argument("--optimizer", action="append", help="reduce [grid] optimizer")
    parser.add_argument("--skip-timing", action="store_true", help="only the memory figure")
    return parser


def _timings(source: Path, root: Path, *, folds, optimizers) -> None:
    from distributed import LocalCluster

    def copy(name: str) -> Path:
        return suite_copy(source, root / name, folds=folds, optimizers=optimizers)

    serial = timed_run(copy("serial"), "--jobs", "1")
    local = timed_run(copy("local"), "--jobs", "2")
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        dask = timed_run(
            copy("dask"), "--executor", "dask", "--scheduler", cluster.scheduler_address
        )
    print(f"--jobs 2 vs --jobs 1: {serial / local:.2f}× faster ({local:.0f} s vs {serial:.0f} s)")
    print(f"Dask, 2 local workers, vs serial: {serial / dask:.2f}× faster ({dask:.0f} s)")


def _memory(root: Path) -> None:
    """Resident memory of one worker process after its 10th and its 100th fit."""
    import sqlite3

    from bench.config import load_suite
    from bench.engine.coordinator import RunOptions, run_suite
    from bench.engine.executors import ExecutorSpec

    path = root / "memory.toml"
    path.write_text(MEMORY_SUITE.format(root=root))
    suite = load_suite(path)
    one_worker = ExecutorSpec(kind="local", jobs=1, max_jobs_per_worker=1000)
    run_suite(suite, options=RunOptions(progress=False, executor=one_worker))
    db = sqlite3.connect(suite.store_path)
    rows = db.execute(
        "SELECT json_extract(info, '$.pid'), json_extract(info, '$.rss_mib') FROM jobs "
        "WHERE kind = 'fold' ORDER BY started"
    ).fetchall()
    assert len(rows) == 100 and len({pid for pid, _ in rows}) == 1, "not one worker process"
    first, tenth, last = rows[0][1], rows[9][1], rows[99][1]
    print(
        f"worker resident memory: {first:.0f} MiB after 1 fit, {tenth:.0f} MiB after 10, "
        f"{last:.0f} MiB after 100 (+{last - tenth:.0f} MiB, {last / tenth:.2f}×)"
    )


if __name__ == "__main__":
    main()
