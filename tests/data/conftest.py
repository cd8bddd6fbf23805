"""Fixtures for data sources: a private image cache, fresh per-process memos, and small
generated images written in each on-disk layout."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from bench.config.spec import DatasetSpec
from bench.data import sources


@pytest.fixture(autouse=True)
def private_cache(tmp_path: Path, monkeypatch) -> Path:
    """Every test gets its own image cache and starts from a cold process memo."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("BENCH_CACHE", str(folder))
    forget()
    yield folder
    forget()


def forget() -> None:
    """Drop what this process remembers about datasets, as a new run would start."""
    for memo in (sources._load, sources._fingerprint, sources._snapshot, sources.bare_layout):
        memo.cache_clear()


def picture(seed: int, *, width: int = 48, height: int = 40, channels: int = 3) -> np.ndarray:
    """A smooth image (a few soft blobs on a gradient): like photographs, unlike noise,
    it keeps its difference hash when rescaled."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width] / max(width, height)
    image = np.zeros((height, width, channels))
    for _ in range(3):
        cy, cx, spread = rng.uniform(0.1, 0.9), rng.uniform(0.1, 0.9), rng.uniform(0.05, 0.2)
        blob = np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * spread**2))
        image += blob[..., None] * rng.uniform(60, 160, channels)
    image += (x * rng.uniform(-60, 60))[..., None]
    return np.clip(image + 40, 0, 255).astype(np.uint8)


def save(path: Path, pixels: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels[..., 0] if pixels.shape[-1] == 1 else pixels).save(path)
    return path


def spec(source: str, name: str = "data", **options) -> DatasetSpec:
    """A dataset spec as the suite loader builds it (options sorted, lists as tuples)."""
    frozen = {k: tuple(v) if isinstance(v, list) else v for k, v in options.items()}
    return DatasetSpec(name=name, source=source, options=tuple(sorted(frozen.items())))


@pytest.fixture
def busi(tmp_path: Path) -> Path:
    """The BUSI release in miniature: three class folders, masks beside their images."""
    root = tmp_path / "busi" / "Dataset_BUSI_with_GT"
    for index, label in enumerate(("benign", "malignant", "normal")):
        for i in range(3):
            save(root / label / f"{label} ({i + 1}).png", picture(10 * index + i))
            save(root / label / f"{label} ({i + 1})_mask.png", np.zeros((40, 48, 1), np.uint8))
        save(root / label / f"{label} (1)_mask_1.png", np.zeros((40, 48, 1), np.uint8))
    return tmp_path / "busi"


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """Class folders with images at several depths and in every supported format."""
    root = tmp_path / "tree"
    save(root / "benign" / "a.png", picture(1))
    save(root / "benign" / "p1" / "40X" / "b.jpg", picture(2))
    save(root / "benign" / "p2" / "c.bmp", picture(3))
    save(root / "malignant" / "p3" / "40X" / "d.tif", picture(4))
    save(root / "malignant" / "e.png", picture(5))
    save(root / "malignant" / "p3" / "100X" / "f.png", picture(6))
    return root


@pytest.fixture
def manifest(tmp_path: Path) -> Path:
    """A CSV manifest with patients and fixed splits, images in a sub-folder."""
    root = tmp_path / "manifest"
    rows = ["path,label,patient,split"]
    for i in range(6):
        label = "benign" if i % 2 else "malignant"
        save(root / "images" / f"img{i}.png", picture(100 + i))
        rows.append(f"images/img{i}.png,{label},P{i // 2},{'test' if i >= 4 else 'train'}")
    (root / "labels.csv").write_text("\n".join(rows) + "\n")
    return root / "labels.csv"
