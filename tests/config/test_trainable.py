"""The trainable rule: parsed once, written back as the same text, frozen layers counted."""

import json

import pytest

from bench.config.trainable import Trainable, parse_trainable
from bench.hashing import content_hash, jsonable


@pytest.mark.parametrize("text", ["all", "head", "last:3", "all_but_last:12", "freeze_first:1"])
def test_a_rule_reads_back_as_its_text_in_hashes_and_stored_inputs(text):
    rule = parse_trainable(text)
    assert str(rule) == text
    assert json.dumps({"trainable": rule}, default=jsonable) == json.dumps({"trainable": text})
    assert content_hash([rule]) == content_hash([text])


def test_parts_of_a_rule():
    assert parse_trainable("all_but_last:12") == Trainable("all_but_last", 12)
    assert parse_trainable("head") == Trainable("head")


@pytest.mark.parametrize(
    ("text", "flags"),
    [
        ("all", [True] * 5),
        ("head", [False] * 5),
        ("last:2", [False, False, False, True, True]),
        ("all_but_last:2", [True, True, True, False, False]),
        ("freeze_first:2", [False, False, True, True, True]),
        ("last:9", [True] * 5),  # more layers than the backbone has: all of them
        ("freeze_first:9", [False] * 5),
    ],
)
def test_which_of_five_layers_train(text, flags):
    assert parse_trainable(text).flags(5) == flags


@pytest.mark.parametrize("text", ["last:x", "last:0", "first:3", "all:2", "", "Head"])
def test_a_bad_rule_says_how_to_write_one(text):
    with pytest.raises(ValueError, match=r'use "all", "head", "last:N"'):
        parse_trainable(text)
