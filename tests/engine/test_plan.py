"""The planner is a pure function of the suite and its data catalog: no data on disk here."""

from __future__ import annotations

import numpy as np
import pytest

from bench.config import load_suite
from bench.engine.catalog import DataEntry, datasets_read
from bench.engine.plan import make_plan
from bench.errors import ConfigError, DataError

MISSING = {
    'source = "synthetic:ultrasound"': 'source = "folder:/no/such/target"',
    'source = "synthetic:natural"': 'source = "folder:/no/such/natural"',
}


def entry(fingerprint: str, classes: tuple[str, ...], patients: int, per_patient: int, **extra):
    """A dataset of ``patients`` patients with ``per_patient`` images each, classes in turn."""
    groups = np.repeat([f"p{i}" for i in range(patients)], per_patient)
    labels = np.repeat(np.arange(patients) % len(classes), per_patient)
    ids = np.array([f"{fingerprint}-{i}" for i in range(len(labels))])
    return DataEntry(fingerprint, classes, ids, labels, groups, **extra)


def catalog(**changes) -> dict[str, DataEntry]:
    target = entry(
        "target-v1",
        ("benign", "malignant"),
        12,
        2,
        image_hashes=frozenset({"t1", "t2"}),
        difference_hashes=np.zeros((24, 64), dtype=bool) | (np.arange(24)[:, None] % 2 == 0),
    )
    natural = entry("natural-v1", tuple("abcdefgh"), 16, 1, image_hashes=frozenset({"n1"}))
    return {"target": target, "natural": natural} | changes


@pytest.fixture
def suite(write_suite):
    return load_suite(write_suite(replace=MISSING))


def test_a_suite_whose_data_is_not_on_disk_plans_from_a_hand_written_catalog(suite):
    with pytest.raises(DataError, match="no/such/target"):
        make_plan(suite)  # without a catalog the planner reads the data, which is not there
    plan = make_plan(suite, catalog())
    assert datasets_read(suite) == ["target", "natural"]
    assert len(plan.stage_jobs) == 1  # the base: pretraining on natural images, shared
    assert len(plan.fold_jobs) == 4 * 3  # 4 cells x 3 folds
    assert {job.inputs["datasets.natural"] for job in plan.stage_jobs} == {"natural-v1"}
    assert {job.inputs["datasets.target"] for job in plan.fold_jobs} == {"target-v1"}
    groups = catalog()["target"].groups
    for job in plan.fold_jobs:
        fold = job.fold
        train = set(groups[np.concatenate([fold.train, fold.val])])
        assert not train & set(groups[fold.test])  # no patient on both sides
    first = plan.suite.cells[0].id
    tested = np.concatenate([j.fold.test for j in plan.fold_jobs if j.cell.id == first])
    assert sorted(tested.tolist()) == list(range(24))  # each image tested once


def test_job_hashes_follow_the_catalog_fingerprints(suite):
    before = make_plan(suite, catalog())
    changed = catalog(natural=entry("natural-v2", tuple("abcdefgh"), 16, 1))
    after = make_plan(suite, changed)
    assert {j.hash for j in before.stage_jobs}.isdisjoint(j.hash for j in after.stage_jobs)
    scratch = [j for j in before.fold_jobs if j.cell.strategy.init == "random"]
    same = [j for j in after.fold_jobs if j.cell.strategy.init == "random"]
    assert [j.hash for j in scratch] == [j.hash for j in same]  # scratch never reads natural
    again = make_plan(suite, catalog())  # deterministic
    assert [j.hash for j in again.fold_jobs] == [j.hash for j in before.fold_jobs]


def test_the_leakage_guard_and_the_near_duplicates_read_the_catalog(suite):
    shared = entry("natural-v1", tuple("abcdefgh"), 16, 1, image_hashes=frozenset({"t2"}))
    with pytest.raises(DataError, match=r"contains 1 image\(s\) identical to images of the target"):
        make_plan(suite, catalog(natural=shared))
    pairs = make_plan(suite, catalog()).near_duplicates
    # images 0, 2, 4, ... share one dHash, as do 1, 3, 5, ...: pairs in different folds
    assert pairs and all(distance == 0 for *_, distance in pairs)
    assert all(int(a.split("-")[-1]) % 2 == int(b.split("-")[-1]) % 2 for a, b, _ in pairs)


def test_a_sigmoid_head_counts_the_classes_in_the_catalog(write_suite):
    sigmoid = """
    [strategies.sig]
    init = "random"
    stages = [{ data = "@target", head = { output = "sigmoid" } }]
    """
    path = write_suite(sigmoid, replace={**MISSING, '"scratch", "ctl"': '"sig"'})
    suite = load_suite(path)
    assert len(make_plan(suite, catalog()).fold_jobs) == 2 * 3
    three = entry("target-v1", ("a", "b", "c"), 12, 2, difference_hashes=np.zeros((24, 64), bool))
    with pytest.raises(ConfigError, match="a sigmoid head needs a binary task"):
        make_plan(suite, catalog(target=three))
