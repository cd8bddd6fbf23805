import pytest

from bench.config import load_suite
from bench.errors import ConfigError


def test_loads_and_expands_grid(write_suite):
    suite = load_suite(write_suite())
    assert suite.name == "tiny"
    assert [c.id for c in suite.cells] == [
        "backbone=small_cnn|optimizer=adam|strategy=scratch",
        "backbone=small_cnn|optimizer=adam|strategy=ctl",
        "backbone=small_cnn|optimizer=sgd|strategy=scratch",
        "backbone=small_cnn|optimizer=sgd|strategy=ctl",
    ]
    ctl = suite.cells[1].strategy
    assert ctl.init == "base" and ctl.stages[0].data == ("target",)


def test_exclude_rules_remove_cells(write_suite):
    path = write_suite(
        replace={
            'strategy = ["scratch", "ctl"]': 'strategy = ["scratch", "ctl"]\n'
            'exclude = [{optimizer = "sgd", strategy = "ctl"}]'
        }
    )
    ids = [c.id for c in load_suite(path).cells]
    assert "backbone=small_cnn|optimizer=sgd|strategy=ctl" not in ids and len(ids) == 3


def test_profile_overrides_deep_merge(write_suite):
    path = write_suite("""
        [profiles.big.train]
        epochs = 50
        [profiles.big.grid]
        optimizer = ["adagrad"]
    """)
    default, big = load_suite(path), load_suite(path, profile="big")
    assert (default.train.epochs, big.train.epochs) == (2, 50)
    assert big.train.batch_size == 8  # untouched keys survive the merge
    assert {c.optimizer for c in big.cells} == {"adagrad"}
    assert default.hash != big.hash and big.profile == "big"


def test_hash_ignores_report_settings(write_suite, tmp_path):
    a = load_suite(write_suite())
    b = load_suite(write_suite('[report]\nsort = "f1"\n', name="other.toml"))
    assert a.hash == b.hash


def test_hash_ignores_tracking(write_suite):
    a = load_suite(write_suite())
    b = load_suite(write_suite('[tracking]\nmlflow = "file:./mlruns"\n', name="other.toml"))
    assert a.hash == b.hash and (a.tracking.mlflow, b.tracking.mlflow) == (None, "file:./mlruns")


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            {'optimizer = ["adam", "sgd"]': 'optimiser = ["adam"]'},
            r"unknown key 'grid.optimiser'; did you mean 'grid.optimizer'\?",
        ),
        ({"[train]": "[trian]"}, r"unknown key 'trian'; did you mean 'train'\?"),
        ({"epochs = 2": 'epochs = "two"'}, r"'train.epochs' must be an integer"),
        (
            {'strategy = ["scratch", "ctl"]': 'strategy = ["scratch", "ctll"]'},
            r"unknown strategy 'ctll'; did you mean 'ctl'\?",
        ),
        (
            {
                'strategy = ["scratch", "ctl"]': 'strategy = ["scratch"]\n'
                'exclude = [{strategy = "scratch"}]'
            },
            r"the grid is empty after 'grid.exclude'",
        ),
        (
            {'target = "target"': 'target = "targt"'},
            r"'suite.target' names dataset 'targt'; did you mean 'target'",
        ),
        ({"folds = 3": "folds = 1"}, r"'protocol.folds' must be at least 2"),
        (
            {'pretrain = "natural"': 'pretrain = "imagenet"'},
            r"'base.pretrain' names dataset 'imagenet'",
        ),
    ],
)
def test_bad_suites_name_the_key_and_the_fix(write_suite, edit, message):
    with pytest.raises(ConfigError, match=message):
        load_suite(write_suite(replace=edit))


def test_unknown_profile_lists_profiles(write_suite):
    path = write_suite("[profiles.paper.train]\nepochs = 5\n")
    with pytest.raises(ConfigError, match=r"no profile 'papr'; did you mean 'paper'\?"):
        load_suite(path, profile="papr")


def test_bad_trainable_rule(write_suite):
    path = write_suite(
        """
        [strategies.mine]
        stages = [{ data = "@target", trainable = "last:x" }]
    """,
        replace={'strategy = ["scratch", "ctl"]': 'strategy = ["mine"]'},
    )
    with pytest.raises(ConfigError, match=r"strategies.mine.stages\[0\].trainable' = 'last:x'"):
        load_suite(path)


def test_missing_file():
    with pytest.raises(ConfigError, match="suite file not found"):
        load_suite("nope/missing.toml")


def test_suite_hash_is_the_sha256_of_the_sorted_json_of_what_sets_results():
    import datetime
    import hashlib
    import json

    from bench.config.load import suite_hash

    raw = {
        "suite": {"name": "x", "description": "left out", "seed": 3},
        "train": {"epochs": 2, "when": datetime.date(2024, 5, 1)},  # TOML dates print as text
        "report": {"sort": "f1"},
        "profiles": {"big": {}},
    }
    kept = {"suite": {"name": "x", "seed": 3}, "train": {"epochs": 2, "when": "2024-05-01"}}
    text = json.dumps(kept, sort_keys=True)
    assert suite_hash(raw) == hashlib.sha256(text.encode()).hexdigest()[:16]
