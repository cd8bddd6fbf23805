"""TensorFlow's start-up lines kept off the terminal unless ``--debug``.

Importing TensorFlow writes native log lines (absl's "All log messages before
absl::InitializeLog() is called ...", oneDNN's "custom operations are on ...") straight to
file descriptor 2: past ``sys.stderr``, and before ``TF_CPP_MIN_LOG_LEVEL`` is read.
:func:`quiet_tensorflow` makes the first import of TensorFlow in this process run with
descriptor 2 pointed at a temporary file, then writes back every other line the import
printed. ``BENCH_DEBUG=1`` (set by ``--debug``, inherited by worker processes) leaves the
import and TensorFlow's own logging alone.
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import logging
import os
import re
import sys
import tempfile
from contextlib import contextmanager

# Native log lines: absl/glog "I0000 00:00:1796118097.889227   11844 port.cc:153] ..." and the
# notice absl prints before them.
NATIVE_LOG = re.compile(
    r"^(WARNING: All log messages before absl::InitializeLog\(\) is called"
    r"|[IWEF]\d{4} [\d:.]+\s+\d+ \S+:\d+\] )"
)


def debugging() -> bool:
    return bool(os.environ.get("BENCH_DEBUG"))


def quiet_tensorflow() -> None:
    """Keep TensorFlow quiet in this process (idempotent; call before it is imported)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "1" if debugging() else "3")
    if debugging():
        return
    logging.getLogger("tensorflow").setLevel(logging.ERROR)  # retracing and deprecation notes
    if "tensorflow" not in sys.modules and not any(
        isinstance(finder, _QuietFinder) for finder in sys.meta_path
    ):
        sys.meta_path.insert(0, _QuietFinder())


def drop_native_log(text: str) -> str:
    """``text`` without its native TensorFlow log lines."""
    return "".join(line for line in text.splitlines(keepends=True) if not NATIVE_LOG.match(line))


class _QuietFinder(importlib.abc.MetaPathFinder):
    """Finds nothing itself: wraps the loader of the first ``tensorflow`` import, then leaves."""

    def find_spec(self, name, path=None, target=None):
        if name != "tensorflow":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.loader is not None:
            spec.loader = _QuietLoader(spec.loader)
        return spec


class _QuietLoader(importlib.abc.Loader):
    def __init__(self, loader):
        self.loader = loader

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module) -> None:
        module.__loader__ = module.__spec__.loader = self.loader  # the module never sees us
        with native_stderr_filtered():
            self.loader.exec_module(module)
        logging.getLogger("tensorflow").setLevel(logging.ERROR)


@contextmanager
def native_stderr_filtered():
    """Run the block with descriptor 2 captured; replay what it wrote, native log dropped."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            sys.stderr.write(drop_native_log(captured.read().decode(errors="replace")))
            sys.stderr.flush()
