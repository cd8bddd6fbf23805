"""Every key of the suite schema has a type and a rule, and `bench validate` enforces both.

The walk below visits every leaf of :data:`bench.config.schema.SCHEMA` (and, under
``[profiles.p]``, the same leaves again), puts a value of the wrong type and a value that
breaks the key's rule into an otherwise valid suite, and asks `bench validate`: exit code 2,
one line naming the key path, the value and the rule, no traceback. A key added to the
schema without a :class:`Field` fails here.
"""

from __future__ import annotations

import copy
import itertools
import math
import tomllib

import pytest

from bench.cli import main
from bench.config import load, schema
from bench.config.schema import Anything, Choice, Field, ListOf, Map, OneOf, Pattern, Range, Regex
from tests.conftest import TINY_SUITE

WRONG_TYPE = {int: "many", float: "many", str: 12, bool: "yes"}


def leaves(shape, path=()):
    """(path, shape) of every leaf key: a Field, a list or a choice of shapes."""
    if isinstance(shape, dict):
        for key, value in shape.items():
            if key != "profiles":
                yield from leaves(value, (*path, key))
    elif isinstance(shape, Map):
        yield from leaves(shape.value, (*path, "x"))
    elif isinstance(shape, ListOf) and isinstance(shape.item, dict | Map):
        yield from leaves(shape.item, (*path, 0))
    else:
        assert isinstance(shape, Field | ListOf | OneOf), f"{_dotted(path)}: declare a Field"
        yield path, shape


def _dotted(path) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def _fields(shape):
    if isinstance(shape, Field):
        return [shape]
    if isinstance(shape, ListOf):
        return _fields(shape.item)
    return [field for option in shape.options for field in _fields(option)]


def breaking(rule: object, kind: type):
    """A value of type ``kind`` that ``rule`` refuses, or None for a rule that admits all."""
    if isinstance(rule, Range):
        if rule.low is not None:
            return rule.low if rule.open_low else rule.low - 1
        return rule.high if rule.open_high else rule.high + 1
    if isinstance(rule, Choice):
        return max(rule.options()) + 1 if kind is int else "no-such-choice"
    if isinstance(rule, Pattern):
        return " "
    if isinstance(rule, Regex):
        return "(unclosed"
    assert isinstance(rule, Anything) or kind is bool, f"no breaking value for {rule!r}"
    return None


def wrong_type(shape):
    if isinstance(shape, Field):
        return WRONG_TYPE[shape.type]
    return {"a": "table"}  # neither a scalar nor a list: fits no option


def out_of_range(shape):
    """A value of the right type that the rule refuses, or None."""
    if isinstance(shape, Field):
        return breaking(shape.rule, shape.type)
    if isinstance(shape, ListOf):
        item = out_of_range(shape.item)
        return None if item is None else [item]
    first = next((o for o in shape.options if out_of_range(o) is not None), None)
    return None if first is None else out_of_range(first)


LEAVES = list(leaves(schema.SCHEMA))
CASES = [
    pytest.param(prefix + path, value, id=f"{_dotted(prefix + path)}={value!r}")
    for prefix in ((), ("profiles", "p"))
    for path, shape in LEAVES
    for value in (wrong_type(shape), out_of_range(shape))
    if value is not None
]


def test_every_leaf_declares_a_rule():
    for path, shape in LEAVES:
        for field in _fields(shape):
            assert field.rule is not None or field.type is bool, _dotted(path)
            if field.type in (int, float) and not isinstance(field.rule, Anything):
                assert isinstance(field.rule, Range | Choice), _dotted(path)
    assert len(LEAVES) > 100  # the walk reached the whole schema


@pytest.mark.parametrize(("path", "value"), CASES)
def test_validate_names_key_value_and_rule(capsys, monkeypatch, tmp_path, path, value):
    raw = tomllib.loads(TINY_SUITE.format(root=tmp_path))
    _put(raw, path, value)
    monkeypatch.setattr(load, "_read_toml", lambda _: copy.deepcopy(raw))
    suite = tmp_path / "tiny.toml"
    suite.write_text("")  # contents come from the patched reader
    code = main(["validate", str(suite)])
    out, err = capsys.readouterr()
    assert code == 2 and out == "" and "Traceback" not in err
    assert err.count("\n") == 1 and err.startswith(f"bench: error: {suite}: ")
    assert f"'{_dotted(path)}" in err, err
    assert repr(_leaf(value)) in err or repr(value) in err, err


def test_rule_is_stated(capsys, write_suite):
    code = main(["validate", str(write_suite(replace={"epochs = 2": "epochs = 0"}))])
    assert code == 2
    assert "'train.epochs' must be at least 1, got 0" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            "[optimizers.adam]\nlearning_rate = -0.001\n",
            "'optimizers.adam.learning_rate' must be positive, got -0.001",
        ),
        ("[augmentation]\nmixup_alpha = -1\n", "'augmentation.mixup_alpha' must be at least 0"),
        ('[report]\nsort = "aucc"\n', "'report.sort' must be one of \"accuracy\", "),
        ('[report]\nsort = "aucc"\n', "got 'aucc'; did you mean 'auc'?"),
        ("[profiles.quick.train]\nbatch_size = 0\n", "'profiles.quick.train.batch_size'"),
    ],
)
def test_reported_mistakes(capsys, write_suite, extra, message):
    code = main(["validate", str(write_suite(extra))])
    err = capsys.readouterr().err
    assert code == 2 and message in err, err


def test_metric_choices_come_from_the_metrics_module():
    from bench.metrics import METRICS, WEIGHTED_METRICS

    assert schema.METRIC.rule.options() == (*METRICS, *WEIGHTED_METRICS)


def test_nan_is_out_of_every_range():
    assert not Range(0, 1).admits(math.nan) and not Range(1).admits(math.nan)


def _leaf(value):
    return value[0] if isinstance(value, list) and value else value


def _put(raw: dict, path: tuple, value) -> None:
    node = raw
    for part, following in itertools.pairwise(path):
        if isinstance(part, int):
            while len(node) <= part:
                node.append({})
            node = node[part]
        else:
            if not isinstance(node.get(part), dict | list):
                node[part] = [] if isinstance(following, int) else {}
            node = node[part]
    node[path[-1]] = value
