"""`bench validate --against CARD` and `--format json`: the shipped paper profiles follow their
published protocols, a changed setting is named, and nothing reads a data folder."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from bench.cli import main
from bench.config import load_suite

SUITES = Path(__file__).parents[2] / "suites"
PAPER_SUITES = sorted(
    p for p in SUITES.glob("*.toml") if re.search(r"^\[profiles\.paper", p.read_text(), re.M)
)
CARDS = {  # the published protocol each shipped paper profile follows
    "skin": "mukhlif2023",
    "ultrasound": "ayana2022",
    "breast-histology": "ayana2022",
    "lin-ghanta": "lin-ghanta",
    "johri": "johri",
}
TABLE5 = {  # Mukhlif et al. 2023, Table 5: trainable layers (Scenario1, Phase#1, Phase#2)
    "vgg16": (4, 10, 6),
    "xception": (2, 19, 10),
    "resnet50": (2, 12, 8),
    "mobilenetv2": (2, 13, 9),
}
TOTAL = {
    "vgg16": (21, 21, 23),
    "xception": (134, 134, 136),
    "resnet50": (177, 177, 179),
    "mobilenetv2": (156, 156, 158),
}


@pytest.fixture(autouse=True)
def _no_data(tmp_path, monkeypatch):
    """Run where no data folder exists: the checks read the suite alone."""
    monkeypatch.chdir(tmp_path)


def _run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("suite", PAPER_SUITES, ids=lambda p: p.stem)
def test_every_paper_profile_conforms_to_its_card(capsys, suite):
    assert suite.stem in CARDS, "name the card this paper profile follows in CARDS"
    assert load_suite(suite, profile="paper").card == CARDS[suite.stem]
    code, out, err = _run(
        capsys, "validate", str(suite), "--profile", "paper", "--against", CARDS[suite.stem]
    )
    assert code == 0, out + err
    assert " 0 differs" in out and "differs:" not in out
    assert "data checks skipped" in out


def _copy(tmp_path: Path, name: str, *edits: tuple[str, str]) -> Path:
    text = (SUITES / name).read_text()
    for old, new in edits:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    path = tmp_path / name
    path.write_text(text)
    return path


def test_a_changed_setting_fails_and_is_named(capsys, tmp_path):
    path = _copy(
        tmp_path,
        "skin.toml",
        ("repeats = 5", "repeats = 3"),
        ('xception = { trainable = "freeze_first:115" }', 'xception = { trainable = "last:9" }'),
    )
    code, out, _ = _run(
        capsys, "validate", str(path), "--profile", "paper", "--against", "mukhlif2023"
    )
    assert code == 1
    differs = out.split("differs: ", 1)[1].split(" (change the suite")[0]
    assert differs == "protocol.repeats, dtl.pool.trainable_layers [xception]"
    row = next(
        line
        for line in out.splitlines()
        if line.startswith("dtl.pool.trainable_layers  ") and "xception" in line
    )
    # Table 5 says 19; last:9 and the output layer train 10
    assert row.split()[2:] == ["19", "last:9", "(10", "of", "134", "layers", "train)", "differs"]


def test_the_lesion_segmentation_is_held_against_the_card(capsys, tmp_path):
    edit = (
        '[profiles.paper.preprocess]\nsegment = "kmeans"',
        '[profiles.paper.preprocess]\nsegment = "none"',
    )
    path = _copy(tmp_path, "johri.toml", edit)
    code, out, _ = _run(capsys, "validate", str(path), "--profile", "paper", "--against", "johri")
    assert code == 1
    assert out.split("differs: ", 1)[1].split(" (change the suite")[0] == "preprocess.segment"
    row = next(line for line in out.splitlines() if line.startswith("preprocess.segment "))
    assert row.split() == ["preprocess.segment", "kmeans", "none", "differs"]


def test_a_declared_deviation_passes_with_its_reason(capsys, tmp_path):
    path = _copy(
        tmp_path,
        "skin.toml",
        (
            "repeats = 5",
            'repeats = 3\n\n[profiles.paper.deviations]\n"protocol.repeats" = "GPU budget"',
        ),
    )
    code, out, _ = _run(
        capsys, "validate", str(path), "--profile", "paper", "--against", "mukhlif2023"
    )
    assert code == 0
    row = next(line for line in out.splitlines() if line.startswith("protocol.repeats"))
    assert row.split()[1:] == ["5", "3", "deviation", "(GPU", "budget)"]
    assert "1 deviation" in out


def test_a_deviation_must_name_a_setting_of_the_card(capsys, tmp_path):
    path = _copy(
        tmp_path,
        "skin.toml",
        ("repeats = 5", 'repeats = 5\n\n[profiles.paper.deviations]\n"protocol.repeat" = "x"'),
    )
    code, _, err = _run(
        capsys, "validate", str(path), "--profile", "paper", "--against", "mukhlif2023"
    )
    assert code == 2 and err.count("\n") == 1
    assert "'deviations.protocol.repeat' names no setting of card 'mukhlif2023'" in err


def test_unknown_card_is_one_line(capsys):
    code, _, err = _run(capsys, "validate", str(SUITES / "skin.toml"), "--against", "mukhlif")
    assert code == 2 and err.count("\n") == 1 and "did you mean 'mukhlif2023'" in err


def test_json_plan_gives_table5_trainable_layers_per_backbone_and_phase(capsys):
    code, out, _ = _run(
        capsys, "validate", str(SUITES / "skin.toml"), "--profile", "paper", "--format", "json"
    )
    assert code == 0
    plan = json.loads(out)
    assert plan["settings"]["protocol.repeats"] == 5 and plan["settings"]["suite.image_size"] == 299
    layers, totals = {}, {}
    for cell in plan["cells"]:
        for stage in cell["stages"]:
            key = (cell["strategy"], stage["name"], cell["backbone"])
            layers.setdefault(key, set()).add(stage["trainable_layers"])
            totals.setdefault(key, set()).add(stage["total_layers"])
    for backbone, (scenario1, phase1, phase2) in TABLE5.items():
        assert layers[("ctl", "target", backbone)] == {scenario1}
        assert layers[("dtl", "pool", backbone)] == {phase1}
        assert layers[("dtl", "target", backbone)] == {phase2}
        assert totals[("ctl", "target", backbone)] == {TOTAL[backbone][0]}
        assert totals[("dtl", "pool", backbone)] == {TOTAL[backbone][1]}
        assert totals[("dtl", "target", backbone)] == {TOTAL[backbone][2]}


def test_json_plan_resolves_every_stage_setting(capsys):
    code, out, _ = _run(
        capsys,
        "validate",
        str(SUITES / "ultrasound.toml"),
        "--profile",
        "paper",
        "--format",
        "json",
        "--against",
        "ayana2022",
    )
    assert code == 0
    plan = json.loads(out)
    cell = next(
        c for c in plan["cells"] if c["id"] == "backbone=resnet50|optimizer=sgd|strategy=mstl"
    )
    inter, target = cell["stages"]
    assert (inter["shared"], target["shared"]) == (True, False)
    # ResNet50: 176 backbone layers; all but the last train, then the head's layers
    assert (inter["trainable_layers"], inter["total_layers"]) == (175 + 1, 177)
    assert (target["trainable_layers"], target["total_layers"]) == (175 + 7, 183)
    assert target["optimizer_options"] == {"learning_rate": 1e-3, "momentum": 0.9}
    assert (target["learning_rate"], target["lr_decay"], target["epochs"]) == (1e-3, 0.96, 50)
    assert (target["patience"], target["early_stopping"], target["batch_size"]) == (0, False, 16)
    assert target["augmentation"] == ["rotation", "vertical_flip"]
    # the cell-line stage's own augmentation: horizontal and vertical flips, ±20 degrees
    assert inter["augmentation"] == ["horizontal_flip", "rotation", "vertical_flip"]
    settings = inter["augmentation_settings"]
    assert (settings["horizontal_flip"], settings["vertical_flip"], settings["rotation"]) == (
        True,
        True,
        20,
    )
    assert (target["balance"], inter["balance"]) == ("undersample", "none")
    assert (target["folds"], target["repeats"], target["image_size"]) == (5, 1, 75)
    statuses = {row["setting"]: row["status"] for row in plan["conformance"]}
    assert statuses["mstl.intermediate.augmentation"] == "ok"
    assert "deviation" not in statuses.values() and plan["deviations"] == {}


def test_a_stage_of_the_card_missing_from_the_suite_differs(capsys):
    code, out, _ = _run(
        capsys, "validate", str(SUITES / "breast-histology.toml"), "--against", "mukhlif2023"
    )
    assert code == 1
    rows = {line.split("  ")[0]: line for line in out.splitlines()}
    assert "strategy not in the grid" in rows["dtl.pool"] and rows["dtl.pool"].endswith("differs")
    assert "suite.image_size" in out.split("differs: ", 1)[1]


def test_plain_validate_summarises_the_conformance_of_a_suite_naming_a_card(capsys, tmp_path):
    path = _copy(tmp_path, "ultrasound.toml", ("[suite]\n", '[suite]\nprotocol = "ayana2022"\n'))
    code, out, _ = _run(capsys, "validate", str(path))
    assert code == 0  # the default profile trains on built-in data: only a summary here
    line = next(line for line in out.splitlines() if line.startswith("protocol: "))
    assert line.startswith("protocol: card ayana2022: ") and " differs, " in line
    assert "--against ayana2022" in line


def test_json_plan_lists_the_pretraining_stage_with_the_base_settings(capsys):
    code, out, _ = _run(capsys, "validate", str(SUITES / "skin.toml"), "--format", "json")
    assert code == 0
    cell = json.loads(out)["cells"][0]
    assert cell["id"] == "backbone=small_cnn|optimizer=adam|strategy=ctl|augment=off"
    pretrain, target = cell["stages"]
    assert (pretrain["name"], pretrain["data"], pretrain["shared"]) == (
        "pretrain",
        ["natural"],
        True,
    )
    # [base]: 15 epochs at 2e-3; the target stage takes [train]: 15 epochs at 1e-3, batch 16
    assert (pretrain["epochs"], pretrain["learning_rate"]) == (15, 2e-3)
    assert (target["epochs"], target["learning_rate"], target["batch_size"]) == (15, 1e-3, 16)
    assert (target["balance"], pretrain["balance"], target["augmentation"]) == (
        "class_weight",
        "none",
        [],
    )
    # small_cnn: 15 backbone layers, all trained, and the softmax output
    assert (target["trainable_layers"], target["total_layers"]) == (16, 16)


def test_the_suite_must_report_at_least_the_papers_metrics(capsys, tmp_path):
    paper = 'metrics = ["accuracy", "precision", "recall", "specificity", "f1", "auc"]'
    more = _copy(tmp_path, "skin.toml", (paper, paper.replace('"auc"', '"auc", "mcc"')))
    assert (
        _run(capsys, "validate", str(more), "--profile", "paper", "--against", "mukhlif2023")[0]
        == 0
    )
    fewer = _copy(tmp_path, "skin.toml", (paper, paper.replace('"precision", ', "")))
    code, out, _ = _run(
        capsys, "validate", str(fewer), "--profile", "paper", "--against", "mukhlif2023"
    )
    assert code == 1 and out.split("differs: ", 1)[1].startswith("report.metrics (")
