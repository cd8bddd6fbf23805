"""Batches fed to Keras as ``PyDataset``s: seeded order, balancing, augmentation.

Batches read their rows from the whole dataset's uint8 pixels (memory-mapped for file
sources): a fold is an array of row numbers, never a copy of its images, and float
conversion, augmentation and the backbone's preprocessing happen one batch at a time.
Everything random here depends only on (seed, epoch, batch), never on the backend's global
state or on which loader thread made the batch, so a fit is reproducible whether its
compiled model is new or reused and however many threads prepare batches ahead.
"""

from __future__ import annotations

from collections.abc import Callable

import keras
import numpy as np

from bench.config.spec import AugmentSpec
from bench.train.augment import augment_batch, mixup


class ShuffledBatches(keras.utils.PyDataset):
    """Batches of (x, y) or, with class weights, (x, y, sample weight) from the training
    rows of one fold.

    ``x`` holds raw pixels of the whole dataset, ``y`` its targets and ``labels`` its integer
    classes (what balancing works on); ``rows`` are the training rows (default: all).
    ``prepare`` (the backbone's preprocessing) runs per batch after augmentation;
    ``workers`` threads prepare batches ahead of training. With ``balance = "mixup"`` an
    epoch also holds synthetic samples (see :func:`mixup_balance`), mixed one batch at a
    time: ``partners`` and ``lam`` say, per position of the epoch, which row is mixed in and
    with what weight (1: the row as it is).
    """

    def __init__(
        self,
        x: np.ndarray,
        y: np.ndarray,
        *,
        labels: np.ndarray,
        batch_size: int,
        seed: int,
        prepare: Callable[[np.ndarray], np.ndarray],
        rows: np.ndarray | None = None,
        augment: AugmentSpec | None = None,
        balance: str = "none",
        balance_alpha: float = 0.2,
        workers: int = 1,
    ):
        super().__init__(workers=workers, max_queue_size=2 * workers)
        self.x, self.y, self.labels = x, y, labels
        self.rows = np.arange(len(labels)) if rows is None else np.asarray(rows)
        self.batch_size, self.seed = batch_size, seed
        self.prepare, self.augment, self.balance = prepare, augment, balance
        self.balance_alpha = balance_alpha
        self.weights = class_weights(labels[self.rows]) if balance == "class_weight" else None
        self.epoch = 0
        self.order, self.partners, self.lam = self._epoch_order()

    def __len__(self) -> int:
        return -(-len(self.order) // self.batch_size)

    def __getitem__(self, index: int):
        part = slice(index * self.batch_size, (index + 1) * self.batch_size)
        rows = self.order[part]
        rng = np.random.default_rng([self.seed, self.epoch, index])
        x, y = self.x[rows], self.y[rows]
        if self.partners is not None:
            x, y = self._mix(x, y, self.partners[part], self.lam[part])
        if self.augment is not None:
            x = augment_batch(x, self.augment, rng)
            if self.augment.mixup_alpha > 0:
                x, y = mixup(x, y, self.augment.mixup_alpha, rng)
        if self.weights is None:
            return self.prepare(x), y
        return self.prepare(x), y, self.weights[self.labels[rows]].astype("float32")

    def on_epoch_end(self) -> None:
        self.epoch += 1
        self.order, self.partners, self.lam = self._epoch_order()

    def _epoch_order(self) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
        rng = np.random.default_rng([self.seed, self.epoch])
        labels = self.labels[self.rows]
        if self.balance == "mixup":
            picked, partners, lam = mixup_balance(labels, self.balance_alpha, rng)
            shuffle = rng.permutation(len(picked))
            return self.rows[picked[shuffle]], self.rows[partners[shuffle]], lam[shuffle]
        if self.balance == "oversample":
            picked = oversample(labels, rng)
        elif self.balance == "undersample":
            picked = undersample(labels, rng)
        else:
            picked = np.arange(len(labels))
        return self.rows[rng.permutation(picked)], None, None

    def _mix(self, x, y, partners, lam):
        """Synthetic samples of the batch (``lam`` < 1) as convex mixes with their partner."""
        mixed = np.flatnonzero(lam < 1)
        if not len(mixed):
            return x, y
        x, y = x.astype(np.float32), y.astype(np.float32)
        weight = lam[mixed].astype(np.float32)
        x[mixed] = (
            weight[:, None, None, None] * x[mixed]
            + (1 - weight[:, None, None, None]) * self.x[partners[mixed]]
        )
        y[mixed] = weight[:, None] * y[mixed] + (1 - weight[:, None]) * self.y[partners[mixed]]
        return x, y


class OrderedBatches(keras.utils.PyDataset):
    """``rows`` of ``x`` in order, ``prepare``-d one batch at a time; with ``y``, (x, y)
    pairs (validation), without, inputs only (prediction)."""

    def __init__(
        self,
        x: np.ndarray,
        y: np.ndarray | None,
        *,
        rows: np.ndarray,
        batch_size: int,
        prepare: Callable[[np.ndarray], np.ndarray],
    ):
        super().__init__()
        self.x, self.y, self.rows = x, y, np.asarray(rows)
        self.batch_size, self.prepare = batch_size, prepare

    def __len__(self) -> int:
        return -(-len(self.rows) // self.batch_size)

    def __getitem__(self, index: int):
        rows = self.rows[index * self.batch_size : (index + 1) * self.batch_size]
        x = self.prepare(self.x[rows])
        return x if self.y is None else (x, self.y[rows])


def class_weights(labels: np.ndarray) -> np.ndarray:
    """Weight n / (K · n_c) per class c, so every class contributes equally to the loss."""
    counts = np.bincount(labels)
    present = counts > 0
    weights = np.zeros(len(counts))
    weights[present] = len(labels) / (present.sum() * counts[present])
    return weights


def oversample(labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Rows with minority classes repeated up to the majority count (augmentation, when on,
    makes the repeats augmented copies)."""
    classes = np.unique(labels)
    target = max(np.sum(labels == c) for c in classes)
    parts = []
    for c in classes:
        rows = np.flatnonzero(labels == c)
        extra = rng.choice(rows, size=target - len(rows), replace=True)
        parts.append(np.concatenate([rows, extra]))
    return np.concatenate(parts)


def mixup_balance(
    labels: np.ndarray, alpha: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every row once, plus MixUp samples that bring each minority class to the majority
    count (Johri et al. 2025 balance HAM10000 this way), drawn afresh each epoch.

    A synthetic sample of class c mixes a random row of c with a random row of any class,
    ``lam * row + (1 - lam) * partner`` for images and targets alike, with ``lam`` drawn
    from Beta(alpha, alpha) and folded onto [0.5, 1] so that c keeps the larger share.
    Returns (rows, partners, lam) as positions in ``labels``; real rows have lam = 1.
    """
    classes, counts = np.unique(labels, return_counts=True)
    target = counts.max()
    extra = np.concatenate(
        [
            rng.choice(np.flatnonzero(labels == c), size=target - n, replace=True)
            for c, n in zip(classes, counts)
        ]
    ).astype(np.int64)
    partners = rng.integers(0, len(labels), size=len(extra))
    lam = rng.beta(alpha, alpha, size=len(extra))
    lam = np.maximum(lam, 1 - lam)
    real = np.arange(len(labels))
    return (
        np.concatenate([real, extra]),
        np.concatenate([real, partners]),
        np.concatenate([np.ones(len(labels)), lam]),
    )


def undersample(labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A fresh random subset of every class down to the minority count, each epoch."""
    classes = np.unique(labels)
    target = min(np.sum(labels == c) for c in classes)
    return np.concatenate(
        [rng.choice(np.flatnonzero(labels == c), size=target, replace=False) for c in classes]
    )
