"""Protocol cards: every shipped card loads, cites its settings, and bad cards say why."""

from __future__ import annotations

import pytest

from bench.errors import ConfigError
from bench.protocols import STAGE_KEYS, SUITE_KEYS, card_names, load_card

SHIPPED = ("ayana2022", "johri", "lin-ghanta", "mukhlif2023")


def test_every_seed_study_has_a_card():
    assert card_names() == SHIPPED


@pytest.mark.parametrize("name", SHIPPED)
def test_every_stated_setting_has_a_source(name):
    card = load_card(name)
    assert card.name == name and card.title and card.citation
    settings = [*card.settings, *(s for stage in card.stages for s in stage.settings)]
    assert settings
    for setting in settings:
        assert (setting.unstated is not None) != bool(setting.source), setting.key
        assert setting.key in (*SUITE_KEYS, *STAGE_KEYS) or setting.key.startswith("grid.")


def test_margin_and_name_for_reproduction_verdicts(tmp_path):
    card = load_card("mukhlif2023")
    assert card.margin == 0.02 and "Table 6" in card.margin_source
    path = tmp_path / "mine.toml"
    path.write_text('title = "t"\ncitation = "c"\n')
    plain = load_card(path)
    assert (plain.name, plain.margin, plain.settings) == ("mine", None, ())


def test_table5_trainable_layers_per_backbone_and_phase():
    card = load_card("mukhlif2023")
    layers = {
        (stage.strategy, stage.stage): dict(
            next(s for s in stage.settings if s.key == "trainable_layers").by_backbone
        )
        for stage in card.stages
    }
    assert layers[("ctl", "target")] == {"vgg16": 4, "xception": 2, "resnet50": 2, "mobilenetv2": 2}
    assert layers[("dtl", "pool")] == {
        "vgg16": 10,
        "xception": 19,
        "resnet50": 12,
        "mobilenetv2": 13,
    }
    assert layers[("dtl", "target")] == {
        "vgg16": 6,
        "xception": 10,
        "resnet50": 8,
        "mobilenetv2": 9,
    }


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            'title = "t"\ncitation = "c"\n[settings]\n"protocol.fold" = { value = 5, source = "" }',
            "unknown setting 'settings.protocol.fold'; did you mean 'protocol.folds'?",
        ),
        (
            'title = "t"\ncitation = "c"\n[settings]\n"protocol.folds" = { value = 5 }',
            "'settings.protocol.folds.source' is missing",
        ),
        (
            'title = "t"\ncitation = "c"\n[reproduction]\nmargin = -1\nsource = "s"',
            "'reproduction.margin' must be a positive number",
        ),
        (
            'title = "t"\ncitation = "c"\n[stages.dtl]\nepochs = { value = 3, source = "s" }',
            "'stages.dtl' must be named STRATEGY.STAGE",
        ),
        ('citation = "c"', "'title' is missing"),
        (
            'title = "t"\ncitation = "c"\nstages = { "dtl.pool" = 3 }',
            "'stages.dtl.pool' must be a table",
        ),
        (
            'title = "t"\ncitation = "c"\n[settings]\n"protocol.folds" = { unstated = true }',
            "'settings.protocol.folds.unstated' must say what the paper leaves open",
        ),
    ],
)
def test_bad_cards_name_the_key_and_the_fix(tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as error:
        load_card(path)
    assert str(error.value).startswith(f"{path}: ") and message in str(error.value)


def test_unknown_card_name_suggests_the_closest():
    with pytest.raises(ConfigError, match="no protocol card 'mukhlif'; did you mean 'mukhlif2023'"):
        load_card("mukhlif")


def test_naming_a_card_or_a_deviation_keeps_the_suite_hash():
    from bench.config.load import suite_hash

    raw = {"suite": {"target": "t", "image_size": 32}, "datasets": {"t": {"source": "s"}}}
    named = {
        **raw,
        "suite": {**raw["suite"], "protocol": "ayana2022"},
        "deviations": {"suite.image_size": "a smaller image"},
    }
    assert suite_hash(named) == suite_hash(raw)
    assert suite_hash({**raw, "suite": {**raw["suite"], "image_size": 40}}) != suite_hash(raw)


def test_a_suite_naming_an_unknown_card_is_refused(tmp_path):
    from bench.config import load_suite

    path = tmp_path / "s.toml"
    path.write_text(
        '[suite]\ntarget = "t"\nprotocol = "ayana"\n[datasets.t]\nsource = "synthetic:ultrasound"\n'
        '[grid]\nbackbone = ["small_cnn"]\noptimizer = ["adam"]\nstrategy = ["scratch"]\n'
    )
    with pytest.raises(ConfigError, match=r"s\.toml: 'suite\.protocol': no protocol card 'ayana'"):
        load_suite(path)
