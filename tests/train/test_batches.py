"""Training batches: balancing and augmentation act on the given training rows only."""

import numpy as np
import pytest

from bench.config.spec import AugmentSpec
from bench.train.augment import augment_batch, mixup
from bench.train.batches import (
    ShuffledBatches,
    class_weights,
    mixup_balance,
    oversample,
    undersample,
)


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


def _smooth_images(n: int, size: int = 24) -> np.ndarray:
    """Smooth gradients and blobs, uint8, so resampling error stays small."""
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:size, 0:size] / size
    images = []
    for _ in range(n):
        cy, cx = rng.uniform(0.3, 0.7, 2)
        blob = np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / 0.05)
        channels = [blob * rng.uniform(80, 200) + x * rng.uniform(0, 50) for _ in range(3)]
        images.append(np.stack(channels, -1))
    return np.clip(np.array(images), 0, 255).astype(np.uint8)


def test_augmentation_matches_scipy_resampling_of_the_same_draws():
    """OpenCV resamples exactly the affine map the draws describe (SciPy as reference)."""
    from scipy import ndimage

    from bench.train.augment import affine_matrices

    x = _smooth_images(6)
    spec = AugmentSpec(
        rotation=30, width_shift=0.1, height_shift=0.2, shear=10, zoom=0.2,
        horizontal_flip=True, vertical_flip=True, fill_mode="nearest",
    )  # fmt: skip
    out = augment_batch(x, spec, np.random.default_rng(4))
    matrices = affine_matrices(spec, np.random.default_rng(4), n=6, height=24, width=24)
    for image, matrix, got in zip(x, matrices, out):
        linear, offset = matrix[::-1, 1::-1], matrix[::-1, 2]  # (x, y) → (row, column)
        want = np.stack(
            [
                ndimage.affine_transform(
                    image[..., c].astype(float), linear, offset=offset, order=1, mode="nearest"
                )
                for c in range(3)
            ],
            -1,
        )
        assert np.abs(got - want).mean() < 0.3 and np.abs(got - want).max() < 4


def test_flips_alone_move_pixels_exactly():
    x = _smooth_images(16)
    out = augment_batch(x, AugmentSpec(horizontal_flip=True), np.random.default_rng(2))
    flipped = [np.array_equal(o, i[:, ::-1]) for o, i in zip(out, x)]
    kept = [np.array_equal(o, i) for o, i in zip(out, x)]
    assert all(f != k for f, k in zip(flipped, kept)) and 3 <= sum(flipped) <= 13


@pytest.mark.parametrize(
    ("mode", "corner"), [("constant", 0.0), ("nearest", 10.0), ("wrap", 250.0)]
)
def test_fill_modes_fill_uncovered_pixels(mode, corner):
    x = np.full((1, 8, 8, 1), 10, dtype=np.uint8)
    x[0, -1, -1] = 250  # the pixel a wrap-around reaches first
    spec = AugmentSpec(width_shift=0.125, height_shift=0.125, fill_mode=mode)
    rng = type("Max", (), {"uniform": lambda self, lo, hi, n: np.full(n, float(hi))})()
    out = augment_batch(x, spec, rng)
    assert out[0, 0, 0, 0] == pytest.approx(corner)  # shifted by one pixel down and right


def test_loader_threads_give_the_batches_indexing_gives():
    """Background threads prepare batches ahead; what they hand over does not depend on it."""
    from keras.src.trainers.data_adapters.py_dataset_adapter import PyDatasetAdapter

    x = _smooth_images(40)
    labels = np.arange(40) % 2
    spec = AugmentSpec(rotation=15, zoom=0.1, horizontal_flip=True, brightness=(0.8, 1.2))

    def batches(workers):
        return ShuffledBatches(
            x,
            np.eye(2, dtype=np.float32)[labels],
            labels=labels,
            rows=np.arange(4, 40),
            batch_size=8,
            seed=5,
            prepare=lambda a: a,
            augment=spec,
            workers=workers,
        )

    direct = batches(1)
    expected = [direct[i][0] for i in range(len(direct))]
    adapter = PyDatasetAdapter(batches(2), shuffle=False)
    for _ in range(2):  # the second epoch draws again, the same way on both sides
        adapter.on_epoch_begin()
        got = [batch[0] for batch in adapter.get_numpy_iterator()]
        adapter.on_epoch_end()
        assert len(got) == len(expected) == 5
        for a, b in zip(got, expected):
            np.testing.assert_array_equal(a, b)
        direct.on_epoch_end()
        expected = [direct[i][0] for i in range(len(direct))]


