"""Wall time of a whole suite on Keras's TensorFlow and torch backends, in one invocation.

    python benchmarks/backends.py                               # suites/ultrasound.toml as shipped
    python benchmarks/backends.py --folds 3 --optimizer adam    # a reduced copy of it

Needs torch next to TensorFlow (``pip install torch==2.13.0``). Each run is ``bench run`` in
a fresh process (imports included) with its own empty results folder; the load average is
printed with each figure, since ratios mean little on a busy machine.
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

BACKENDS = ("tensorflow", "torch")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suite", type=Path, default=ROOT / "suites" / "ultrasound.toml")
    parser.add_argument("--folds", type=int, help="reduce [protocol] folds")
    parser.add_argument("--optimizer", action="append", help="reduce [grid] optimizer")
    parser.add_argument("--backend", action="append", choices=BACKENDS, help="default: both")
    args = parser.parse_args()
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


if __name__ == "__main__":
    main()
