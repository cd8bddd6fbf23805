"""Preprocessing: stretch or pad, grey <-> RGB, tiles that share their image's group."""

import numpy as np
import pytest

from bench.data.decode import BadImage
from bench.data.sources import load_dataset
from bench.data.transform import Preprocessing, prepare, resize, set_channels, tiles
from bench.errors import DataError
from tests.data.conftest import picture, save, spec

WIDE = np.full((20, 40, 3), 200, dtype=np.uint8)  # twice as wide as tall, light grey


def test_stretch_fills_the_square_and_pad_keeps_the_aspect_ratio():
    stretched = resize(WIDE, 16, how="stretch")
    padded = resize(WIDE, 16, how="pad")
    assert stretched.shape == padded.shape == (16, 16, 3)
    assert (stretched == 200).all()
    assert (padded[4:12] == 200).all()  # the image: 16 x 8, centred
    assert (padded[:4] == 0).all() and (padded[12:] == 0).all()  # black bars above, below


def test_channels_convert_both_ways():
    colour = np.zeros((4, 4, 3), np.uint8)
    colour[..., 1] = 100  # pure green: luma 0.587 * 100
    assert set_channels(colour, 1).shape == (4, 4, 1)
    assert (set_channels(colour, 1) == 59).all()
    grey = np.full((4, 4, 1), 7, np.uint8)
    assert (set_channels(grey, 3) == 7).all() and set_channels(grey, 3).shape == (4, 4, 3)
    assert set_channels(grey, None) is grey


def test_tiles_cover_whole_tiles_row_by_row():
    image = np.arange(50 * 70, dtype=np.uint32).reshape(50, 70, 1)
    pieces = tiles(image, 20)
    assert len(pieces) == 2 * 3  # the 10 px strip at the bottom and right is dropped
    assert pieces[1][0, 0, 0] == image[0, 20, 0] and pieces[3][0, 0, 0] == image[20, 0, 0]
    with pytest.raises(BadImage, match="smaller than one tile of 64 px"):
        tiles(image, 64)


def test_prepare_gives_samples_per_tile():
    samples = prepare(picture(1, width=64, height=32), Preprocessing(image_size=8, tile=16))
    assert samples.shape == (8, 8, 8, 3)


def test_tiled_dataset_keeps_each_image_in_one_group(tmp_path):
    save(tmp_path / "h" / "benign" / "b001.tif", picture(1, width=60, height=40))
    save(tmp_path / "h" / "invasive" / "iv001.tif", picture(2, width=60, height=40))
    data = load_dataset(spec(f"folder:{tmp_path / 'h'}", tile=20, channels=1), image_size=8)
    assert data.images.shape == (12, 8, 8, 1)
    assert data.ids.tolist()[:2] == ["benign/b001.tif#0", "benign/b001.tif#1"]
    assert data.groups.tolist() == ["benign/b001.tif"] * 6 + ["invasive/iv001.tif"] * 6
    assert len(set(data.digests[:6])) == 1


def test_image_smaller_than_a_tile_is_a_bad_image(tmp_path):
    save(tmp_path / "h" / "a" / "big.png", picture(1, width=64, height=64))
    save(tmp_path / "h" / "a" / "small.png", picture(2, width=30, height=64))
    with pytest.raises(DataError, match=r"small.png': image is 30x64 px, smaller than one tile"):
        load_dataset(spec(f"folder:{tmp_path / 'h'}", tile=32), image_size=8)
    data = load_dataset(
        spec(f"folder:{tmp_path / 'h'}", tile=32, on_bad_image="skip"), image_size=8
    )
    assert len(data.ids) == 4 and data.skipped[0].path.endswith("small.png")


def test_sixteen_bit_images_are_stretched_to_eight_bits(tmp_path):
    from PIL import Image

    ramp = (np.arange(16 * 16).reshape(16, 16) * 8 + 1000).astype(np.uint16)  # 12-bit data
    (tmp_path / "x" / "a").mkdir(parents=True)
    Image.fromarray(ramp).save(tmp_path / "x" / "a" / "ramp.png")
    data = load_dataset(spec(f"folder:{tmp_path / 'x'}"), image_size=16)
    assert data.images.shape == (1, 16, 16, 1)
    assert data.images.min() == 0 and data.images.max() == 255