def _mixup_batches(labels, *, rows=None, seed=3, alpha=0.4):
    """Constant images whose value is their row number, one-hot targets, MixUp balancing."""
    x = np.arange(len(labels), dtype=np.uint8).reshape(-1, 1, 1, 1).repeat(3, axis=-1)
    y = np.eye(labels.max() + 1, dtype=np.float32)[labels]
    batches = ShuffledBatches(
        x, y, labels=labels, rows=rows, batch_size=7, seed=seed, prepare=lambda a: a,
        balance="mixup", balance_alpha=alpha,
    )  # fmt: skip
    return x, y, batches


def test_mixup_balancing_brings_every_class_to_the_majority_count():
    labels = np.array([0] * 12 + [1] * 4 + [2] * 7 + [1] * 5)  # rows 23.. are held out
    rows = np.arange(23)
    _, _, batches = _mixup_batches(labels, rows=rows)
    for _ in range(2):
        primary = labels[batches.order]
        assert np.bincount(primary).tolist() == [12, 12, 12]  # 12 + (12-4) + (12-7) samples
        assert set(batches.order) | set(batches.partners) <= set(rows)  # held-out rows unused
        real = batches.lam == 1
        assert sorted(batches.order[real]) == rows.tolist()  # every training row once, as is
        assert np.array_equal(batches.partners[real], batches.order[real])
        synthetic = ~real
        assert synthetic.sum() == 8 + 5
        assert (labels[batches.order[synthetic]] > 0).all()  # the minority image leads
        assert (batches.lam[synthetic] >= 0.5).all()
        batches.on_epoch_end()


def test_mixup_balancing_samples_are_convex_mixes_of_images_and_targets():
    labels = np.array([0] * 10 + [1] * 3 + [2] * 2)
    x, y, batches = _mixup_batches(labels)
    got_x = np.concatenate([batches[i][0] for i in range(len(batches))])
    got_y = np.concatenate([batches[i][1] for i in range(len(batches))])
    assert len(got_x) == 30 == len(batches.order)
    lam, a, b = batches.lam, batches.order, batches.partners
    want_x = lam * a + (1 - lam) * b  # each image's value is its row number
    np.testing.assert_allclose(got_x[:, 0, 0, 0], want_x, atol=1e-4)
    want_y = lam[:, None] * y[a] + (1 - lam[:, None]) * y[b]
    np.testing.assert_allclose(got_y, want_y, atol=1e-6)
    np.testing.assert_allclose(got_y.sum(axis=1), 1, atol=1e-6)
    mixed = (lam < 1) & (labels[a] != labels[b])
    assert mixed.any() and (got_y[mixed].max(axis=1) < 1).all()  # soft labels
    real = lam == 1
    assert got_x.dtype == np.float32 and np.array_equal(got_x[real], x[a[real]])


def test_mixup_balancing_is_deterministic_given_the_seed():
    labels = np.array([0] * 10 + [1] * 3 + [2] * 2)
    first, second, other = (_mixup_batches(labels, seed=s)[2] for s in (3, 3, 4))
    for name in ("order", "partners", "lam"):
        assert np.array_equal(getattr(first, name), getattr(second, name))
    assert not np.array_equal(first.lam, other.lam)
    np.testing.assert_array_equal(first[1][0], second[1][0])


def test_mixup_balance_weights_follow_the_folded_beta():
    """lam = max(u, 1 - u), u ~ Beta(alpha, alpha): its mean is 1/2 + E|u - 1/2|."""
    from scipy import stats

    labels = np.array([0] * 4000 + [1] * 10)
    _, _, lam = mixup_balance(labels, 0.4, np.random.default_rng(0))
    drawn = lam[4010:]
    u = stats.beta(0.4, 0.4)
    expected = 0.5 + u.expect(lambda t: abs(t - 0.5))
    assert drawn.mean() == pytest.approx(expected, abs=0.01)
