#!/usr/bin/env bash
# Build the sdist and the wheel, install each into a fresh virtual environment, and check
# that `bench --version` prints the package's version:
#   scripts/check_dist.sh [PYTHON]        (PYTHON needs the `build` package)
# Both install without their dependencies: `bench --version` needs none of them, and
# installing TensorFlow twice more would take minutes (`make install` installs them all).
set -euo pipefail
python=${1:-python3}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
version=$(sed -n 's/^__version__ = "\(.*\)"/\1/p' "$root/bench/__init__.py")
"$python" -m build --outdir "$work/dist" "$root" >"$work/build.log" 2>&1 || {
    cat "$work/build.log"; exit 1; }
for artifact in "$work"/dist/*.whl "$work"/dist/*.tar.gz; do
    env="$work/venv-$(basename "$artifact")"
    "$python" -m venv "$env"
    "$env/bin/pip" install --quiet --no-deps "$artifact"
    got=$(cd "$work" && "$env/bin/bench" --version)
    if [ "$got" != "bench $version" ]; then
        echo "$(basename "$artifact"): bench --version printed '$got', expected 'bench $version'" >&2
        exit 1
    fi
    echo "$(basename "$artifact"): installs into a fresh venv; bench --version = $got"
done
