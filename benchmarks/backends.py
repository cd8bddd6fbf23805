"""Wall time of a whole suite on Keras's TensorFlow and torch backends, in one invocation.

    python benchmarks/backends.py                               # suites/ultrasound.toml as shipped
    python benchmarks/backends.py --folds 3 --optimizer adam    # a reduced copy of it
    python benchmarks/backends.py --regress                     # the regression gate on each

``--regress`` runs ``bench regress suites/regression.toml --backend B`` against the committed
(TensorFlow) baseline for each backend instead: wall and CPU time (of the process and its
workers) and the gate's report, whose metric rows say whether the other backend's fold
scores stay within the gate's margins.

Needs torch next to TensorFlow (``pip install torch==2.13.0``). Each run is ``bench run`` in
a fresh process (imports included) with its own empty results folder; the load average is
printed with each figure, since ratios mean little on a busy machine.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parent))
from suite_runs import ROOT, suite_copy, timed_run

BACKENDS = ("tensorflow", "torch")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suite", type=Path, default=ROOT / "suites" / "ultrasound.toml")
    parser.add_argument("--folds", type=int, help="reduce [protocol] folds")
    parser.add_argument("--optimizer", action="append", help="reduce [grid] optimizer")
    parser.add_argument("--backend", action="append", choices=BACKENDS, help="default: both")
    parser.add_argument("--regress", action="store_true", help="the regression gate on each")
    args = parser.parse_args()
    if args.regress:
        return regress(args.backend or BACKENDS)
    seconds = {}
    with tempfile.TemporaryDirectory(prefix="bench-backends-") as folder:
        for backend in args.backend or BACKENDS:
            suite = suite_copy(
                args.suite, Path(folder) / backend, folds=args.folds, optimizers=args.optimizer
            )
            print(f"KERAS_BACKEND={backend}", end=": ", flush=True)
            seconds[backend] = timed_run(suite, env={"KERAS_BACKEND": backend})
    for backend, wall in seconds.items():
        print(f"{args.suite.name} on {backend}: {wall:.0f} s ({wall / 60:.1f} min)")


def regress(backends) -> None:
    suite = ROOT / "suites" / "regression.toml"
    baseline = ROOT / "results" / "baselines" / "regression.json"
    times = {}
    for backend in backends:
        load = os.getloadavg()[0]
        cpu = _children_cpu()
        started = time.perf_counter()
        command = [sys.executable, "-m", "bench.cli", "regress", str(suite), "--quiet"]
        done = subprocess.run(
            [*command, "--baseline", str(baseline), "--backend", backend],
            capture_output=True,
            text=True,
            env={**os.environ, "CI": "1"},
        )
        times[backend] = (time.perf_counter() - started, _children_cpu() - cpu)
        print(f"--- bench regress --backend {backend}: exit {done.returncode}")
        print(done.stdout.rstrip() or done.stderr[-2000:])
        wall, cpu = times[backend]
        print(f"{wall:.0f} s wall, {cpu:.0f} s CPU (load {load:.1f} → {os.getloadavg()[0]:.1f})")
    if len(times) == 2:
        (a, (wall_a, cpu_a)), (b, (wall_b, cpu_b)) = times.items()
        print(f"{b} / {a}: wall {wall_b / wall_a:.2f}, CPU {cpu_b / cpu_a:.2f}")


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


if __name__ == "__main__":
    main()
