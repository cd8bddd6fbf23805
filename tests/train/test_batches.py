"""Training batches: balancing and augmentation act on the given training rows only."""

import numpy as np
import pytest

from bench.config.spec import AugmentSpec
from bench.train.augment import augment_batch, mixup
from bench.train.batches import ShuffledBatches, class_weights, oversample, undersample


def test_class_weights_equalise_class_totals():
    labels = np.array([0] * 30 + [1] * 10)
    w = class_weights(labels)[labels]
    assert w[labels == 0].sum() == pytest.approx(20.0) == w[labels == 1].sum()


def test_oversample_and_undersample_balance_within_the_given_rows():
    labels = np.array([0] * 12 + [1] * 4 + [2] * 7)
    rng = np.random.default_rng(0)
    over = oversample(labels, rng)
    assert np.bincount(labels[over]).tolist() == [12, 12, 12]
    assert set(over) <= set(range(len(labels)))
    under = undersample(labels, rng)
    assert np.bincount(labels[under]).tolist() == [4, 4, 4] and len(set(under)) == 12


def test_batches_are_deterministic_and_draw_only_training_rows():
    x = np.arange(20, dtype=np.float32).reshape(20, 1, 1, 1).repeat(3, axis=-1)
    labels = np.array([0] * 15 + [1] * 5)
    y = np.eye(2, dtype=np.float32)[labels]

    def batches():
        return ShuffledBatches(
            x, y, labels=labels, batch_size=8, seed=3, prepare=lambda a: a, balance="oversample"
        )

    a, b = batches(), batches()
    assert len(a) == 4  # 30 rows after oversampling
    seen = np.concatenate([a[i][0][:, 0, 0, 0] for i in range(len(a))])
    assert set(seen) <= set(x[:, 0, 0, 0]) and np.bincount(labels[seen.astype(int)]).tolist() == [
        15,
        15,
    ]
    assert np.array_equal(seen, np.concatenate([b[i][0][:, 0, 0, 0] for i in range(len(b))]))
    first = a[0][0].copy()
    a.on_epoch_end()
    assert not np.array_equal(first, a[0][0])  # a new order each epoch


def test_augmentation_changes_images_but_keeps_shape_and_range():
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 255, size=(4, 16, 16, 3)).astype(np.float32)
    spec = AugmentSpec(
        rotation=20,
        width_shift=0.1,
        height_shift=0.1,
        shear=5,
        zoom=0.1,
        brightness=(0.8, 1.2),
        horizontal_flip=True,
        fill_mode="reflect",
    )
    out = augment_batch(x, spec, np.random.default_rng(1))
    assert out.shape == x.shape and out.min() >= 0 and out.max() <= 255
    assert not np.allclose(out, x)
    same = augment_batch(x, spec, np.random.default_rng(1))
    np.testing.assert_array_equal(out, same)


def test_identity_augmentation_is_identity():
    x = np.random.default_rng(0).uniform(0, 255, size=(2, 8, 8, 3)).astype(np.float32)
    out = augment_batch(x, AugmentSpec(rotation=0.0, zoom=0.0), np.random.default_rng(0))
    np.testing.assert_allclose(out, x)


def test_mixup_targets_are_convex_combinations():
    rng = np.random.default_rng(0)
    x = rng.uniform(size=(6, 4, 4, 3)).astype(np.float32)
    y = np.eye(2, dtype=np.float32)[[0, 1, 0, 1, 1, 0]]
    mx, my = mixup(x, y, 0.4, np.random.default_rng(5))
    assert mx.shape == x.shape and np.allclose(my.sum(axis=1), 1) and (my >= 0).all()
    assert not np.allclose(my, y)
