"""CSV manifests and ISIC-style tables: labels, patients, fixed splits, rows against files."""

import pytest

from bench.data.sources import load_dataset, skipped_files
from bench.errors import DataError
from tests.data.conftest import picture, save, spec


def test_manifest_gives_labels_patients_and_splits(manifest):
    data = load_dataset(spec(f"csv:{manifest}"), image_size=16)
    assert data.class_names == ("benign", "malignant")
    assert data.ids.tolist() == [f"images/img{i}.png" for i in range(6)]
    assert data.labels.tolist() == [1, 0, 1, 0, 1, 0]
    assert data.groups.tolist() == ["P0", "P0", "P1", "P1", "P2", "P2"]
    assert data.splits.tolist() == ["train"] * 4 + ["test"] * 2
    assert data.grouping == "patients from column 'patient'"


def test_manifest_splits_keep_some_rows(manifest):
    data = load_dataset(spec(f"csv:{manifest}", splits=["test"]), image_size=16)
    assert data.ids.tolist() == ["images/img4.png", "images/img5.png"]


def test_manifest_columns_can_be_renamed(tmp_path):
    save(tmp_path / "pics" / "a.png", picture(1))
    save(tmp_path / "pics" / "b.png", picture(2))
    table = tmp_path / "t.csv"
    table.write_text("file\tdiagnosis\nA.png\tx\nb.png\ty\n".replace("A", "a"))
    data = load_dataset(
        spec(f"csv:{table}", path_column="file", label_column="diagnosis", images="pics"),
        image_size=16,
    )
    assert data.ids.tolist() == ["a.png", "b.png"] and data.splits is None


def test_label_without_file_and_file_without_label_are_skipped_and_reported(manifest):
    (manifest.parent / "images" / "img0.png").unlink()
    save(manifest.parent / "images" / "stray.png", picture(7))
    data = load_dataset(spec(f"csv:{manifest}", on_bad_image="skip"), image_size=16)
    assert len(data.ids) == 5
    reasons = {s.path.split("/")[-1]: s.reason for s in data.skipped}
    assert "does not exist" in reasons["img0.png"] and "row 2" in reasons["img0.png"]
    assert "without a label" in reasons["stray.png"]
    assert skipped_files(spec(f"csv:{manifest}", on_bad_image="skip"), image_size=16) == (
        data.skipped
    )


def test_isic_one_hot_ground_truth_with_lesion_metadata(tmp_path):
    root = tmp_path / "isic2019"
    gt = ["image,MEL,NV,BCC,UNK"]
    meta = ["image,age_approx,lesion_id"]
    for i, one_hot in enumerate(["1.0,0.0,0.0,0.0", "0.0,1.0,0.0,0.0", "0.0,0.0,1.0,0.0"] * 2):
        save(root / "ISIC_2019_Training_Input" / f"ISIC_{i:07d}.jpg", picture(i))
        gt.append(f"ISIC_{i:07d},{one_hot}")
        meta.append(f"ISIC_{i:07d},45,L{i % 3}")
    (root / "gt.csv").write_text("\n".join(gt) + "\n")
    (root / "meta.csv").write_text("\n".join(meta) + "\n")
    data = load_dataset(
        spec(f"isic:{root / 'gt.csv'}", images="ISIC_2019_Training_Input", metadata="meta.csv"),
        image_size=16,
    )
    assert data.class_names == ("BCC", "MEL", "NV")  # UNK has no member: not a class
    assert data.ids.tolist()[:2] == ["ISIC_0000000", "ISIC_0000001"]
    assert data.labels.tolist() == [1, 2, 0, 1, 2, 0]
    assert data.groups.tolist() == ["L0", "L1", "L2", "L0", "L1", "L2"]
    assert data.grouping == "patients from column 'lesion_id'"


def test_ham10000_metadata_table_is_an_isic_source(tmp_path):
    root = tmp_path / "ham"
    rows = ["lesion_id,image_id,dx,dx_type,age,sex,localization"]
    for i in range(4):
        part = "HAM10000_images_part_1" if i < 2 else "HAM10000_images_part_2"
        save(root / part / f"ISIC_{i:07d}.jpg", picture(i))
        rows.append(f"HAM_{i // 2},ISIC_{i:07d},{'mel' if i % 2 else 'nv'},histo,50,male,back")
    (root / "HAM10000_metadata.csv").write_text("\n".join(rows) + "\n")
    data = load_dataset(spec(f"isic:{root / 'HAM10000_metadata.csv'}"), image_size=16)
    assert data.class_names == ("mel", "nv")
    assert data.groups.tolist() == ["HAM_0", "HAM_0", "HAM_1", "HAM_1"]


def test_isic_2020_uses_benign_malignant_and_patient_id(tmp_path):
    rows = ["image_name,patient_id,lesion_id,diagnosis,benign_malignant,target"]
    for i in range(4):
        save(tmp_path / "train" / f"ISIC_{i}.jpg", picture(i))
        label = "malignant" if i == 3 else "benign"
        rows.append(f"ISIC_{i},IP_{i // 2},L{i},unknown,{label},{int(i == 3)}")
    (tmp_path / "train.csv").write_text("\n".join(rows) + "\n")
    data = load_dataset(spec(f"isic:{tmp_path / 'train.csv'}", images="train"), image_size=16)
    assert data.class_names == ("benign", "malignant")
    assert data.groups.tolist() == ["IP_0", "IP_0", "IP_1", "IP_1"]


def test_repeated_rows_are_refused(manifest):
    text = manifest.read_text()
    manifest.write_text(text + text.splitlines()[1] + "\n")
    with pytest.raises(DataError, match=r"'images/img0\.png' is listed twice"):
        load_dataset(spec(f"csv:{manifest}"), image_size=16)
