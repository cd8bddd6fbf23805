"""Image trees: class folders at any depth, the BUSI release with its masks, unlabelled pools."""

import numpy as np
import pytest

from bench.data.reader import FileImageSet
from bench.data.sources import load_dataset
from bench.errors import DataError
from tests.data.conftest import picture, save, spec


def test_class_folders_at_any_depth_in_every_format(tree):
    data = load_dataset(spec(f"folder:{tree}"), image_size=16)
    assert isinstance(data, FileImageSet)
    assert data.class_names == ("benign", "malignant")
    assert data.ids.tolist() == [
        "benign/a.png",
        "benign/p1/40X/b.jpg",
        "benign/p2/c.bmp",
        "malignant/e.png",
        "malignant/p3/100X/f.png",
        "malignant/p3/40X/d.tif",
    ]
    assert data.labels.tolist() == [0, 0, 0, 1, 1, 1]
    assert data.images.shape == (6, 16, 16, 3) and data.images.dtype == np.uint8
    assert (data.groups == data.ids).all()  # no patients named: one group per image
    assert "one group per image" in data.grouping


def test_classes_choose_and_order_the_labels(tree):
    data = load_dataset(spec(f"folder:{tree}", classes=["malignant", "benign"]), image_size=16)
    assert data.class_names == ("malignant", "benign")
    assert data.labels.tolist() == [1, 1, 1, 0, 0, 0]


def test_patient_pattern_and_include_select_by_path(tree):
    data = load_dataset(
        spec(f"folder:{tree}", patient_pattern=r"/(p\d)/", include="*/40X/*"), image_size=16
    )
    assert data.ids.tolist() == ["benign/p1/40X/b.jpg", "malignant/p3/40X/d.tif"]
    assert data.groups.tolist() == ["p1", "p3"]
    assert "patient_pattern" in data.grouping


def test_busi_masks_are_not_samples(busi):
    data = load_dataset(spec(f"busi:{busi}"), image_size=16)
    assert data.class_names == ("benign", "malignant", "normal")
    assert len(data.ids) == 9
    assert not any("_mask" in i for i in data.ids)


def test_folder_source_also_skips_masks_and_takes_the_paper_classes(busi):
    root = busi / "Dataset_BUSI_with_GT"
    data = load_dataset(spec(f"folder:{root}", classes=["benign", "malignant"]), image_size=16)
    assert data.labels.tolist() == [0, 0, 0, 1, 1, 1]
    assert not any("_mask" in i for i in data.ids)


def test_busi_ignores_other_folders_and_needs_its_classes(busi, tmp_path):
    save(busi / "Dataset_BUSI_with_GT" / "notes" / "x.png", picture(9))
    assert load_dataset(spec(f"busi:{busi}"), image_size=16).class_names[-1] == "normal"
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="no benign/, malignant/ or normal/ folder"):
        load_dataset(spec(f"busi:{tmp_path / 'empty'}"), image_size=16)


def test_pool_labels_are_origins(tmp_path):
    root = tmp_path / "scanners"
    save(root / "ge" / "a.png", picture(1))
    save(root / "ge" / "deeper" / "b.png", picture(2))
    save(root / "siemens" / "c.png", picture(3))
    save(root / "d.png", picture(4))
    data = load_dataset(spec(f"pool:{root}"), image_size=16)
    assert data.class_names == ("ge", "scanners", "siemens")
    assert dict(zip(data.ids.tolist(), data.labels.tolist())) == {
        "ge/a.png": 0,
        "ge/deeper/b.png": 0,
        "d.png": 1,
        "siemens/c.png": 2,
    }


def test_hidden_files_and_zip_debris_are_ignored(tree):
    (tree / "benign" / "._a.png").write_bytes(b"AppleDouble")
    (tree / "__MACOSX" / "benign").mkdir(parents=True)
    (tree / "__MACOSX" / "benign" / "._a.png").write_bytes(b"AppleDouble")
    (tree / "benign" / "notes.txt").write_text("not an image")
    data = load_dataset(spec(f"folder:{tree}"), image_size=16)
    assert len(data.ids) == 6 and data.class_names == ("benign", "malignant")


def test_breakhis_patients_and_magnification_as_the_readme_says(tmp_path):
    root = tmp_path / "BreaKHis_v1" / "histology_slides" / "breast"
    slides = [
        ("benign", "adenosis", "SOB_B_A_14-22549AB", "SOB_B_A-14-22549AB"),
        ("malignant", "ductal_carcinoma", "SOB_M_DC_14-2523", "SOB_M_DC-14-2523"),
    ]
    for i, (label, kind, folder, stem) in enumerate(slides):
        for zoom in ("40", "100"):
            for n in (1, 2):
                path = (
                    root / label / "SOB" / kind / folder / f"{zoom}X" / f"{stem}-{zoom}-00{n}.png"
                )
                save(path, picture(10 * i + n))
    data = load_dataset(
        spec(
            f"folder:{root}",
            patient_pattern=r"SOB_[BM]_[A-Z]+-(\d+-\w+)-\d+-\d+",
            include="*/40X/*",
        ),
        image_size=16,
    )
    assert data.groups.tolist() == ["14-22549AB"] * 2 + ["14-2523"] * 2
    assert all("/40X/" in i for i in data.ids)
