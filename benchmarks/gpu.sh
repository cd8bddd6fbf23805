#!/usr/bin/env bash
# The accelerator benchmark on a machine without a package registry (see benchmarks/gpu.py):
# installs the wheels that ../shared/gpu/wheels.sh put in .device-wheels/ (Keras, Optuna and
# what they need) unless Keras is importable already, then runs the benchmark.
#
#   bash benchmarks/gpu.sh                    # GPU sizes, torch backend (at most 8 minutes on an H200)
#   bash benchmarks/gpu.sh --backend jax
set -euo pipefail
cd "$(dirname "$0")/.."
if ! python3 -c "import keras" 2>/dev/null; then
  python3 -m pip install -q --no-index --no-deps .device-wheels/*.whl
fi
python3 -c "import bench" 2>/dev/null || python3 -m pip install -q --no-deps --no-build-isolation -e .
exec python3 benchmarks/gpu.py "$@"
