"""What sharing saves: the ultrasound suite with stage and compiled-graph reuse (the
default) vs ``bench run --no-reuse``, which trains every fold's own copy of its pretraining
stages (same seeds, so the same results) and builds a fresh model for every fit.

    python benchmarks/reuse.py                                  # suites/ultrasound.toml as shipped
    python benchmarks/reuse.py --folds 3 --optimizer adam       # a reduced copy of it

Both runs are ``bench run`` in a fresh process with its own empty results folder and stage
cache, one after the other in this invocation; the ratio is only meaningful on an otherwise
idle machine, so the load average is printed with each figure.
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suite", type=Path, default=ROOT / "suites" / "ultrasound.toml")
    parser.add_argument("--folds", type=int, help="reduce [protocol] folds")
    parser.add_argument("--optimizer", action="append", help="reduce [grid] optimizer")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-reuse-") as folder:
        root = Path(folder)

        def copy(name: str) -> Path:
            return suite_copy(args.suite, root / name, folds=args.folds, optimizers=args.optimizer)

        shared = timed_run(copy("reuse"))
        private = timed_run(copy("no-reuse"), "--no-reuse")
    print(f"reuse on vs off: {private / shared:.2f}× faster ({shared:.0f} s vs {private:.0f} s)")


if __name__ == "__main__":
    main()
