"""The package surface: public names resolve, and importing stays light (no TensorFlow)."""

import subprocess
import sys

import bench.stats


def test_all_names_resolve():
    for name in bench.stats.__all__:
        assert getattr(bench.stats, name) is not None
    assert len(set(bench.stats.__all__)) == len(bench.stats.__all__)


def test_import_does_not_load_heavy_modules():
    code = (
        "import sys, bench.stats; "
        "print(sorted(m for m in ('tensorflow', 'keras', 'scipy', 'pandas', 'statsmodels', "
        "'sklearn', 'tabulate') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
