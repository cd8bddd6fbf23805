"""An exported model on disk: ``model.keras`` plus ``metadata.json``, and its loaded form.

The metadata says how to feed the model (classes, input size, the backbone's preprocessing
mode, the decision threshold) and where it came from (suite hash, cell, cross-validated
metrics, versions), so predicting needs neither the suite nor the results store.
"""

from __future__ import annotations

import json
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from bench.errors import BenchError

MODEL_FILE = "model.keras"
METADATA_FILE = "metadata.json"
FORMAT = 1
BATCH = 64  # images per inference call, as training predicted them


@dataclass(frozen=True)
class Metadata:
    """What a bundle's user needs to know; written as ``metadata.json``."""

    classes: tuple[str, ...]
    image_size: int
    preprocessing: str  # mode of bench.models.preprocess.preprocess
    threshold: float | None  # binary: classes[1] when p >= threshold; None for multi-class
    backbone: str
    cell: str
    factors: dict[str, str]
    suite: str
    suite_hash: str
    profile: str
    trained_on: dict  # data ("all" | "fold"), job, seed, n_fit, n_val, params, repeat, fold
    cv_metrics: dict[str, dict[str, float]]  # metric -> mean, sd, n over the cell's folds
    versions: dict[str, str | None]
    created: str
    format: int = FORMAT
    # --best: the selection-aware estimate of the exported recipe (bench.stats.selection),
    # the number to expect, rather than the winner's flattering mean over folds.
    expected_performance: dict | None = None
    # [preprocess] of the suite: the lesion segmentation new images get before resizing
    segment: str = "none"
    segment_output: str = "mask"

    @property
    def segmentation(self) -> tuple[str, str] | None:
        """(method, output) when images are segmented before resizing, else None."""
        return None if self.segment == "none" else (self.segment, self.segment_output)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str, *, path: str) -> Metadata:
        try:
            raw = json.loads(text)
            return cls(**{**raw, "classes": tuple(raw["classes"])})
        except (json.JSONDecodeError, TypeError, KeyError) as exc:
            raise BenchError(
                f"{path}: not a bench model metadata file ({type(exc).__name__}: {exc}); "
                "re-export the model with `bench export`"
            ) from None


@dataclass(frozen=True)
class Prediction:
    """One image's label and class probabilities."""

    label: str
    probabilities: dict[str, float]


@dataclass
class Bundle:
    """A loaded export; :meth:`predict_proba` is safe to call from several threads."""

    model: object  # keras.Model
    metadata: Metadata
    path: Path
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def predict_proba(self, images: np.ndarray) -> np.ndarray:
        """uint8 (N, size, size, C) images → (N, K) class probabilities, as in training.

        ``predict_on_batch`` in chunks of ``BATCH``: the same numbers as ``model.predict``
        without its per-call set-up (about 100 times faster for one image on CPU).
        """
        from bench.models.preprocess import preprocess

        x = preprocess(images, self.metadata.preprocessing)
        with self.lock:  # one inference at a time: Keras models are not re-entrant
            parts = [self.model.predict_on_batch(x[i : i + BATCH]) for i in range(0, len(x), BATCH)]
        p = np.concatenate(parts).astype(np.float64)
        return np.hstack([1.0 - p, p]) if p.shape[1] == 1 else p  # one sigmoid unit: 2 columns

    def labels(self, proba: np.ndarray) -> np.ndarray:
        """Class indices: the stored threshold for binary models, the argmax otherwise."""
        from bench.metrics import predict_labels

        threshold = self.metadata.threshold
        return predict_labels(proba, threshold=0.5 if threshold is None else threshold)

    def predict(self, images: np.ndarray) -> list[Prediction]:
        proba = self.predict_proba(images)
        classes = self.metadata.classes
        return [
            Prediction(
                label=classes[index],
                probabilities={c: float(p) for c, p in zip(classes, row, strict=True)},
            )
            for index, row in zip(self.labels(proba), proba, strict=True)
        ]


def write_bundle(directory: Path, *, model, metadata: Metadata) -> Path:
    """Save an inference-only copy of ``model`` (no optimizer state) and its metadata."""
    import keras

    directory.mkdir(parents=True, exist_ok=True)
    inference = keras.Model(model.inputs, model.outputs, name=model.name)  # shares weights
    inference.save(directory / MODEL_FILE)
    (directory / METADATA_FILE).write_text(metadata.to_json() + "\n")
    return directory


def load_bundle(path: str | Path) -> Bundle:
    """Load an export from its folder or its ``model.keras`` file, in Keras safe mode."""
    import keras

    model_file, metadata_file = bundle_files(path)
    metadata = Metadata.from_json(metadata_file.read_text(), path=str(metadata_file))
    if metadata.format > FORMAT:
        raise BenchError(
            f"{metadata_file}: written by a newer bench (format {metadata.format}); upgrade bench"
        )
    try:
        model = keras.saving.load_model(model_file, compile=False, safe_mode=True)
    except (OSError, ValueError) as exc:
        raise BenchError(f"{model_file}: cannot load the model ({exc})") from None
    return Bundle(model=model, metadata=metadata, path=model_file.parent)


def bundle_files(path: str | Path) -> tuple[Path, Path]:
    """(model.keras, metadata.json) of an export given as its folder or its model file."""
    path = Path(path)
    folder = path if path.is_dir() else path.parent
    model_file = path if path.is_file() else folder / MODEL_FILE
    metadata_file = folder / METADATA_FILE
    for needed in (model_file, metadata_file):
        if not needed.is_file():
            raise BenchError(
                f"{path}: no exported model ({needed.name} missing); make one with "
                "`bench export SUITE --best auc`"
            )
    return model_file, metadata_file
