"""Every option of every command refuses a bad value in one line, exit code 2, no traceback.

The walk visits each option that takes a value. A number must be a :class:`Bounded`
(its range is stated), a metric goes through ``metric_name``, a fixed set through
``choices``; only the options in FREE take any text (they are checked where they are used,
against the suite or the file system). A new option outside these fails here.
"""

from __future__ import annotations

import argparse

import pytest

from bench.cli import Bounded, _fold_arg, _parser, main, metric_name

FREE = {
    "--profile",
    "--scheduler",
    "--out",
    "--baseline",
    "--keep",
    "--cell",
    "--dataset",
    "--host",
    "--class",
    "--examples",
    "--factor",
    "--suite",
    "--across",
    "--results",
    "--backend",
    "--uri",
    "--against",
    "--published",
    "--mlflow",
}


def commands(parser: argparse.ArgumentParser, prefix=()):
    """(argv prefix, parser) of every command, `data inspect` included."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield (*prefix, name), sub
                yield from commands(sub, (*prefix, name))


def bad_values(action: argparse.Action) -> list[str]:
    if isinstance(action.type, Bounded):
        rule = action.type.rule
        below = rule.low if rule.open_low else rule.low - 1
        above = [] if rule.high is None else [str(rule.high + 1)]
        return ["x", str(below), *above]
    if action.type is metric_name:
        return ["aucc"]
    if action.type is _fold_arg:
        return ["one"]
    if action.choices:
        return ["no-such-choice"]
    assert action.option_strings[0] in FREE, f"{action.option_strings}: state its rule"
    return []


CASES = [
    pytest.param(
        (*argv, action.option_strings[0], value), id=f"{' '.join(argv)} {action.dest}={value}"
    )
    for argv, sub in commands(_parser())
    for action in sub._actions
    if action.option_strings and action.nargs != 0 and not isinstance(action, argparse._HelpAction)
    for value in bad_values(action)
]


def test_the_walk_reaches_the_options_of_the_issue():
    shown = {case.values[0][:1] + case.values[0][-2:] for case in CASES}
    assert {
        ("run", "--jobs", "0"),
        ("run", "--threads", "0"),
        ("report", "--metric", "aucc"),
    } <= shown
    assert ("compare", "--metric", "aucc") in shown and ("export", "--fold", "one") in shown


@pytest.mark.parametrize("argv", CASES)
def test_bad_option_value_is_one_line_and_exit_2(capsys, argv):
    with pytest.raises(SystemExit) as stop:
        main(list(argv))
    err = capsys.readouterr().err
    assert stop.value.code == 2
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert f"argument {argv[-2]}" in err and "error: " in err, err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["run", "s.toml", "--jobs", "0"], "argument --jobs/-j: must be at least 1, got 0"),
        (["run", "s.toml", "--threads", "-1"], "argument --threads: must be at least 1, got -1"),
        (["report", "s", "--metric", "aucc"], "unknown metric 'aucc'; did you mean 'auc'?"),
        (["data", "inspect", "x", "--near", "65"], "argument --near: must be in [0, 64], got 65"),
    ],
)
def test_messages_state_the_rule(capsys, argv, message):
    with pytest.raises(SystemExit):
        main(argv)
    assert message in capsys.readouterr().err


def test_a_fold_outside_the_protocol(capsys):
    code = main(["export", "suites/ultrasound.toml", "--cell", "strategy=ctl", "--fold", "9:9"])
    assert code == 2
    assert capsys.readouterr().err == (
        "bench: error: --fold 9:9: no such fold; repeats run 0..0 and folds 0..4\n"
    )
