"""MedMNIST .npz files: splits merged with their ids, class names, refusals."""

import numpy as np
import pytest

from bench.data.sources import fingerprint, load_dataset
from bench.errors import DataError
from tests.data.conftest import spec


def _npz(path, *, labels_per_image=1, channels=None):
    rng = np.random.default_rng(0)
    arrays = {}
    for split, n in (("train", 6), ("val", 2), ("test", 3)):
        shape = (n, 28, 28) if channels is None else (n, 28, 28, channels)
        arrays[f"{split}_images"] = rng.integers(0, 255, shape, dtype=np.uint8)
        arrays[f"{split}_labels"] = np.repeat((np.arange(n) % 2)[:, None], labels_per_image, 1)
    np.savez(path, **arrays)
    return path


def test_splits_are_merged_with_their_ids(tmp_path):
    path = _npz(tmp_path / "breastmnist.npz")
    data = load_dataset(spec(f"medmnist:{path}"), image_size=32)
    assert data.images.shape == (11, 32, 32, 1)
    assert data.ids.tolist()[:7] == [f"train/{i}" for i in range(6)] + ["val/0"]
    assert data.splits.tolist() == ["train"] * 6 + ["val"] * 2 + ["test"] * 3
    assert data.class_names == ("malignant", "normal or benign")
    assert len(set(data.groups)) == 11  # MedMNIST names no patients


def test_splits_option_and_unknown_files_get_index_names(tmp_path):
    path = _npz(tmp_path / "mydata_64.npz", channels=3)
    data = load_dataset(spec(f"medmnist:{path}", splits=["test"]), image_size=28)
    assert data.ids.tolist() == ["test/0", "test/1", "test/2"]
    assert data.class_names == ("0", "1") and data.images.shape[-1] == 3
    assert fingerprint(spec(f"medmnist:{path}"), image_size=28) != fingerprint(
        spec(f"medmnist:{path}", splits=["test"]), image_size=28
    )


def test_multi_label_files_are_refused(tmp_path):
    path = _npz(tmp_path / "chestmnist.npz", labels_per_image=14)
    with pytest.raises(DataError, match="multi-label"):
        load_dataset(spec(f"medmnist:{path}"), image_size=28)


def test_missing_file_names_the_path(tmp_path):
    with pytest.raises(DataError, match=r"file '.*nope.npz' not found.*Real data"):
        load_dataset(spec(f"medmnist:{tmp_path / 'nope.npz'}"), image_size=28)
