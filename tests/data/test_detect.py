"""Bare paths: the layout of a plain file or folder is detected and named; a prefix forces one."""

import numpy as np
import pytest

from bench.cli import main
from bench.config import load_suite
from bench.data.detect import detect_layout
from bench.data.inspection import inspect_source
from bench.data.sources import load_dataset
from bench.errors import DataError
from tests.data.conftest import picture, save, spec


def test_busi_archive_folder(busi):
    layout = detect_layout(str(busi))
    assert layout.source == f"busi:{busi}"
    assert "Dataset_BUSI_with_GT/" in layout.reason


def test_busi_class_folders_with_masks(busi):
    inner = busi / "Dataset_BUSI_with_GT"
    layout = detect_layout(str(inner))
    assert layout.source == f"busi:{inner}"
    assert "(benign, malignant, normal) with *_mask files" in layout.reason


def test_class_folders(tree):
    layout = detect_layout(str(tree))
    assert (layout.source, layout.reason) == (
        f"folder:{tree}",
        "2 class sub-folders: benign, malignant",
    )


def test_csv_manifest_beside_its_images(manifest):
    layout = detect_layout(str(manifest.parent))
    assert layout.source == f"csv:{manifest}"
    assert layout.reason == (
        "the only CSV file in the folder; a CSV manifest with columns path, label, patient, split"
    )
    assert detect_layout(str(manifest)).source == f"csv:{manifest}"


def test_isic_table_and_medmnist_arrays(tmp_path):
    table = tmp_path / "GroundTruth.csv"
    table.write_text("image,MEL,NV\nISIC_1,1,0\n")
    arrays = tmp_path / "breastmnist.npz"
    np.savez(arrays, train_images=np.zeros((1, 28, 28), np.uint8))
    assert detect_layout(str(table)).source == f"isic:{table}"
    assert detect_layout(str(arrays)).source == f"medmnist:{arrays}"


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda root: root / "missing", "no such file or folder"),
        (lambda root: root, "no layout found (no sub-folder with images)"),
        (lambda root: (root / "notes.txt").write_text("x") and root / "notes.txt", "a .txt file"),
    ],
    ids=["missing", "empty", "text-file"],
)
def test_no_layout_is_one_line(tmp_path, make, message):
    folder = tmp_path / "data"
    folder.mkdir()
    with pytest.raises(DataError, match=r"prefix|give an existing path") as caught:
        detect_layout(str(make(folder)))
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_bare_path_loads_like_its_prefix(busi):
    bare = load_dataset(spec(str(busi)), image_size=16)
    prefixed = load_dataset(spec(f"busi:{busi}"), image_size=16)
    np.testing.assert_array_equal(bare.images, prefixed.images)
    assert bare.class_names == ("benign", "malignant", "normal")


def test_a_prefix_forces_its_layout(busi):
    inner = busi / "Dataset_BUSI_with_GT"
    save(inner / "extra" / "x.png", picture(99))  # a folder BUSI does not know
    assert detect_layout(str(inner)).source == f"folder:{inner}"  # no longer only BUSI classes
    assert load_dataset(spec(f"busi:{inner}"), image_size=16).class_names == (
        "benign",
        "malignant",
        "normal",
    )


def test_inspect_a_bare_busi_folder_counts_images_not_masks(capsys, busi):
    broken = busi / "Dataset_BUSI_with_GT" / "benign" / "broken.png"
    broken.write_bytes(b"not a png")
    inspection = inspect_source(spec(str(busi)))
    assert len(inspection.observations) == 10  # 9 images and the unreadable one, no mask
    assert main(["data", "inspect", str(busi)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"busi:{busi}: 10 images in 3 classes\n")
    assert "layout: busi (holds Dataset_BUSI_with_GT/, the unzipped BUSI release)" in out
    assert "ignored: 12 segmentation masks (*_mask*)" in out
    assert f"{broken}  (not an image Pillow can read" in out


def test_suite_source_as_a_bare_path(capsys, write_suite, busi):
    path = write_suite(
        replace={
            'source = "synthetic:ultrasound"\nclasses = ["benign", "malignant"]': (
                f'source = "{busi}"\nclasses = ["benign", "malignant"]'
            ),
            "folds = 3": "folds = 2",
        }
    )
    assert main(["validate", str(path)]) == 0
    out = capsys.readouterr().out
    assert f"{busi}: 6 images" in out
    assert "layout: busi (holds Dataset_BUSI_with_GT/" in out
    assert load_suite(path).datasets["target"].source == str(busi)  # the suite keeps its text
