"""Bad input: every problem is one DataError line naming the file or key and the fix."""

import numpy as np
import pytest

from bench.data.sources import load_dataset
from bench.errors import DataError
from tests.data.conftest import picture, save, spec


def _error(source_spec) -> str:
    with pytest.raises(DataError) as caught:
        load_dataset(source_spec, image_size=16)
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_corrupt_image_names_the_file_and_both_fixes(tree):
    (tree / "benign" / "broken.png").write_bytes(b"not a png at all")
    message = _error(spec(f"folder:{tree}"))
    assert "broken.png': not an image Pillow can read" in message
    assert "replace or remove the file" in message and 'on_bad_image = "skip"' in message


def test_truncated_image_is_reported_and_others_counted(tree):
    whole = (tree / "benign" / "a.png").read_bytes()
    (tree / "benign" / "cut.png").write_bytes(whole[: len(whole) // 2])
    (tree / "malignant" / "junk.jpg").write_bytes(b"\xff\xd8\xff junk")
    message = _error(spec(f"folder:{tree}"))
    assert "cut.png': corrupt or truncated image" in message
    assert "1 more bad file(s), listed by `bench data inspect`" in message


def test_skip_leaves_bad_images_out_and_lists_them(tree):
    (tree / "benign" / "broken.png").write_bytes(b"not a png at all")
    data = load_dataset(spec(f"folder:{tree}", on_bad_image="skip"), image_size=16)
    assert len(data.ids) == 6
    assert [(s.path.endswith("broken.png"), "Pillow" in s.reason) for s in data.skipped] == [
        (True, True)
    ]


def test_empty_class_folder(tree):
    (tree / "normal").mkdir()
    message = _error(spec(f"folder:{tree}"))
    assert "class folder" in message and "normal' holds no images" in message
    assert "add images or remove the folder" in message


def test_wanted_class_without_images(tree):
    message = _error(spec(f"folder:{tree}", classes=["benign", "normal"]))
    assert "class 'normal' has no images" in message and "datasets.data.classes" in message


def test_class_emptied_by_skipping(tree):
    for path in (tree / "malignant").rglob("*.*"):
        path.write_bytes(b"garbage")
    message = _error(spec(f"folder:{tree}", on_bad_image="skip"))
    assert "class 'malignant' has no images left after skipping 3 bad file(s)" in message


def test_mixed_channel_counts(tree):
    save(tree / "benign" / "grey.png", picture(8, channels=1))
    message = _error(spec(f"folder:{tree}"))
    assert "mixed channel counts" in message and "grey.png' is greyscale" in message
    assert "datasets.data.channels = 1 or 3" in message
    data = load_dataset(spec(f"folder:{tree}", channels=3), image_size=16)
    assert data.images.shape == (7, 16, 16, 3)


def test_csv_label_without_file(manifest):
    (manifest.parent / "images" / "img3.png").unlink()
    message = _error(spec(f"csv:{manifest}"))
    assert "img3.png': labels.csv row 5 labels a file that does not exist" in message
    assert "add the file or remove the row" in message


def test_file_without_label(manifest):
    save(manifest.parent / "images" / "extra.png", picture(5))
    message = _error(spec(f"csv:{manifest}"))
    assert "extra.png': image file without a label (no row in labels.csv)" in message
    assert "add a row for it" in message


def test_image_outside_class_folders(tree):
    save(tree / "loose.png", picture(3))
    assert "loose.png': image outside any class folder" in _error(spec(f"folder:{tree}"))


def test_missing_column_names_the_key(manifest):
    message = _error(spec(f"csv:{manifest}", label_column="diagnosis"))
    assert "no column 'diagnosis'" in message and "set datasets.data.label_column" in message


def test_missing_folder_points_to_the_readme(tmp_path):
    message = _error(spec(f"folder:{tmp_path / 'data' / 'busi'}"))
    assert "not found" in message and "README 'Real data'" in message


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"resize": "crop"}, 'datasets.data.resize = "crop": use "stretch" or "pad"'),
        ({"channels": 2}, "datasets.data.channels = 2: use 1 or 3"),
        ({"on_bad_image": "ignore"}, 'use "error" or "skip"'),
        ({"tile": 4}, "tile side of at least 8 px"),
        ({"patient_pattern": "(unclosed"}, "not a valid regular expression"),
        ({"id_column": "image"}, "datasets.data.id_column does not apply to folder sources"),
    ],
)
def test_option_mistakes(tree, options, expected):
    assert expected in _error(spec(f"folder:{tree}", **options))


def test_synthetic_knobs_are_ignored_by_file_sources(tree):
    # a profile that swaps a synthetic source for files inherits these by the deep merge
    data = load_dataset(spec(f"folder:{tree}", samples_per_class=80, difficulty=0.6), image_size=16)
    assert len(data.ids) == 6


def test_unknown_source_kind_lists_the_kinds():
    message = _error(spec("zip:data/busi.zip"))
    assert '"folder:..."' in message and '"medmnist:..."' in message


def test_file_options_do_not_apply_to_synthetic_data():
    assert "does not apply to synthetic data" in _error(spec("synthetic:ultrasound", tile=16))


def test_images_are_uint8_even_from_palette_files(tmp_path):
    from PIL import Image

    image = Image.fromarray(picture(1)).convert("P")
    (tmp_path / "p" / "a").mkdir(parents=True)
    image.save(tmp_path / "p" / "a" / "palette.png")
    data = load_dataset(spec(f"folder:{tmp_path / 'p'}"), image_size=16)
    assert data.images.dtype == np.uint8 and data.images.shape[-1] == 3


def test_a_table_without_usable_rows(manifest):
    message = _error(spec(f"csv:{manifest}", splits=["validation"]))
    assert "no images to load" in message and "bench data inspect" in message
