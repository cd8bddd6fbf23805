"""Grad-CAM heatmaps of an exported model (Selvaraju et al. 2017), overlays and example grids.

The map of class c is ReLU(Σ_k α_k A_k): A is the backbone's last convolutional feature
map, α_k the spatial mean of ∂y_c/∂A_k, and y_c the class score *before* the output
activation (a saturated softmax or sigmoid would flatten the gradient). A one-unit sigmoid
head's logit z becomes the two logits (-z/2, z/2), whose softmax is (1 - σ(z), σ(z)): each
class has its own evidence. Maps are upsampled to the model's input size and scaled to
[0, 1] per image.

Everything is keras.ops except the gradient, which needs the backend's autodiff
(``bench.models.gradients``: TensorFlow, torch and JAX).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
from keras import ops

from bench.errors import BenchError
from bench.models.build import BACKBONE
from bench.models.gradients import value_and_gradient
from bench.models.preprocess import preprocess
from bench.serve.bundle import Bundle
from bench.serve.images import image_files, read_image

OVERLAY_ALPHA = 0.45  # weight of the heatmap colour over the image
OVERLAY_MIN_SIDE = 224  # small inputs are enlarged so the overlay can be seen
BATCH = 32  # images explained at a time, so a large folder never fills memory


@dataclass(frozen=True)
class CamModel:
    """A classifier split at its last conv feature map: image → A → class logits."""

    features: keras.Model  # model input → last 4-D feature map of the backbone
    after: tuple  # layers from the feature map to the output layer (pooling, head)
    output: keras.layers.Dense  # its kernel and bias give the logits

    def logits(self, features):
        h = features
        for layer in self.after:
            h = layer(h, training=False)
        z = ops.matmul(h, self.output.kernel) + self.output.bias
        return ops.concatenate([-z / 2, z / 2], axis=1) if z.shape[1] == 1 else z


@dataclass(frozen=True)
class Explained:
    """One image explained: where its overlay went and what the model said."""

    source: Path
    output: Path
    label: str
    probability: float  # of the explained class


@dataclass(frozen=True)
class Example:
    """A test image picked for the examples figure."""

    index: int
    true: int
    predicted: int
    confidence: float  # probability of the predicted class

    @property
    def correct(self) -> bool:
        return self.true == self.predicted


def cam_model(model: keras.Model) -> CamModel:
    """Split a bench classifier (input → backbone → head) at the backbone's last conv map."""
    backbone = model.get_layer(BACKBONE)
    layers = backbone.layers
    spatial = [i for i, layer in enumerate(layers) if len(layer.output.shape) == 4]
    if not spatial:
        raise BenchError(f"backbone of {model.name} has no 4-D feature map for Grad-CAM")
    last = spatial[-1]
    head = model.layers[model.layers.index(backbone) + 1 :]
    return CamModel(
        features=keras.Model(backbone.input, layers[last].output),
        after=(*layers[last + 1 :], *head[:-1]),
        output=head[-1],
    )


def gradcam(
    bundle: Bundle, images: np.ndarray, *, classes: Sequence[int] | None = None
) -> np.ndarray:
    """Heatmaps (N, size, size) in [0, 1] of uint8 model-size ``images`` for ``classes``
    (default: each image's predicted class)."""
    meta = bundle.metadata
    if classes is None:
        classes = bundle.labels(bundle.predict_proba(images))
    x = ops.convert_to_tensor(preprocess(images, meta.preprocessing))
    onehot = ops.one_hot(ops.convert_to_tensor(np.asarray(classes)), len(meta.classes))
    with bundle.lock:
        features, grads = _gradients(cam_model(bundle.model), x, onehot)
    weights = ops.mean(grads, axis=(1, 2))
    maps = ops.relu(ops.einsum("nhwk,nk->nhw", features, weights))
    maps = ops.image.resize(maps[..., None], (meta.image_size, meta.image_size))[..., 0]
    peak = ops.max(maps, axis=(1, 2), keepdims=True)
    return ops.convert_to_numpy(ops.where(peak > 0, maps / ops.maximum(peak, 1e-12), 0.0))


def overlay(image: np.ndarray, heat: np.ndarray, *, min_side: int = OVERLAY_MIN_SIDE):
    """uint8 RGB ``image`` with ``heat`` (any size, values in [0, 1]) blended on top in the
    jet colour map, enlarged so its shorter side is at least ``min_side`` px."""
    from matplotlib import colormaps
    from PIL import Image

    rgb = np.repeat(image, 3, axis=-1) if image.shape[-1] == 1 else image
    height, width = rgb.shape[:2]
    scale = max(1.0, min_side / min(height, width))
    size = (round(width * scale), round(height * scale))
    base = np.asarray(Image.fromarray(rgb).resize(size, Image.BICUBIC), dtype=np.float32)
    heat = np.asarray(Image.fromarray(heat.astype(np.float32)).resize(size, Image.BILINEAR))
    colour = colormaps["jet"](np.clip(heat, 0.0, 1.0))[..., :3] * 255.0
    return np.round((1 - OVERLAY_ALPHA) * base + OVERLAY_ALPHA * colour).astype(np.uint8)


def explanation_maps(method: str):
    """The map function of ``method``: ``gradcam`` (default) or ``shap``."""
    if method == "shap":
        from bench.serve.shapley import shap_maps

        return shap_maps
    return gradcam


