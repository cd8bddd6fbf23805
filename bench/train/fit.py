"""Fit one stage: build or reuse a compiled model, set its starting weights, train, predict.

Graph tracing dominates small-data training on CPU (the first ``fit`` of a
keras.applications model costs seconds to tens of seconds), so compiled models are kept in a
:class:`ModelPool` keyed by everything that shapes the traced graph. A reused model gets the
exact starting weights a fresh build would have (built under the same seed) and a reset
optimizer, so reuse changes speed, never results.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from functools import partial

import keras
import numpy as np

from bench.config.spec import AugmentSpec, HeadSpec
from bench.config.trainable import Trainable
from bench.models.build import BACKBONE, build_model, set_trainable
from bench.models.optimizers import build_optimizer
from bench.models.preprocess import preprocess
from bench.train.batches import OrderedBatches, ShuffledBatches
from bench.train.seeding import seed_fit


@dataclass(frozen=True)
class ModelKey:
    """What determines the traced training graph: equal keys can share a compiled model."""

    backbone: str
    options: tuple
    image_size: int
    n_classes: int
    head: HeadSpec
    trainable: Trainable
    optimizer: str
    optimizer_options: tuple
    precision: str = "float32"  # Keras dtype policy the model is built under


@dataclass(frozen=True)
class FitSpec:
    key: ModelKey
    weights: str  # where the backbone starts when no parent weights are given
    learning_rate: float
    lr_decay: float
    epochs: int
    batch_size: int
    patience: int
    seed: int
    preprocessing: str = "unit"  # the backbone's mode, see bench.models.preprocess
    augment: AugmentSpec | None = None
    balance: str = "none"
    balance_alpha: float = 0.2  # MixUp balancing's Beta(alpha, alpha)


@dataclass(frozen=True)
class Arrays:
    """A stage's raw pixels (uint8, 0-255, possibly memory-mapped; read per batch, never
    copied whole), their integer labels, and the rows that train (``fit``) and drive early
    stopping (``val``)."""

    images: np.ndarray
    labels: np.ndarray
    fit: np.ndarray
    val: np.ndarray


@dataclass
class FitResult:
    model: keras.Model
    history: dict[str, list[float]]
    best_epoch: int
    built: bool  # a new compiled model was traced for this fit


@dataclass
class _Pooled:
    model: keras.Model
    optimizer_state: list[np.ndarray] = field(default_factory=list)


class ModelPool:
    """Compiled models of this process, least recently used dropped beyond ``size``."""

    def __init__(self, *, reuse: bool = True, size: int = 12):
        self.reuse = reuse
        self.size = size
        self._models: OrderedDict[ModelKey, _Pooled] = OrderedDict()

    def acquire(self, spec: FitSpec) -> tuple[keras.Model, bool]:
        """A compiled model with fresh starting weights for ``spec``; True if newly built."""
        pooled = self._models.get(spec.key) if self.reuse else None
        if pooled is None:
            model = _compiled_model(spec)
            pooled = _Pooled(model, [v.numpy() for v in model.optimizer.variables])
            self._remember(spec.key, pooled)
            return model, True
        self._models.move_to_end(spec.key)
        _copy_variables(_fresh_model(spec), pooled.model)
        for variable, value in zip(
            pooled.model.optimizer.variables, pooled.optimizer_state, strict=True
        ):
            variable.assign(value)
        return pooled.model, False

    def _remember(self, key: ModelKey, pooled: _Pooled) -> None:
        if not self.reuse:
            return
        self._models[key] = pooled
        while len(self._models) > self.size:
            self._models.popitem(last=False)


def fit_stage(
    spec: FitSpec,
    data: Arrays,
    *,
    pool: ModelPool,
    backbone_start: list[np.ndarray] | None = None,
    callbacks=(),
) -> FitResult:
    """Train one stage from its starting weights with early stopping on ``data.x_val``."""
    model, built = pool.acquire(spec)
    if backbone_start is not None:
        model.get_layer(BACKBONE).set_weights(backbone_start)
    # patience 0: no early stopping; every epoch trains and the last weights stay
    stopping = (
        [
            keras.callbacks.EarlyStopping(
                monitor="val_loss", patience=spec.patience, restore_best_weights=True
            )
        ]
        if spec.patience
        else []
    )
    schedule = keras.callbacks.LearningRateScheduler(
        lambda epoch: spec.learning_rate * spec.lr_decay**epoch
    )
    y = targets(data.labels, spec.key.head, spec.key.n_classes)
    prepare = partial(preprocess, mode=spec.preprocessing)
    batches = ShuffledBatches(
        data.images,
        y,
        labels=data.labels,
        rows=data.fit,
        batch_size=spec.batch_size,
        seed=spec.seed,
        prepare=prepare,
        augment=spec.augment,
        balance=spec.balance,
        balance_alpha=spec.balance_alpha,
        workers=loader_threads(spec.augment),
    )
    validation = OrderedBatches(
        data.images, y, rows=data.val, batch_size=spec.batch_size, prepare=prepare
    )
    chunk = statistics_chunk(spec.batch_size, image_size=spec.key.image_size)
    statistics = PreciseBatchNorm(
        OrderedBatches(data.images, None, rows=data.fit, batch_size=chunk, prepare=prepare)
    )
    history = model.fit(
        batches,
        epochs=spec.epochs,
        shuffle=False,  # ShuffledBatches orders batches from its own seed
        callbacks=[statistics, *stopping, schedule, *callbacks],
        verbose=0,
        validation_data=validation,
    )
    logs = {k: [float(v) for v in values] for k, values in history.history.items()}
    logs.pop("learning_rate", None)
    restored = spec.patience and logs.get("val_loss")
    best = int(np.argmin(logs["val_loss"])) if restored else len(logs["loss"]) - 1
    return FitResult(model=model, history=logs, best_epoch=best, built=built)


class PreciseBatchNorm(keras.callbacks.Callback):
    """Before each validation, give the backbone's trainable BatchNorm layers the statistics
    of the whole training set under the current weights ("precise BatchNorm": Wu & Johnson,
    Rethinking "Batch" in BatchNorm, 2021).

    The moving averages BatchNorm keeps lag the weights by several steps. With a few steps an
    epoch and low-contrast images (pale microscopy, speckle) that lag alone can make the
    network in inference mode predict one class for every image, while the same weights
    with batch statistics are right, and early stopping, the threshold and the test fold
    would all judge a network that training never saw. Frozen BatchNorm layers keep theirs.
    """

    def __init__(self, chunks: OrderedBatches):
        super().__init__()
        self.chunks = chunks

    def on_test_begin(self, logs=None) -> None:
        recompute_batchnorm(self.model.get_layer(BACKBONE), self.chunks)


# Images per precise-BatchNorm chunk: 256 up to 64 px, fewer above, so the chunk's
# activations (one forward pass in training mode) stay the size of 256 images at 64 px.
STATISTICS_PIXELS = 256 * 64 * 64


def statistics_chunk(batch_size: int, *, image_size: int) -> int:
    """Images per precise-BatchNorm chunk: at most 256 and :data:`STATISTICS_PIXELS`, at
    least the training batch (which fits in memory with its gradients, and is the batch
    BatchNorm normalised over in training). A fixed 256 held 1.6 GB at 128 px in the small
    CNN and grew with the square of the side."""
    return max(batch_size, min(256, STATISTICS_PIXELS // image_size**2))


def recompute_batchnorm(backbone: keras.Model, chunks) -> None:
    """Set trainable BatchNorm statistics to their mean over the prepared input ``chunks``."""
    layers = [layer for layer in _layers(backbone) if _is_trainable_batchnorm(layer)]
    if not layers or not len(chunks):
        return
    momenta = [layer.momentum for layer in layers]
    try:
        for k in range(len(chunks)):
            for layer in layers:
                layer.momentum = k / (k + 1)  # a running mean of the chunks' statistics
            backbone(chunks[k], training=True)
    finally:
        for layer, momentum in zip(layers, momenta, strict=True):
            layer.momentum = momentum


def _layers(model: keras.Model):
    for layer in model.layers:
        yield layer
        if isinstance(layer, keras.Model):
            yield from _layers(layer)


def _is_trainable_batchnorm(layer) -> bool:
    return isinstance(layer, keras.layers.BatchNormalization) and layer.trainable


def loader_threads(augment: AugmentSpec | None) -> int:
    """Threads preparing training batches ahead: augmented batches cost enough to gain
    from them (OpenCV releases the GIL); plain ones are a gather and a scaling."""
    return 2 if augment is not None else 1


def predict_proba(
    model: keras.Model,
    images: np.ndarray,
    *,
    rows: np.ndarray,
    preprocessing: str,
    batch_size: int = 64,
) -> np.ndarray:
    """Class probabilities (N, K) of ``rows``; a one-unit sigmoid output becomes two columns."""
    batches = OrderedBatches(
        images,
        None,
        rows=rows,
        batch_size=batch_size,
        prepare=partial(preprocess, mode=preprocessing),
    )
    p = np.asarray(model.predict(batches, verbose=0), dtype=np.float64)
    if p.shape[1] == 1:
        p = np.hstack([1.0 - p, p])
    return p


def _compiled_model(spec: FitSpec) -> keras.Model:
    model = _fresh_model(spec)
    key = spec.key
    optimizer = build_optimizer(
        key.optimizer, learning_rate=spec.learning_rate, options=dict(key.optimizer_options)
    )
    # One-hot targets (not sparse labels) so MixUp can mix them.
    loss = "binary_crossentropy" if key.head.output == "sigmoid" else "categorical_crossentropy"
    # XLA made CPU training 3-20x slower; never let Keras turn it on by itself.
    model.compile(optimizer=optimizer, loss=loss, metrics=["accuracy"], jit_compile=False)
    optimizer.build(model.trainable_variables)
    return model


def _fresh_model(spec: FitSpec) -> keras.Model:
    """The model as a fresh build under ``spec.seed`` would start, trainable rule applied."""
    key = spec.key
    seed_fit(spec.seed)
    keras.config.set_dtype_policy(key.precision)  # the head's output layer stays float32
    model = build_model(
        key.backbone,
        image_size=key.image_size,
        n_classes=key.n_classes,
        head=key.head,
        options=dict(key.options),
        weights=spec.weights,
    )
    set_trainable(model, key.trainable)
    return model


def _copy_variables(source: keras.Model, target: keras.Model) -> None:
    """Copy every variable, dropout seed states included, between same-shaped models."""
    for src, dst in zip(_state(source), _state(target), strict=True):
        dst.assign(src.numpy())


def _state(model: keras.Model) -> list:
    """Weights and seed states; a compiled model's metric accumulators are left out."""
    metric_ids = {id(v) for metric in model.metrics for v in metric.variables}
    return [v for v in model.variables if id(v) not in metric_ids]


def targets(y: np.ndarray, head: HeadSpec, n_classes: int) -> np.ndarray:
    """Float targets: one column for a sigmoid head, one-hot rows for softmax."""
    if head.output == "sigmoid":
        return y.astype("float32").reshape(-1, 1)
    return np.eye(n_classes, dtype="float32")[y]
