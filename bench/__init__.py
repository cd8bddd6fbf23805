"""bench: rigorous, reproducible benchmarks of transfer-learning recipes for medical images."""

__version__ = "0.1.0"
