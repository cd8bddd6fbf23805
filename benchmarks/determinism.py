"""What ``[protocol] deterministic = true`` costs, and what it buys: training throughput with
and without it, and whether two runs of each give bit-identical fold scores.

A small training suite (small CNN at 64 px, 1,200 synthetic ultrasound images, augmentation,
2 folds x 4 epochs) is run ``--rounds`` times (default 2) with ``deterministic = true`` and
with ``false``, interleaved (true, false, false, true, ...) so the two kinds share the
machine's load (the order flips every round, so a load that drifts favours neither);
each run is ``bench run`` in a fresh process with its own results folder.
Throughput is images trained per second of stored fold-job time (build, fit with
validation, predict), so process start-up and planning are left out.

    python benchmarks/determinism.py                        # TensorFlow
    python benchmarks/determinism.py --backend torch
    python benchmarks/determinism.py --threads 2            # what more threads change
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

SUITE = """
[suite]
name = "determinism"
target = "ultrasound"
seed = 3
image_size = 64
results = "{results}"

[datasets.ultrasound]
source = "synthetic:ultrasound"
classes = ["benign", "malignant"]
samples_per_class = 600

[base]
weights = "none"

[grid]
backbone = ["small_cnn"]
optimizer = ["adam"]
strategy = ["scratch"]

[train]
epochs = {epochs}
batch_size = 32
patience = 1000

[augmentation]
rotation = 10
horizontal_flip = true

[protocol]
folds = 2
deterministic = {deterministic}
"""


def run(work: Path, *, deterministic: bool, epochs: int, backend: str, threads: int) -> dict:
    """Train the suite once in a fresh process: throughput and the fold scores."""
    work.mkdir(parents=True)
    suite = work / "suite.toml"
    flag = "true" if deterministic else "false"
    suite.write_text(SUITE.format(results=work / "results", epochs=epochs, deterministic=flag))
    env = {**os.environ, "BENCH_CACHE": str(work / "cache"), "TF_CPP_MIN_LOG_LEVEL": "3"}
    command = [sys.executable, "-m", "bench.cli", "run", str(suite), "--quiet"]
    command += ["--backend", backend, "--threads", str(threads)]
    subprocess.run(command, check=True, env=env, stdout=subprocess.DEVNULL)
    with sqlite3.connect(work / "results" / "determinism" / "bench.sqlite") as db:
        jobs = db.execute(
            "SELECT f.n_train - f.n_val, j.duration FROM fold_results f "
            "JOIN jobs j ON j.hash = f.job"
        ).fetchall()
        scores = db.execute(
            "SELECT f.fold, s.metric, s.value FROM scores s JOIN fold_results f ON f.job = s.job "
            "ORDER BY f.fold, s.metric"
        ).fetchall()
    trained = sum(n for n, _ in jobs) * epochs
    return {"rate": trained / sum(d for _, d in jobs), "scores": scores}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default="tensorflow", choices=["tensorflow", "torch", "jax"])
    parser.add_argument("--threads", type=int, default=1, help="--threads of bench run (1)")
    parser.add_argument("--rounds", type=int, default=2, help="runs of each kind (2)")
    parser.add_argument("--epochs", type=int, default=4)
    args = parser.parse_args()
    runs: dict[bool, list[dict]] = {True: [], False: []}
    load = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="bench-determinism-") as root:
        for i in range(args.rounds):
            for deterministic in (True, False) if i % 2 == 0 else (False, True):
                work = Path(root) / f"{deterministic}-{i}"
                result = run(
                    work,
                    deterministic=deterministic,
                    epochs=args.epochs,
                    backend=args.backend,
                    threads=args.threads,
                )
                runs[deterministic].append(result)
                print(f"deterministic = {str(deterministic).lower()}: {result['rate']:.0f} img/s")
    after = os.getloadavg()
    print(f"{args.backend}, --threads {args.threads}, load average {load[0]:.1f} → {after[0]:.1f}")
    for deterministic, results in runs.items():
        rates = [r["rate"] for r in results]
        same = all(r["scores"] == results[0]["scores"] for r in results[1:])
        print(
            f"  deterministic = {str(deterministic).lower()}: best {max(rates):.0f} img/s; "
            f"{len(results)} runs' fold scores {'bit-identical' if same else 'DIFFER'}"
        )
    best = {kind: max(r["rate"] for r in results) for kind, results in runs.items()}
    print(f"  throughput true / false = {best[True] / best[False]:.2f}")


if __name__ == "__main__":
    main()
