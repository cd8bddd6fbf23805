"""bench: rigorous, reproducible benchmarks of transfer-learning recipes for medical images.

    import bench
    bench.run("suites/ultrasound.toml")             # train what is not stored yet
    results = bench.load("suites/ultrasound.toml")  # tidy pandas DataFrames
    bench.report("suites/ultrasound.toml", html=True)

``import bench`` stays light: the API (and with it pandas, or TensorFlow for ``run``) loads
on first use.
"""

from bench.errors import BenchError, ConfigError, DataError, StatsError

__version__ = "0.2.0"
__all__ = [
    "BenchError",
    "ConfigError",
    "DataError",
    "Results",
    "StatsError",
    "__version__",
    "load",
    "report",
    "run",
]
_API = ("Results", "load", "report", "run")


def __getattr__(name: str):  # PEP 562: the API module loads on first use
    if name in _API:
        from importlib import import_module

        return getattr(import_module("bench.api"), name)
    raise AttributeError(f"module 'bench' has no attribute {name!r}")
