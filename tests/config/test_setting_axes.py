"""Dotted ``[grid]`` keys sweep a scalar setting: expansion, the cell's view, bad input."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.cli import main
from bench.config import load_suite
from bench.config.axes import cell_suite
from bench.errors import ConfigError

STRATEGY = 'strategy = ["scratch", "ctl"]'


def axes(text: str) -> dict[str, str]:
    """A ``replace`` edit of the tiny suite putting ``text`` into its [grid]."""
    return {STRATEGY: f"{STRATEGY}\n{text}"}


def test_setting_axes_expand_after_the_named_axes(write_suite):
    path = write_suite(
        replace=axes('"train.learning_rate" = [1e-5, 5e-4]\n"train.epochs" = [1, 3]')
    )
    suite = load_suite(path)
    assert suite.factors == (
        "backbone", "optimizer", "strategy", "train.learning_rate", "train.epochs"
    )  # fmt: skip
    assert len(suite.cells) == 4 * 2 * 2
    first = suite.cells[0]
    assert first.id == (
        "backbone=small_cnn|optimizer=adam|strategy=scratch|train.learning_rate=1e-05|train.epochs=1"
    )
    assert first.settings == (("train.learning_rate", 1e-5), ("train.epochs", 1))
    assert [dict(c.settings)["train.epochs"] for c in suite.cells[:4]] == [1, 3, 1, 3]


def test_the_cell_sees_its_values_and_shared_stages_keep_the_suites(write_suite):
    path = write_suite(
        replace=axes('"train.epochs" = [5]\n"base.epochs" = [3]\n"suite.image_size" = [24]')
    )
    suite = load_suite(path)
    cell = suite.cells[0]
    own, shared = cell_suite(suite, cell), cell_suite(suite, cell, shared=True)
    assert (own.train.epochs, own.base.epochs, own.image_size) == (5, 3, 24)
    assert (shared.train.epochs, shared.base.epochs, shared.image_size) == (2, 3, 24)
    assert (suite.train.epochs, suite.base.epochs, suite.image_size) == (2, 1, 16)


def test_a_stage_setting_reaches_that_strategys_stage_only(write_suite):
    path = write_suite(replace=axes('"strategies.ctl.stages[0].head.dropout" = [0.1, 0.4]'))
    cells = load_suite(path).cells
    dropout = {
        (c.strategy.name, c.id.rsplit("=", 1)[1]): c.strategy.stages[0].head.dropout for c in cells
    }
    assert dropout[("ctl", "0.1")] == 0.1 and dropout[("ctl", "0.4")] == 0.4
    assert dropout[("scratch", "0.1")] == dropout[("scratch", "0.4")] == 0.0


def test_optimizer_and_backbone_options_as_axes(write_suite):
    path = write_suite(
        replace={
            **axes('"optimizers.adam.beta_1" = [0.5, 0.8]'),
            'backbone = ["small_cnn"]': 'backbone = ["small_cnn", "small_resnet"]',
        }
    )
    suite = load_suite(path)
    adam = [c for c in suite.cells if c.optimizer == "adam"]
    assert {dict(c.optimizer_options)["beta_1"] for c in adam} == {0.5, 0.8}
    assert dict(cell_suite(suite, adam[0]).optimizers["adam"])["beta_1"] == 0.5
    assert "adam" not in suite.optimizers  # the suite itself declares no [optimizers.adam]


def test_exclude_rules_name_setting_axes(write_suite):
    path = write_suite(
        replace=axes(
            '"train.epochs" = [1, 100]\nexclude = [{ "train.epochs" = 100, strategy = "ctl" }]'
        )
    )
    ids = [c.id for c in load_suite(path).cells]
    assert len(ids) == 6
    assert not [i for i in ids if "strategy=ctl" in i and "train.epochs=100" in i]


@pytest.mark.parametrize(
    ("grid", "message"),
    [
        (
            '"train.learning_rate" = [1e-5, 5e-4, -1]',
            r"""'grid\."train\.learning_rate"\[2\]' must be positive, got -1$""",
        ),
        ('"train.epochs" = [10, 2.5]', r"""'grid\."train\.epochs"\[1\]' must be an integer"""),
        (
            '"balance.method" = ["none", "smote"]',
            r"""'grid\."balance\.method"\[1\]' must be one of "none", .*got 'smote'""",
        ),
        (
            '"train.learning_rat" = [1e-5]',
            r"""'grid\."train\.learning_rat"' names no setting: 'learning_rat' is unknown; """
            r"did you mean 'learning_rate'\?",
        ),
        ('"trian.epochs" = [1]', r"'trian' is unknown; did you mean 'train'\?"),
        (
            '"augmentation.brightness" = [[0.8, 1.2]]',
            r"""'grid\."augmentation\.brightness"' is not a scalar setting""",
        ),
        ('"train" = [1]', None),  # no dot: an unknown named axis (the schema's message)
        (
            '"protocol.folds" = [2, 3]',
            r"cannot be an axis: 'protocol.folds' fixes the outer folds",
        ),
        ('"datasets.target.seed" = [1, 2]', r"cannot be an axis: 'datasets.target.seed' fixes"),
        ('"suite.seed" = [1, 2]', r"cannot be an axis"),
        ('"train.precision" = ["float32"]', r"cannot be an axis"),
        ('"tuning.n_trials" = [1, 2]', r"the suite has no \[tuning\] table to vary"),
        (
            '"strategies.mstl.stages[0].epochs" = [1]',
            r"strategy 'mstl' is not in grid.strategy \(scratch, ctl\)",
        ),
        ('"strategies.ctl.stages[3].epochs" = [1]', r"strategy 'ctl' has 1 stage\(s\)"),
        ('"strategies.ctl.stages.epochs" = [1]', r"the list before 'epochs' needs an index"),
        ('"train.epochs" = []', r"""'grid\."train\.epochs"' is missing or empty"""),
        ('"train.epochs" = [2, 2]', r"""'grid\."train\.epochs"' lists a value twice"""),
        (
            '"train.epochs" = [1, 2]\nexclude = [{ "train.epochs" = 3 }]',
            r"""'grid\.exclude\[0\]\."train\.epochs"' = 3 is not a value of """
            r"""grid\."train\.epochs" \(1, 2\)""",
        ),
        ('exclude = [{ "train.epochs" = 3 }]', r"uses unknown axis 'train.epochs'"),
    ],
)
def test_bad_setting_axes_are_one_line_naming_the_key(write_suite, capsys, grid, message):
    path = write_suite(replace=axes(grid))
    with pytest.raises(ConfigError) as error:
        load_suite(path)
    if message is None:
        assert "unknown key 'grid.train'" in str(error.value)
    else:
        assert error.match(message)
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_a_profiles_setting_axis_is_checked_under_its_path(write_suite):
    path = write_suite("""
        [profiles.sweep.grid]
        "train.epochs" = [0]
    """)
    with pytest.raises(ConfigError, match=r"""'profiles\.sweep\.grid\."train\.epochs"\[0\]'"""):
        load_suite(path)


@pytest.mark.parametrize("path", sorted(Path("suites").glob("*.toml")), ids=lambda p: p.stem)
def test_suites_without_setting_axes_plan_from_the_suite_itself(path):
    """No dotted key, no settings: every cell's view is the suite object, so existing cell
    ids, job inputs and hashes stay as they were."""
    suite = load_suite(path)
    if any("." in factor for factor in suite.factors):
        pytest.skip("the suite sweeps a setting")
    assert all(c.settings == () for c in suite.cells)
    assert all(
        cell_suite(suite, c) is suite is cell_suite(suite, c, shared=True) for c in suite.cells
    )


def test_report_heatmap_names_two_axes_of_the_grid(write_suite):
    grid = axes('"train.epochs" = [1, 2]')
    path = write_suite('[report]\nheatmap = ["train.epochs", "optimizer"]\n', replace=grid)
    assert load_suite(path).report.heatmap == ("train.epochs", "optimizer")
    for heatmap, message in (
        ('["train.epochs"]', r"'report.heatmap' must name two different grid axes"),
        ('["train.epochs", "train.epochs"]', r"must name two different grid axes"),
        (
            '["train.epoch", "optimizer"]',
            r"'report.heatmap' names 'train.epoch', which is not an axis of the grid; "
            r"did you mean 'train.epochs'\?",
        ),
    ):
        path = write_suite(f"[report]\nheatmap = {heatmap}\n", replace=grid, name="bad.toml")
        with pytest.raises(ConfigError, match=message):
            load_suite(path)
