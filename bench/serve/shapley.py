"""SHAP maps of an exported model (Lundberg & Lee 2017) from the ``shap`` package's
model-agnostic Partition explainer: regions of the image are hidden by blurring them
(``shap.maskers.Image("blur(k,k)")``) in a hierarchy of ever smaller tiles, and Owen values
share each class probability among them. The explainer calls only the model's predict
function, so it works on every Keras backend, at the cost of ``max_evals`` predictions per
image (:data:`MAX_EVALS`, a few hundred: seconds per image on a CPU).

A map is the attribution of each pixel to the explained class, summed over colour channels;
shown like Grad-CAM, as the positive evidence scaled to [0, 1] per image.
``pip install 'medbench[explain]'`` installs shap; it is imported only when asked for.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from bench.errors import BenchError
from bench.models.preprocess import to_rgb
from bench.serve.bundle import Bundle

MAX_EVALS = 300  # model calls per image
BATCH = 64  # masked images per model call


def shap_maps(
    bundle: Bundle,
    images: np.ndarray,
    *,
    classes: Sequence[int] | None = None,
    max_evals: int = MAX_EVALS,
) -> np.ndarray:
    """Positive SHAP evidence (N, size, size) in [0, 1] of uint8 model-size ``images`` for
    ``classes`` (default: each image's predicted class)."""
    values = shap_values(bundle, images, max_evals=max_evals)
    if classes is None:
        classes = bundle.labels(bundle.predict_proba(images))
    maps = values[np.arange(len(values)), ..., np.asarray(classes)]
    maps = np.maximum(maps, 0.0)
    peak = maps.max(axis=(1, 2), keepdims=True)
    return np.where(peak > 0, maps / np.maximum(peak, 1e-12), 0.0)


def shap_values(bundle: Bundle, images: np.ndarray, *, max_evals: int = MAX_EVALS) -> np.ndarray:
    """Per-pixel SHAP values (N, size, size, K) of every class, summed over channels."""
    shap = _shap()
    rgb = to_rgb(np.asarray(images)).astype(np.float32)
    size = rgb.shape[1]
    blur = max(3, size // 8) | 1  # odd kernel, about an eighth of the image
    masker = shap.maskers.Image(f"blur({blur},{blur})", rgb.shape[1:])
    explainer = shap.Explainer(bundle.predict_proba, masker, output_names=bundle.metadata.classes)
    explanation = explainer(rgb, max_evals=max_evals, batch_size=BATCH, silent=True)
    return np.asarray(explanation.values).sum(axis=3)


def _shap():
    try:
        import shap
    except ImportError:
        raise BenchError(
            "--method shap needs the shap package: pip install 'medbench[explain]' "
            "(or pip install shap); --method gradcam needs nothing more"
        ) from None
    return shap
