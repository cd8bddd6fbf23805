"""Bad files get one line naming the file and what to do: suite files that are not text,
images without pixels or with too many, and image-cache files bench did not write."""

import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from bench.cli import main
from bench.data.sources import load_dataset
from bench.errors import DataError
from tests.data.conftest import forget, spec


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def zero_by_zero_png() -> bytes:
    header = struct.pack(">IIBBBBB", 0, 0, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + b"".join(
        _png_chunk(kind, data)
        for kind, data in ((b"IHDR", header), (b"IDAT", zlib.compress(b"")), (b"IEND", b""))
    )


def _load_error(source) -> str:
    with pytest.raises(DataError) as caught:
        load_dataset(source, image_size=16)
    assert "\n" not in str(caught.value)
    return str(caught.value)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (bytes(range(256)) * 4, "not a text file (byte 128 is not UTF-8); give a suite TOML file"),
        (b"", "the file is empty"),
        (b"  \n\n", "the file is empty"),
    ],
    ids=["binary", "empty", "blank"],
)
def test_suite_file_that_is_not_a_suite(capsys, tmp_path, content, message):
    path = tmp_path / "suite.toml"
    path.write_bytes(content)
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"bench: error: {path}: {message}")
    assert err.count("\n") == 1 and "Traceback" not in err


def test_suite_path_that_is_a_folder(capsys, tmp_path):
    assert main(["run", str(tmp_path), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err == f"bench: error: {tmp_path}: is a folder; give a suite TOML file, e.g. " + (
        "suites/ultrasound.toml\n"
    )


def test_image_without_pixels(tree):
    (tree / "benign" / "empty.png").write_bytes(zero_by_zero_png())
    message = _load_error(spec(f"folder:{tree}"))
    assert "empty.png': not an image Pillow can read" in message


def test_decompression_bomb(tree, monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # 48 x 40 px files stay below 2x
    Image.new("L", (100, 100)).save(tree / "malignant" / "bomb.png")
    message = _load_error(spec(f"folder:{tree}"))
    assert "bomb.png': more pixels than Pillow decodes safely (Image size (10000 pixels)" in message
    assert 'on_bad_image = "skip"' in message


@pytest.mark.parametrize("damage", ["truncated", "foreign"])
def test_damaged_cache_files_are_rebuilt_with_a_line(capsys, tree, private_cache, damage):
    first = np.array(load_dataset(spec(f"folder:{tree}"), image_size=16).images)
    # two per-file entries and the dataset file they are stacked into
    entries = [*sorted(private_cache.rglob("*.u8"))[:2], *private_cache.rglob("*.pixels")]
    for entry in entries:
        data = entry.read_bytes()
        # a foreign file of the same length: right size, no marker
        entry.write_bytes(data[:10] if damage == "truncated" else bytes(len(data)))
    forget()
    capsys.readouterr()
    second = load_dataset(spec(f"folder:{tree}"), image_size=16)
    np.testing.assert_array_equal(first, second.images)
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "bench: 3 image-cache file(s) under" in err
    assert "were truncated or not written by bench; decoding those images again" in err
    forget()
    load_dataset(spec(f"folder:{tree}"), image_size=16)
    assert capsys.readouterr().err == ""  # rewritten: read from the cache again
