"""``bench predict`` and image reading: training's reading steps, CSV out, one-line errors."""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest
from PIL import Image

from bench.cli import main
from bench.serve.images import ImageError, decode_image, image_files
from tests.serve.conftest import png_bytes


def test_greyscale_becomes_rgb_and_other_sizes_are_resized_bilinearly():
    grey = np.arange(64, dtype=np.uint8).reshape(8, 8) * 4
    decoded = decode_image(png_bytes(grey), size=8)
    assert decoded.shape == (8, 8, 3) and (decoded == grey[..., None]).all()
    bigger = decode_image(png_bytes(grey), size=16)
    expected = np.asarray(Image.fromarray(grey).convert("RGB").resize((16, 16), Image.BILINEAR))
    np.testing.assert_array_equal(bigger, expected)


def test_a_file_that_is_not_an_image_is_named():
    with pytest.raises(ImageError, match=r"scan\.png: not a readable image"):
        decode_image(b"\x89PNG broken", size=16, name="scan.png")


def test_folders_are_searched_and_masks_skipped(tmp_path):
    (tmp_path / "a").mkdir()
    for name in ("a/1.png", "a/1_mask.png", "2.jpg"):
        Image.new("L", (4, 4)).save(tmp_path / name)
    (tmp_path / "notes.txt").write_text("not an image")
    assert image_files([tmp_path]) == [tmp_path / "2.jpg", tmp_path / "a" / "1.png"]
    assert image_files([tmp_path / "a" / "1_mask.png"]) == [tmp_path / "a" / "1_mask.png"]
    with pytest.raises(ImageError, match=r"missing\.png: no such file"):
        image_files([tmp_path / "missing.png"])


def test_predict_writes_csv_to_stdout(exported, capsys):
    files = sorted(exported.images.iterdir())[:2]
    assert main(["predict", str(exported.fold_model), *map(str, files)]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [r["path"] for r in rows] == [str(f) for f in files]
    assert set(rows[0]) == {"path", "label", "p_benign", "p_malignant"}
    for row in rows:
        assert float(row["p_benign"]) + float(row["p_malignant"]) == pytest.approx(1, abs=1e-6)


def test_predict_names_an_unreadable_image(exported, tmp_path, capsys):
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"not a png")
    assert main(["predict", str(exported.fold_model), str(bad)]) == 2
    error = capsys.readouterr().err.strip()
    assert error == f"bench: error: {bad}: not a readable image (unrecognised format)"


def test_predict_without_an_export_says_how_to_make_one(tmp_path, capsys):
    assert main(["predict", str(tmp_path), "x.png"]) == 2
    assert "no exported model (model.keras missing)" in capsys.readouterr().err
