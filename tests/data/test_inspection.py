"""``bench data inspect``: counts, sizes, unreadable files, exact and near duplicates."""

import numpy as np
from PIL import Image

from bench.cli import main
from bench.data.duplicates import difference_hash, exact_groups, near_pairs
from bench.data.inspection import inspect_source, render_inspection
from tests.data.conftest import picture, save, spec


def test_difference_hash_bits_follow_brightness_steps():
    rising = np.tile(np.arange(0, 180, 10, dtype=np.uint8), (16, 1))[..., None]
    assert difference_hash(rising) == 0  # no pixel is brighter than its right neighbour
    assert difference_hash(rising[:, ::-1]) == 2**64 - 1
    image = picture(3, width=90, height=80)
    larger = np.asarray(Image.fromarray(image).resize((180, 160)))
    assert bin(difference_hash(image) ^ difference_hash(larger)).count("1") <= 2


def test_near_pairs_match_a_brute_force_count():
    rng = np.random.default_rng(0)
    hashes = rng.integers(0, 2**63, 600, dtype=np.uint64) & np.uint64(0xFF)  # many close ones
    expected = sorted(
        (i, j, bin(int(hashes[i]) ^ int(hashes[j])).count("1"))
        for i in range(600)
        for j in range(i + 1, 600)
        if bin(int(hashes[i]) ^ int(hashes[j])).count("1") <= 2
    )
    assert sorted(near_pairs(hashes.tolist(), max_distance=2)) == expected
    assert exact_groups(["a", "b", "a", None, None]) == [(0, 2)]


def _busi_with_problems(busi):
    root = busi / "Dataset_BUSI_with_GT"
    copy = (root / "benign" / "benign (1).png").read_bytes()
    (root / "malignant" / "copy of benign.png").write_bytes(copy)  # label conflict
    near = Image.fromarray(picture(1)).resize((96, 80))  # benign (2) = picture(1), rescaled
    near.save(root / "benign" / "rescaled.jpg", quality=95)
    (root / "normal" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    return busi


def test_inspection_counts_and_problems(busi):
    inspection = inspect_source(spec(f"busi:{_busi_with_problems(busi)}"))
    obs = inspection.observations
    assert len(obs) == 12 and inspection.class_names == ("benign", "malignant", "normal")
    assert [o.id for o in obs if o.error] == ["normal/broken.png"]
    assert [[obs[i].id for i in group] for group in inspection.exact] == [
        ["benign/benign (1).png", "malignant/copy of benign.png"]
    ]
    near = {(obs[a].id, obs[b].id) for a, b, _ in inspection.near}
    assert ("benign/benign (2).png", "benign/rescaled.jpg") in near
    assert inspection.ignored == (("segmentation masks (*_mask*)", 12),)


def test_rendered_report_is_a_readable_table(busi):
    text = render_inspection(inspect_source(spec(f"busi:{_busi_with_problems(busi)}")))
    lines = text.splitlines()
    assert lines[1] == "patients: one group per image (the layout names no patients)"
    assert any(line.split()[:3] == ["benign", "4", "4"] for line in lines)
    assert any(line.split()[:2] == ["48x40", "RGB"] for line in lines)
    assert "unreadable files (1):" in text and "broken.png" in text
    assert "exact duplicates: 1 set(s), 2 files (1 set(s) span classes" in text
    assert "near duplicates (dHash distance <= 5" in text


def test_cli_inspects_a_source_string(manifest, capsys):
    assert main(["data", "inspect", f"csv:{manifest}"]) == 0
    out = capsys.readouterr().out
    assert "patients from column 'patient'" in out
    assert "exact duplicates: none" in out and "unreadable files: none" in out


def test_cli_inspects_a_suite_dataset(write_suite, tree, capsys):
    path = write_suite(f'\n[datasets.real]\nsource = "folder:{tree}"\n')
    assert main(["data", "inspect", str(path), "--dataset", "real"]) == 0
    assert "folder:" in capsys.readouterr().out
    assert main(["data", "inspect", str(path)]) == 0  # the target: synthetic data
    assert "simulated patients" in capsys.readouterr().out


def test_cli_error_is_one_line_and_exit_2(tmp_path, capsys):
    assert main(["data", "inspect", f"folder:{tmp_path / 'missing'}"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("bench: error: ") and err.count("\n") == 1


def test_inspect_reports_mixed_channels_and_grey_arrays(tmp_path):
    save(tmp_path / "d" / "a" / "grey.png", picture(1, channels=1))
    save(tmp_path / "d" / "a" / "colour.png", picture(2))
    text = render_inspection(inspect_source(spec(f"folder:{tmp_path / 'd'}")))
    assert "mixed channel counts: 1 greyscale, 1 colour" in text