def explain_files(
    bundle: Bundle,
    paths: Iterable[str | Path],
    *,
    out: Path,
    target: str | None = None,
    method: str = "gradcam",
) -> list[Explained]:
    """Write ``<name>_<method>.png`` overlays into ``out`` for image files or folders,
    explaining ``target`` (a class name) or each image's predicted class."""
    files = image_files(paths)
    fixed = None if target is None else _class_index(bundle.metadata, target)
    out.mkdir(parents=True, exist_ok=True)
    explained: list[Explained] = []
    for start in range(0, len(files), BATCH):
        part = files[start : start + BATCH]
        explained += _explain_batch(bundle, part, fixed, out, explained, method=method)
    return explained


def _explain_batch(
    bundle: Bundle, files, fixed: int | None, out: Path, done, *, method: str
) -> list[Explained]:
    from PIL import Image

    meta = bundle.metadata
    images = np.stack(
        [read_image(f, size=meta.image_size, segmentation=meta.segmentation) for f in files]
    )
    proba = bundle.predict_proba(images)
    classes = bundle.labels(proba) if fixed is None else np.full(len(files), fixed)
    heat = explanation_maps(method)(bundle, images, classes=classes)
    taken = {e.output for e in done}
    explained = []
    for index, (path, cls) in enumerate(zip(files, classes, strict=True)):
        output = _free_name(out, f"{path.stem}_{method}", taken=taken)
        taken.add(output)
        original = read_image(path, size=None, segmentation=meta.segmentation)
        Image.fromarray(overlay(original, heat[index])).save(output)
        label, p = meta.classes[cls], float(proba[index, cls])
        explained.append(Explained(source=path, output=output, label=label, probability=p))
    return explained


def pick_examples(
    y_true: np.ndarray, proba: np.ndarray, predicted: np.ndarray, *, per_class: int
) -> tuple[Example, ...]:
    """Per true class, up to ``per_class`` correct and ``per_class`` wrong predictions, the
    most confident first (a confident mistake is the one worth looking at)."""
    confidence = proba[np.arange(len(predicted)), predicted]
    picked = []
    for cls in range(proba.shape[1]):
        for correct in (True, False):
            rows = np.flatnonzero((y_true == cls) & ((predicted == cls) == correct))
            rows = rows[np.argsort(-confidence[rows], kind="stable")][:per_class]
            picked += [Example(int(i), cls, int(predicted[i]), float(confidence[i])) for i in rows]
    return tuple(picked)


def examples_figure(
    bundle: Bundle,
    images: np.ndarray,
    y_true: np.ndarray,
    *,
    per_class: int = 3,
    names: Sequence[str] | None = None,
    method: str = "gradcam",
):
    """A figure of correctly and wrongly classified examples per class, each with the
    Grad-CAM (or, with ``method = "shap"``, SHAP) map of its predicted class: one row per
    (class, correct | wrong), most confident first. ``images`` are uint8 at the model's
    input size (as ``load_dataset`` returns them at the suite's ``image_size``); ``names``
    label the panels (e.g. sample ids)."""
    proba = bundle.predict_proba(images)
    predicted = bundle.labels(proba)
    examples = pick_examples(np.asarray(y_true), proba, predicted, per_class=per_class)
    rows = [e.index for e in examples]
    explain = explanation_maps(method)
    heat = explain(bundle, images[rows], classes=[e.predicted for e in examples]) if rows else []
    return _examples_figure(bundle.metadata.classes, images, examples, heat, per_class, names)


def _examples_figure(classes, images, examples, heat, per_class: int, names):
    from matplotlib.figure import Figure

    rows = [(c, ok) for c in range(len(classes)) for ok in (True, False)]
    figure = Figure(figsize=(1.8 * per_class + 1.2, 1.9 * len(rows)))
    axes = figure.subplots(len(rows), per_class, squeeze=False)
    for r, (cls, ok) in enumerate(rows):
        picked = [(e, h) for e, h in zip(examples, heat) if e.true == cls and e.correct == ok]
        axes[r, 0].set_ylabel(f"{classes[cls]}\n{'correct' if ok else 'wrong'}", fontsize=8)
        for c, ax in enumerate(axes[r]):
            ax.set_xticks([])
            ax.set_yticks([])
            if c < len(picked):
                _panel(ax, *picked[c], images=images, classes=classes, names=names)
            else:
                ax.set_frame_on(False)
        if not picked:
            axes[r, 0].text(0.5, 0.5, "none", ha="center", va="center", fontsize=8, color="grey")
    return figure


def _panel(ax, example: Example, heat, *, images, classes, names) -> None:
    """One example: its Grad-CAM overlay, name, predicted class and confidence."""
    ax.imshow(overlay(images[example.index], heat, min_side=96))
    name = names[example.index] if names is not None else f"#{example.index}"
    title = f"{name}\n→ {classes[example.predicted]} {example.confidence:.2f}"
    ax.set_title(title, fontsize=7)


def _gradients(cam: CamModel, x, onehot):
    """Feature maps and ∂(class score)/∂(feature maps), with the backend's autodiff."""
    features = cam.features(x, training=False)
    _, gradient = value_and_gradient(lambda f: ops.sum(cam.logits(f) * onehot), features)
    return features, gradient


def _class_index(meta, name: str) -> int:
    if name not in meta.classes:
        raise BenchError(
            f"--class {name!r} is not a class of this model ({', '.join(meta.classes)})"
        )
    return meta.classes.index(name)


def _free_name(folder: Path, stem: str, *, taken: set[Path]) -> Path:
    """``folder/stem.png``, numbered when an earlier image of this call had the same name."""
    path, n = folder / f"{stem}.png", 1
    while path in taken:
        n += 1
        path = folder / f"{stem}-{n}.png"
    return path
