"""A stage's own augmentation table: a shared stage trains on batches augmented with it, a
target stage uses it instead of [augmentation]; each job hashes exactly the table it reads."""

from __future__ import annotations

import numpy as np
import pytest

from bench.config import load_suite
from bench.config.spec import AugmentSpec
from bench.engine import resolve
from bench.engine.jobs import Worker, run_stage_job
from bench.engine.plan import make_plan, stage_augmentation
from bench.errors import ConfigError
from bench.train import batches
from bench.train.fit import ModelPool

CELLS = """
[datasets.cells]
source = "synthetic:cells"
samples_per_class = 6

[strategies.mstl]
init = "base"
stages = [
  {{ name = "intermediate", data = "@intermediate", epochs = 1{inter} }},
  {{ name = "target", data = "@target"{target} }},
]
"""
FLIPS = ", augmentation = { horizontal_flip = true, rotation = 15 }"
ROLES = {
    'target = "target"': 'target = "target"\nintermediate = "cells"',
    'strategy = ["scratch", "ctl"]': 'strategy = ["scratch", "ctl", "mstl"]',
}


def _suite(write_suite, *, inter="", target="", extra="", replace=None, name="tiny.toml"):
    text = CELLS.format(inter=inter, target=target) + extra
    return load_suite(write_suite(text, replace={**ROLES, **(replace or {})}, name=name))


def _hashes(suite) -> dict[str, str]:
    plan = make_plan(suite)
    return {job.label: job.hash for job in (*plan.stage_jobs, *plan.fold_jobs)}


def _changed(before: dict, after: dict) -> set[str]:
    assert before.keys() == after.keys()
    return {label for label in before if before[label] != after[label]}


def test_a_shared_stage_with_augmentation_changes_its_job_and_what_follows(write_suite):
    plain = _hashes(_suite(write_suite))
    augmented = _hashes(_suite(write_suite, inter=FLIPS, name="flips.toml"))
    changed = _changed(plain, augmented)
    inter = {label for label in plain if label.endswith("/intermediate:cells")}
    mstl = {label for label in plain if "strategy=mstl" in label}
    assert len(inter) == 2 and len(mstl) == 2 * 3  # one per optimizer; 2 optimizers × 3 folds
    assert changed == inter | mstl  # pretraining, scratch and ctl keep their hashes


def test_a_shared_stage_trains_on_batches_augmented_with_its_table(write_suite, monkeypatch):
    drawn = []

    def recording(x, spec, rng):
        out = original(x, spec, rng)
        drawn.append((spec, not np.array_equal(out, x)))
        return out

    original = batches.augment_batch
    monkeypatch.setattr(batches, "augment_batch", recording)
    no_pretrain = {'pretrain = "natural"\n': ""}
    for inter, name in ((FLIPS, "flips.toml"), ("", "plain.toml")):
        suite = _suite(write_suite, inter=inter, replace=no_pretrain, name=name)
        job = next(j for j in make_plan(suite).stage_jobs if j.stage.name == "intermediate")
        worker = Worker(suite=suite, pool=ModelPool(), artifacts=suite.artifacts_dir)
        drawn.clear()
        _, history = run_stage_job(job, worker)
        assert len(history["loss"]) == 1
        if inter:
            assert {spec for spec, _ in drawn} == {AugmentSpec(rotation=15, horizontal_flip=True)}
            assert all(moved for _, moved in drawn)  # up to ±15 degrees moves every batch
        else:
            assert drawn == []


def test_a_target_stage_uses_its_own_table_instead_of_the_suites(write_suite):
    suite_table = "\n[augmentation]\nrotation = {}\n"
    own = ", augmentation = { vertical_flip = true }"
    suite = _suite(write_suite, target=own, extra=suite_table.format(10))
    adam = {cell.strategy.name: cell for cell in suite.cells if cell.optimizer == "adam"}
    mstl, ctl = adam["mstl"], adam["ctl"]
    assert stage_augmentation(suite, mstl.strategy.stages[1], mstl) == AugmentSpec(
        vertical_flip=True
    )
    assert stage_augmentation(suite, ctl.strategy.stages[0], ctl) == AugmentSpec(rotation=10)
    assert stage_augmentation(suite, mstl.strategy.stages[0]) is None  # shared, no table
    plan = resolve.resolve_plan(suite)
    stages = next(c for c in plan["cells"] if c["id"] == mstl.id)["stages"]
    assert [s["augmentation"] for s in stages] == [[], [], ["vertical_flip"]]  # pretrain first
    # [augmentation] reaches the fold jobs of scratch and ctl only
    rotated = _suite(write_suite, target=own, extra=suite_table.format(20), name="rotated.toml")
    changed = _changed(_hashes(suite), _hashes(rotated))
    folds = {label for label in changed if label.startswith("backbone=")}  # fold jobs
    assert changed == folds and len(folds) == 2 * 2 * 3  # optimizers × (scratch, ctl) × folds
    assert not any("strategy=mstl" in label for label in changed)


def test_a_target_stages_table_is_not_read_with_augmentation_off(write_suite):
    off = {'strategy = ["scratch", "ctl", "mstl"]': 'strategy = ["mstl"]\naugment = [true, false]'}
    plain = _hashes(_suite(write_suite, replace=off))
    own = _hashes(
        _suite(write_suite, target=", augmentation = { zoom = 0.1 }", replace=off, name="z.toml")
    )
    changed = _changed(plain, own)
    assert len(changed) == 2 * 3 and all("augment=on" in label for label in changed)


def test_a_stage_brightness_range_is_checked_with_its_key(write_suite):
    with pytest.raises(ConfigError) as error:
        _suite(write_suite, inter=", augmentation = { brightness = [1.2, 0.8] }")
    message = str(error.value)
    assert "'strategies.mstl.stages[0].augmentation.brightness' must be [low, high]" in message
    assert message.startswith(str(write_suite().parent / "tiny.toml"))


def test_the_plan_description_names_each_stages_augmentation(write_suite):
    from bench.engine.describe import describe_plan

    own = ", augmentation = { vertical_flip = true }"
    suite = _suite(write_suite, inter=FLIPS, target=own, extra="\n[augmentation]\nzoom = 0.1\n")
    text = describe_plan(make_plan(suite))
    assert "  1 shared stage(s), listed under jobs: augmentation off, balancing none" in text
    assert (
        "  2 shared stage(s) intermediate: augmentation rotation 15, horizontal_flip (its own), "
        "balancing none"
    ) in text
    assert "  mstl stage target: augmentation vertical_flip in 2 of 2 cells" in text
    assert "  ctl stage target: augmentation zoom 0.1 in 2 of 2 cells" in text


def test_a_shared_stage_conforms_with_its_table_in_cells_with_augmentation_off(tmp_path):
    from pathlib import Path

    from bench.engine.conformance import check_conformance

    text = (Path(__file__).parents[2] / "suites" / "ultrasound.toml").read_text()
    grid = "[profiles.paper.grid]\n"
    assert grid in text
    path = tmp_path / "ultrasound.toml"
    path.write_text(text.replace(grid, grid + "augment = [true, false]\n"))
    rows = check_conformance(load_suite(path, profile="paper"), "ayana2022").rows
    status = {row.setting: (row.status, row.suite) for row in rows}
    # the cell-line stage keeps its transforms with augmentation off; the target loses them
    assert status["mstl.intermediate.augmentation"] == (
        "ok",
        "[horizontal_flip, rotation, vertical_flip]",
    )
    assert status["mstl.target.augmentation"] == ("ok", "[rotation, vertical_flip] / none")
