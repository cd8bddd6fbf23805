"""The ``paper`` profiles of the shipped suites read real data laid out as the README says.

``README_LAYOUT`` repeats the README's table "What the shipped paper profiles read": when a
suite's paper profile points somewhere new, document the layout there and here.
"""

import re
from pathlib import Path

import pytest

from bench.config import load_suite
from bench.data.options import file_options
from bench.data.sources import KINDS, load_dataset
from tests.data.conftest import picture, save

SUITES = Path(__file__).parents[2] / "suites"
README_LAYOUT = {  # (suite, dataset) -> (folder, class sub-folders)
    ("ultrasound", "ultrasound"): ("data/busi", ("benign", "malignant", "normal")),
    ("ultrasound", "cells"): ("data/cells", ("round", "spindle", "clustered")),
    ("skin", "dermoscopy"): ("data/isic", ("nevus", "melanoma")),
    ("skin", "clinic_a"): ("data/pool-a", ("all",)),
    ("skin", "clinic_b"): ("data/pool-b", ("all",)),
    ("breast-histology", "histology"): ("data/bach", ("Benign", "InSitu", "Invasive", "Normal")),
    ("breast-histology", "cells"): ("data/cells", ("round", "spindle", "clustered")),
    ("lin-ghanta", "skin"): ("data/isic-skin", ("benign", "malignant")),
}
README_TABLES = {  # (suite, dataset) -> (table, image folders beside it): HAM10000 as downloaded
    ("johri", "lesions"): (
        "data/ham10000/HAM10000_metadata.csv",
        ("HAM10000_images_part_1", "HAM10000_images_part_2"),
    ),
}


def _paper_datasets():
    for path in sorted(SUITES.glob("*.toml")):
        if re.search(r"^\[profiles\.paper", path.read_text(), re.MULTILINE):
            suite = load_suite(path, profile="paper")
            for spec in suite.datasets.values():
                if spec.kind != "synthetic":
                    yield pytest.param(path, spec, id=f"{path.stem}-{spec.name}")


@pytest.mark.parametrize(("path", "spec"), list(_paper_datasets()))
def test_paper_dataset_reads_the_layout_the_readme_gives(path, spec, tmp_path, monkeypatch):
    file_options(spec)  # raises DataError for a key or value the source does not take
    assert spec.kind in KINDS
    key = (path.stem, spec.name)
    if key in README_TABLES:
        return _check_table_layout(path, spec, tmp_path, monkeypatch)
    assert key in README_LAYOUT, f"document where {key} goes in README 'Real data' and here"
    folder, classes = README_LAYOUT[key]
    assert spec.location == folder
    side = spec.option("tile") or 48  # one tile per picture when the profile tiles
    for index, name in enumerate(classes):
        for i in range(2):
            image = picture(10 * index + i, width=side, height=side)
            save(tmp_path / folder / name / f"{name}_{i}.png", image)
            save(tmp_path / folder / name / f"{name}_{i}_mask.png", picture(0, channels=1))
    monkeypatch.chdir(tmp_path)
    suite = load_suite(path, profile="paper")
    data = load_dataset(suite.datasets[spec.name], image_size=suite.image_size)
    wanted = dict(spec.options).get("classes") or classes
    assert sorted(data.class_names) == sorted(wanted)
    assert data.images.shape == (2 * len(wanted), suite.image_size, suite.image_size, 3)


def _check_table_layout(path, spec, tmp_path, monkeypatch):
    """A HAM10000-style table (image_id, dx, lesion_id) with its images in two folders."""
    table, folders = README_TABLES[(path.stem, spec.name)]
    assert spec.source == f"isic:{table}"
    classes = spec.option("classes")
    rows = ["lesion_id,image_id,dx"]
    for index, name in enumerate(classes):
        for i in range(2):
            image_id = f"ISIC_{10 * index + i:07d}"
            folder = tmp_path / Path(table).parent / folders[i]
            save(folder / f"{image_id}.jpg", picture(10 * index + i))
            rows.append(f"HAM_{index:03d},{image_id},{name}")
    (tmp_path / table).write_text("\n".join(rows) + "\n")
    monkeypatch.chdir(tmp_path)
    suite = load_suite(path, profile="paper")
    data = load_dataset(suite.datasets[spec.name], image_size=suite.image_size)
    assert data.class_names == tuple(classes)
    assert data.images.shape == (2 * len(classes), suite.image_size, suite.image_size, 3)
    assert len(set(data.groups)) == len(classes)  # one lesion per class: grouped by lesion_id
