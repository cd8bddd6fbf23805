"""K-means lesion segmentation: the mask finds a dark lesion on skin, crops hold it, images
without a lesion pass unchanged, and segmentation is part of the cache key and identity."""

from dataclasses import replace

import numpy as np
import pytest

from bench.data.segment import crop_box, lesion_mask, segment
from bench.data.sources import fingerprint, load_dataset
from bench.data.transform import Preprocessing, prepare
from bench.hashing import content_hash
from tests.data.conftest import save, spec


def _dermoscopy_like(height=90, width=120, *, seed=0):
    """Bright skin with noise, a dark oval lesion off-centre, a hair across it and the
    black corners of a dermatoscope; returns the image and the true lesion mask."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    lesion = ((x - 70) / 22.0) ** 2 + ((y - 40) / 16.0) ** 2 <= 1
    skin = np.array([225, 180, 160]) + rng.normal(0, 6, (height, width, 3))
    image = np.where(lesion[..., None], np.array([90, 55, 40]), skin)
    hair = np.abs(y - (0.3 * x + 10)) < 1
    image[hair] = [40, 30, 20]
    corners = np.hypot((x - width / 2) / (width / 2), (y - height / 2) / (height / 2)) > 1.3
    image[corners] = 0
    return np.clip(image, 0, 255).astype(np.uint8), lesion


def _iou(a, b):
    return (a & b).sum() / (a | b).sum()


def test_the_mask_covers_the_lesion_not_the_hair_or_the_corners():
    image, lesion = _dermoscopy_like()
    mask = lesion_mask(image)
    assert mask.shape == lesion.shape and _iou(mask, lesion) > 0.9


def test_large_images_are_clustered_on_a_small_copy_and_the_mask_scaled_back():
    image, lesion = _dermoscopy_like()
    big = np.repeat(np.repeat(image, 4, axis=0), 4, axis=1)  # 360 x 480
    mask = lesion_mask(big)
    truth = np.repeat(np.repeat(lesion, 4, axis=0), 4, axis=1)
    assert mask.shape == truth.shape and _iou(mask, truth) > 0.85


def test_mask_output_blanks_everything_but_the_lesion():
    image, _ = _dermoscopy_like()
    out = segment(image, output="mask")
    mask = lesion_mask(image)
    assert out.shape == image.shape
    assert (out[~mask] == 0).all() and np.array_equal(out[mask], image[mask])


def test_crop_is_a_square_around_the_lesion_with_a_margin():
    image, lesion = _dermoscopy_like()
    mask = lesion_mask(image)
    top, bottom, left, right = crop_box(mask)
    width = np.ptp(np.flatnonzero(mask.any(0))) + 1  # the lesion is wider than tall
    assert 42 <= width <= 45 and bottom - top == right - left == round(width * 1.2)
    rows, columns = np.flatnonzero(lesion.any(1)), np.flatnonzero(lesion.any(0))
    assert top <= rows[0] and rows[-1] < bottom and left <= columns[0] and columns[-1] < right
    out = segment(image, output="crop")
    assert np.array_equal(out, image[top:bottom, left:right])


def test_a_crop_near_the_edge_moves_inside_the_image():
    mask = np.zeros((40, 60), bool)
    mask[2:30, 45:58] = True
    top, bottom, left, right = crop_box(mask)
    assert (top, bottom) == (0, 34) and (left, right) == (26, 60)


@pytest.mark.parametrize("output", ["mask", "crop"])
def test_images_without_a_lesion_pass_unchanged(output):
    uniform = np.full((32, 32, 3), 200, np.uint8)
    noisy = np.clip(200 + np.random.default_rng(0).normal(0, 2, (32, 32, 3)), 0, 255)
    for image in (uniform, noisy.astype(np.uint8), np.zeros((1, 1, 3), np.uint8)):
        assert lesion_mask(image) is None
        assert segment(image, output=output) is image


def test_segmentation_is_deterministic_and_grey_images_work():
    image, lesion = _dermoscopy_like()
    grey = image.mean(-1, keepdims=True).astype(np.uint8)
    first, second = lesion_mask(grey), lesion_mask(grey)
    assert np.array_equal(first, second) and _iou(first, lesion) > 0.9


def test_prepare_crops_before_resizing_and_decodes_at_full_size():
    image, _ = _dermoscopy_like()
    prep = Preprocessing(image_size=32, segment="kmeans", segment_output="crop")
    assert prepare(image, prep).shape == (1, 32, 32, 3)
    assert prep.decode_at_least is None and Preprocessing(image_size=32).decode_at_least == 32


def test_segmentation_enters_the_cache_key_only_when_on():
    plain = Preprocessing(image_size=32)
    # the hash data without segmentation had before it existed
    assert content_hash(plain.identity) == content_hash(
        {"image_size": 32, "resize": "stretch", "channels": None, "tile": None}
    )
    keys = {
        content_hash(replace(plain, segment="kmeans", segment_output=o).identity)
        for o in ("mask", "crop")
    }
    assert len(keys | {content_hash(plain.identity)}) == 3


def test_a_segmented_folder_dataset_is_cached_and_fingerprinted_apart(tmp_path):
    for label in ("nevus", "melanoma"):
        for i in range(2):
            save(tmp_path / "skin" / label / f"{i}.png", _dermoscopy_like(seed=i)[0])
    source = spec(f"folder:{tmp_path / 'skin'}")
    segmented = replace(source, segment="kmeans", segment_output="mask")
    plain, masked = (load_dataset(s, image_size=32) for s in (source, segmented))
    assert (masked.images[:, 0, 0] == 0).all() and (plain.images[:, 16, 4] > 150).all()
    assert (masked.images[:, 16, 4] == 0).all()  # skin left of the lesion is blanked
    assert fingerprint(source, image_size=32) != fingerprint(segmented, image_size=32)


def test_a_segmented_synthetic_dataset_differs_in_pixels_and_fingerprint():
    source = spec("synthetic:dermoscopy8", samples_per_class=3, classes=["nv", "mel"])
    cropped = replace(source, segment="kmeans", segment_output="crop")
    plain, crop = (load_dataset(s, image_size=48) for s in (source, cropped))
    assert crop.images.shape == plain.images.shape and not np.array_equal(crop.images, plain.images)
    np.testing.assert_array_equal(crop.labels, plain.labels)
    assert fingerprint(source, image_size=48) != fingerprint(cropped, image_size=48)
