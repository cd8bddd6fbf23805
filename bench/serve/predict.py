"""``bench predict``: images or folders → CSV of class probabilities and predicted labels.

Images are read as training read them (RGB, bilinear resize to the model's input size) and
preprocessed with the backbone's mode from the metadata; binary models label with the
threshold chosen on the inner validation split, multi-class models with the argmax.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path
from typing import TextIO

import numpy as np

from bench.serve.bundle import Bundle
from bench.serve.images import image_files, read_image

BATCH = 64  # images read and predicted at a time, so a large folder never fills memory


def predict_to_csv(
    bundle: Bundle, paths: Iterable[str | Path], *, out: TextIO, batch_size: int = BATCH
) -> int:
    """Write one CSV row per image (``path, label, p_<class>...``); return the row count."""
    files = image_files(paths)
    classes = bundle.metadata.classes
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["path", "label", *(f"p_{c}" for c in classes)])
    size, segmentation = bundle.metadata.image_size, bundle.metadata.segmentation
    for start in range(0, len(files), batch_size):
        chunk = files[start : start + batch_size]
        images = [read_image(f, size=size, segmentation=segmentation) for f in chunk]
        proba = bundle.predict_proba(np.stack(images))
        for path, label, row in zip(chunk, bundle.labels(proba), proba, strict=True):
            writer.writerow([str(path), classes[label], *(repr(float(p)) for p in row)])
    return len(files)
