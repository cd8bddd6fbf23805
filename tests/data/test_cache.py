"""The on-disk image cache and the dataset fingerprint."""

import numpy as np
import pytest

from bench.data import decode
from bench.data.sources import fingerprint, load_dataset
from tests.data.conftest import forget, picture, save, spec


@pytest.fixture
def decodes(monkeypatch) -> list:
    """Records one item per image the loader actually decodes."""
    calls = []
    real = decode.decode_image

    def counting(data, **kwargs):
        calls.append(len(data))
        return real(data, **kwargs)

    monkeypatch.setattr(decode, "decode_image", counting)
    return calls


def test_second_load_reads_the_cache_not_the_decoder(tree, decodes, private_cache):
    source = spec(f"folder:{tree}")
    first = load_dataset(source, image_size=16)
    assert len(decodes) == 6
    forget()  # a new run: nothing remembered in memory
    second = load_dataset(source, image_size=16)
    assert len(decodes) == 6  # nothing decoded again
    np.testing.assert_array_equal(first.images, second.images)
    assert first.ids.tolist() == second.ids.tolist()
    entries = list(private_cache.rglob("*"))
    assert sum(p.suffix == ".u8" for p in entries) == 6
    assert not any(p.suffix == ".tmp" for p in entries)  # writes are atomic renames


def test_other_preprocessing_decodes_again(tree, decodes):
    load_dataset(spec(f"folder:{tree}"), image_size=16)
    load_dataset(spec(f"folder:{tree}", resize="pad"), image_size=16)
    load_dataset(spec(f"folder:{tree}"), image_size=24)
    assert len(decodes) == 18


def test_cache_follows_content_not_names(tree, decodes):
    load_dataset(spec(f"folder:{tree}"), image_size=16)
    (tree / "benign" / "a.png").rename(tree / "benign" / "renamed.png")
    forget()
    data = load_dataset(spec(f"folder:{tree}"), image_size=16)
    assert len(decodes) == 6 and "benign/renamed.png" in data.ids


def test_a_damaged_cache_entry_is_rebuilt(tree, decodes, private_cache):
    # A copy: damaging the mapped dataset file in place would pull the pages from under it.
    first = np.array(load_dataset(spec(f"folder:{tree}"), image_size=16).images)
    for entry in [*private_cache.rglob("*.u8"), *private_cache.rglob("*.pixels")]:
        entry.write_bytes(b"half-written")
    forget()
    second = load_dataset(spec(f"folder:{tree}"), image_size=16)
    assert len(decodes) == 12
    np.testing.assert_array_equal(first, second.images)


def test_a_dataset_is_memory_mapped_from_one_file_rebuilt_from_the_file_cache(
    tree, decodes, private_cache
):
    first = load_dataset(spec(f"folder:{tree}"), image_size=16)
    assert isinstance(first.images, np.memmap) and not first.images.flags.writeable
    (dataset,) = private_cache.rglob("*.pixels")
    assert first.images.nbytes == 6 * 16 * 16 * 3 < dataset.stat().st_size
    first = np.array(first.images)
    dataset.write_bytes(dataset.read_bytes()[:-3])  # truncated: rebuilt, not trusted
    forget()
    second = load_dataset(spec(f"folder:{tree}"), image_size=16)
    assert len(decodes) == 6  # rebuilt from the per-file entries, nothing decoded again
    np.testing.assert_array_equal(first, second.images)


def test_fingerprint_changes_with_files_and_preprocessing(tree):
    source = spec(f"folder:{tree}")
    before = fingerprint(source, image_size=16)
    assert fingerprint(source, image_size=16) == before
    assert fingerprint(source, image_size=32) != before
    assert fingerprint(spec(f"folder:{tree}", resize="pad"), image_size=16) != before
    assert fingerprint(spec(f"folder:{tree}", channels=1), image_size=16) != before
    assert fingerprint(spec(f"folder:{tree}", tile=16), image_size=16) != before
    save(tree / "benign" / "a.png", picture(99))  # same name, new content
    forget()
    edited = fingerprint(source, image_size=16)
    assert edited != before
    (tree / "malignant" / "e.png").unlink()
    forget()
    assert fingerprint(source, image_size=16) not in (before, edited)


def test_fingerprint_does_not_depend_on_where_the_dataset_lives(tree, tmp_path):
    before = fingerprint(spec(f"folder:{tree}"), image_size=16)
    tree.rename(tmp_path / "moved")
    forget()
    assert fingerprint(spec(f"folder:{tmp_path / 'moved'}"), image_size=16) == before


def test_unchanged_files_are_not_hashed_again(tree, monkeypatch):
    from bench.data import reader

    hashed = []
    real = reader.file_digest
    monkeypatch.setattr(reader, "file_digest", lambda path: hashed.append(path) or real(path))
    load_dataset(spec(f"folder:{tree}"), image_size=16)
    assert len(hashed) == 6
    forget()
    load_dataset(spec(f"folder:{tree}"), image_size=16)
    assert len(hashed) == 6  # size and modification time unchanged: remembered
    save(tree / "benign" / "a.png", picture(42))
    forget()
    data = load_dataset(spec(f"folder:{tree}"), image_size=16)
    assert [p.name for p in hashed[6:]] == ["a.png"]
    assert len(set(data.digests)) == 6
