"""The command line: one clear line and exit code 2 for every user mistake, no traceback."""

import subprocess
import sys
from pathlib import Path

import pytest

from bench.cli import main

SUITES = sorted(Path("suites").glob("*.toml"))


def _run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("suite", SUITES, ids=lambda p: p.stem)
def test_shipped_suites_validate_offline(capsys, suite):
    code, out, err = _run(capsys, "validate", str(suite))
    assert code == 0, err
    assert "cells" in out and "fold jobs" in out


@pytest.mark.parametrize(
    "suite", [s for s in SUITES if "[profiles.paper" in s.read_text()], ids=lambda p: p.stem
)
def test_paper_profiles_name_the_missing_data_folder(capsys, suite):
    code, _, err = _run(capsys, "validate", str(suite), "--profile", "paper")
    assert code == 2
    assert err.count("\n") == 1 and "not found; put the dataset there" in err


INNER_FOLDS = """[tuning]
inner_folds = {k}
[tuning.space]
epochs = {{ type = "int", low = 1, high = 2 }}
"""


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        ({"[train]": "[trian]"}, "unknown key 'trian'; did you mean 'train'?"),
        (
            {'backbone = ["small_cnn"]': 'backbone = ["resnet5"]'},
            "unknown backbone 'resnet5'; did you mean 'resnet50'?",
        ),
        (
            {'optimizer = ["adam", "sgd"]': 'optimizer = ["adamw"]'},
            "unknown optimizer 'adamw'; did you mean 'adam'?",
        ),
        (
            {'backbone = ["small_cnn"]': 'backbone = ["xception"]'},
            "backbone 'xception' needs images of at least 71 px, but suite.image_size = 16",
        ),
        (
            {'source = "synthetic:ultrasound"': 'source = "folder:/nonexistent/busi"'},
            "folder '/nonexistent/busi' not found",
        ),
        ({"folds = 3": "folds = 20"}, "has 6 patient(s), fewer than protocol.folds = 20"),
        (
            {"[protocol]": f"{INNER_FOLDS.format(k=5)}\n[protocol]"},
            "'tuning.inner_folds' = 5, but class 'benign' has 4 patient(s) in the training part",
        ),
        (
            {"[protocol]": f"{INNER_FOLDS.format(k=0)}\n[protocol]"},
            "'tuning.inner_folds' must be 1 (the validation split) or at least 2",
        ),
        (
            {
                'strategy = ["scratch", "ctl"]': 'strategy = ["ctl"]\n'
                'exclude = [{ strategy = "ctl" }]'
            },
            "the grid is empty after 'grid.exclude'",
        ),
    ],
)
def test_bad_input_gets_one_line_and_exit_2(capsys, write_suite, edit, message):
    path = write_suite(replace=edit)
    for command in ("validate", "run"):
        code, _, err = (
            _run(capsys, command, str(path), "--quiet")
            if command == "run"
            else _run(capsys, command, str(path))
        )
        assert code == 2, (command, err)
        last = err.splitlines()[-1]  # `bench run` announces the suite first
        assert message in last and last.startswith("bench: error: ")
        assert f"{path}:" in last and "Traceback" not in err
        assert all(line.startswith("bench run ") for line in err.splitlines()[:-1])


def test_debug_shows_the_traceback(capsys, write_suite):
    path = write_suite(replace={"[train]": "[trian]"})
    code, _, err = _run(capsys, "validate", str(path), "--debug")
    assert code == 2 and "Traceback" in err


def test_failing_run_keeps_what_is_stored(capsys, write_suite):
    import sqlite3

    good = write_suite(
        replace={
            'optimizer = ["adam", "sgd"]': 'optimizer = ["adam"]',
            'strategy = ["scratch", "ctl"]': 'strategy = ["scratch"]',
        }
    )
    assert _run(capsys, "run", str(good), "--quiet")[0] == 0
    db = Path(str(good).replace("tiny.toml", "results/tiny/bench.sqlite"))
    before = sqlite3.connect(db).execute("SELECT COUNT(*) FROM scores").fetchone()
    bad = write_suite(replace={'optimizer = ["adam", "sgd"]': 'optimizer = ["adamw"]'})
    assert _run(capsys, "run", str(bad), "--quiet")[0] == 2
    assert sqlite3.connect(db).execute("SELECT COUNT(*) FROM scores").fetchone() == before
    assert before[0] > 0


def test_help_lists_commands():
    result = subprocess.run(
        [sys.executable, "-m", "bench.cli", "--help"], capture_output=True, text=True, check=True
    )
    for command in ("run", "validate", "status", "report", "compare", "import"):
        assert command in result.stdout
