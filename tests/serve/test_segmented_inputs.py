"""A model trained on segmented images gets new images segmented the same way."""

from dataclasses import replace

import numpy as np
import pytest

from bench.data.sources import load_dataset
from bench.serve.images import read_image
from tests.data.conftest import save, spec
from tests.data.test_segment import _dermoscopy_like


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("BENCH_CACHE", str(tmp_path / "cache"))


@pytest.mark.parametrize("output", ["mask", "crop"])
def test_read_image_segments_as_the_dataset_loader_does(tmp_path, output):
    for label in ("nevus", "melanoma"):
        save(tmp_path / "skin" / label / "a.png", _dermoscopy_like(seed=len(label))[0])
    source = replace(spec(f"folder:{tmp_path / 'skin'}"), segment="kmeans", segment_output=output)
    loaded = load_dataset(source, image_size=32)
    for sample, image in zip(loaded.ids, loaded.images, strict=True):
        path = tmp_path / "skin" / sample
        read = read_image(path, size=32, segmentation=("kmeans", output))
        np.testing.assert_array_equal(read, image)
    plain = read_image(tmp_path / "skin" / loaded.ids[0], size=32)
    assert not np.array_equal(plain, loaded.images[0])


def test_metadata_without_segmentation_reads_unsegmented(exported):
    from bench.serve.bundle import load_bundle

    meta = load_bundle(exported.fold_model).metadata
    assert meta.segment == "none" and meta.segmentation is None
