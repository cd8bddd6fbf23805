"""suites/lin-ghanta.toml: the default profile validates on built-in data; the paper profile
states the published protocol and validates on ISIC images laid out as the README says."""

from __future__ import annotations

from pathlib import Path

from bench.cli import main
from bench.config import load_suite
from bench.config.axes import cell_suite
from tests.data.conftest import picture, save

SUITE = Path(__file__).parents[2] / "suites" / "lin-ghanta.toml"
RATES = [1e-5, 5e-4, 1e-4, 5e-3, 1e-3]
EPOCHS = [10, 20, 30, 40, 50, 100]


def test_default_profile_validates_on_built_in_data(capsys):
    assert main(["validate", str(SUITE)]) == 0
    out = capsys.readouterr().out
    assert "grid: 12 cells (2 backbone × 1 optimizer × 1 strategy × 3 train.learning_rate" in out
    suite = load_suite(SUITE)
    assert all(spec.kind == "synthetic" for spec in suite.datasets.values())
    assert suite.report.heatmap == ("train.learning_rate", "train.epochs")


def test_paper_profile_conforms_to_its_card(capsys):
    assert main(["validate", str(SUITE), "--profile", "paper", "--against", "lin-ghanta"]) == 0
    out = capsys.readouterr().out
    assert "9 ok, 0 differs, 0 deviation, 15 unstated" in out
    assert "grid.train.learning_rate" in out and "grid.train.epochs" in out


def test_paper_profile_states_the_published_protocol(tmp_path, monkeypatch, capsys):
    for index, name in enumerate(("benign", "malignant")):
        for i in range(6):
            save(tmp_path / "data/isic-skin" / name / f"{name}{i}.png", picture(10 * index + i))
    monkeypatch.chdir(tmp_path)
    assert main(["validate", str(SUITE), "--profile", "paper"]) == 0
    out = capsys.readouterr().out
    assert "grid: 120 cells (4 backbone × 1 optimizer × 1 strategy × 5 train.learning_rate" in out
    # without pretraining the natural set is declared but never rendered at 224 px
    assert "  natural        synthetic:natural: not read by any cell" in out
    suite = load_suite(SUITE, profile="paper")
    assert suite.card == "lin-ghanta"
    assert suite.datasets["skin"].source == "folder:data/isic-skin"
    assert suite.datasets["skin"].option("classes") == ("benign", "malignant")
    assert {c.backbone for c in suite.cells} == {
        "mobilenetv2", "resnet50v2", "efficientnetv2b0", "vgg16"
    }  # fmt: skip
    assert sorted({dict(c.settings)["train.learning_rate"] for c in suite.cells}) == sorted(RATES)
    assert sorted({dict(c.settings)["train.epochs"] for c in suite.cells}) == EPOCHS
    assert (suite.base.weights, suite.base.pretrain, suite.image_size) == ("imagenet", None, 224)
    protocol = suite.protocol
    assert (protocol.folds, protocol.repeats, protocol.validation) == (5, 1, 0.2)
    assert protocol.threshold == 0.5 and suite.report.sort == "accuracy"
    assert {c.optimizer for c in suite.cells} == {"adam"} and suite.balance == "none"
    assert not any(c.augment for c in suite.cells)
    (stage,) = suite.cells[0].strategy.stages
    assert stage.head.dense == (100,) and stage.head.output == "sigmoid"
    assert str(stage.trainable) == "all"
    cell = next(
        c
        for c in suite.cells
        if dict(c.settings) == {"train.learning_rate": 5e-3, "train.epochs": 40}
    )
    own = cell_suite(suite, cell)
    assert (own.train.learning_rate, own.train.epochs, own.train.batch_size) == (5e-3, 40, 32)
    assert own.train.patience == 0  # no early stopping: each cell trains its epochs
