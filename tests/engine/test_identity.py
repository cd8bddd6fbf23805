"""Job identity is complete: every suite key changes the hash of exactly the jobs that read it.

The test walks the suite schema (bench/config/schema.py). Each leaf key must have a row in

MUTATIONS: an edit of the base suite and the jobs expected to change (the readers and every
job downstream of them, since a child's hash contains its parent's). A key added to the
schema without a row fails the walk; a key whose edit changes other jobs than declared, or
none, fails its row. Keys of file-backed datasets are checked on the dataset fingerprint,
which every job reading the dataset hashes (proven for the synthetic keys through plans).
"""

from __future__ import annotations

import copy
import shutil
import tomllib
from pathlib import Path

import pytest

from bench.config import axes, grid, schema
from bench.config.load import load_suite
from bench.data import sources
from bench.engine import identity
from bench.engine import plan as plan_module
from bench.engine.plan import FoldJob, StageJob, make_plan
from bench.hashing import content_hash
from tests.data.conftest import picture, save, spec

BASE = """
[suite]
name = "walk"
description = "schema walk"
target = "target"
pool = "pool"
intermediate = "cells"
seed = 3
image_size = 32
results = "{root}/results"
reports = "{root}/reports"

[datasets.target]
source = "synthetic:ultrasound"
classes = ["benign", "malignant"]
samples_per_class = 12
images_per_patient = 2
imbalance = 1.0
difficulty = 0.3
label_noise = 0.0
seed = 1

[datasets.other]
source = "synthetic:ultrasound"
classes = ["benign", "malignant"]
samples_per_class = 12
images_per_patient = 2
seed = 9

[datasets.natural]
source = "synthetic:natural"
samples_per_class = 4

[datasets.pool]
source = "synthetic:ultrasound-pool"
samples_per_class = 4

[datasets.pool2]
source = "synthetic:ultrasound-pool"
samples_per_class = 4
seed = 5

[datasets.cells]
source = "synthetic:cells"
samples_per_class = 4

[datasets.cells2]
source = "synthetic:cells"
samples_per_class = 4
seed = 5

[base]
weights = "none"
pretrain = "natural"
epochs = 1
batch_size = 8
learning_rate = 0.001
optimizer = "sgd"

[grid]
backbone = ["small_cnn", "mobilenetv2", "small_resnet"]
optimizer = ["adam"]
strategy = ["scratch", "ctl", "dtl", "two"]
augment = [true]
fraction = [1.0]
exclude = [
  {{ backbone = "mobilenetv2", strategy = "dtl" }},
  {{ backbone = "small_resnet", strategy = "two" }},
]

[backbones.mobilenetv2]
alpha = 0.35
bn_momentum = 0.9

[backbones.small_resnet]
width = 8

[optimizers.sgd]
momentum = 0.9
nesterov = false

[optimizers.adam]
beta_1 = 0.9
beta_2 = 0.999
epsilon = 1e-7

[optimizers.rmsprop]
rho = 0.9

[optimizers.adagrad]
initial_accumulator_value = 0.1

[train]
epochs = 2
batch_size = 8
learning_rate = 0.001
lr_decay = 1.0
patience = 2

[strategies.two]
description = "intermediate domain, then the target"
init = "base"

[[strategies.two.stages]]
name = "inter"
data = "@intermediate"
labels = "labels"
trainable = "all"
optimizer = "rmsprop"
learning_rate = 0.001
lr_decay = 0.9
epochs = 1
batch_size = 8
patience = 1

[[strategies.two.stages]]
name = "fine"
data = "@target"
head = {{ dense = [16], dropout = 0.2, activation = "relu", output = "softmax" }}
trainable = "all"
optimizer = "adagrad"
by_backbone = {{ mobilenetv2 = {{ trainable = "last:5", epochs = 3 }} }}

[protocol]
folds = 3
repeats = 1
validation = 0.25
threshold = 0.5
leakage = "error"

[preprocess]
segment = "kmeans"
segment_output = "mask"

[augmentation]
rotation = 10
width_shift = 0.1
height_shift = 0.1
brightness = [0.8, 1.2]
shear = 5
zoom = 0.1
horizontal_flip = true
vertical_flip = false
fill_mode = "nearest"
mixup_alpha = 0.0

[balance]
method = "mixup"
mixup_alpha = 0.2

[tuning]
n_trials = 2
timeout = 600
pruner = "median"
inner_folds = 1

[tuning.space.learning_rate]
type = "float"
low = 0.0001
high = 0.01
log = true

[tuning.space.dropout]
type = "categorical"
choices = [0.1, 0.3]

[report]
metrics = ["accuracy", "auc"]
sort = "auc"
baseline = "scratch"

[regression]
margins = {{ auc = 0.1 }}
alpha = 0.05
runtime_tolerance = 1.5

[profiles.other]
train = {{ epochs = 3 }}
"""


# --- who reads what: label sets of the base plan -------------------------------------------
def everything(plan):
    return {job.label for job in _jobs(plan)}


def nothing(plan):
    return set()


def folds(plan):
    return {job.label for job in plan.fold_jobs}


def stages_named(name):
    return lambda plan: _downstream(
        plan, lambda j: isinstance(j, StageJob) and j.stage.name == name
    )


def cells_with(**factors):
    def readers(plan):
        wanted = factors.items()
        return _downstream(
            plan, lambda j: isinstance(j, FoldJob) and wanted <= dict(j.cell.factors).items()
        )

    return readers


def backbone(name):
    return lambda plan: _downstream(plan, lambda j: _backbone(j) == name)


def optimizer(name):
    def uses(job):
        if isinstance(job, StageJob):
            return job.hyper.optimizer == name
        return any(hyper.optimizer == name for _, hyper in job.stages)

    return lambda plan: _downstream(plan, uses)


def stage_of_two(index, *, backbone_only=None):
    """Strategy two's stage ``index`` (0 is a shared stage, 1 the target stage)."""

    def reads(job):
        if backbone_only and _backbone(job) != backbone_only:
            return False
        if index == 0:
            return isinstance(job, StageJob) and job.stage.name == "inter"
        return isinstance(job, FoldJob) and dict(job.cell.factors)["strategy"] == "two"

    return lambda plan: _downstream(plan, reads)


def _backbone(job):
    return job.backbone if isinstance(job, StageJob) else job.cell.backbone


def _jobs(plan):
    return [*plan.stage_jobs, *plan.fold_jobs]


def _downstream(plan, reads) -> set[str]:
    """Labels of the jobs that read a key and of every job that starts from one of them."""
    hashes = {job.hash for job in _jobs(plan) if reads(job)}
    for job in _jobs(plan):  # parents come before children
        if job.parent in hashes:
            hashes.add(job.hash)
    return {job.label for job in _jobs(plan) if job.hash in hashes}


# --- edits -----------------------------------------------------------------------------------
def put(path: str, value):
    """An edit setting the dotted ``path`` (``stages[1]`` indexes the list) to ``value``."""

    def edit(raw):
        node, keys = raw, path.split(".")
        for key in keys[:-1]:
            node = _step(node, key, create=True)
        name, index = _indexed(keys[-1])
        if index is None:
            node[name] = value
        else:
            node[name][index] = value

    return edit


def _step(node, key, *, create):
    name, index = _indexed(key)
    if index is not None:
        return node[name][index]
    return node.setdefault(name, {}) if create else node[name]


def _indexed(key):
    if key.endswith("]"):
        name, index = key[:-1].split("[")
        return name, int(index)
    return key, None


STAGE0 = "strategies.two.stages[0]"
STAGE1 = "strategies.two.stages[1]"
SPACE = "tuning.space"

# schema path -> (edit, expected readers)
# A value other than the default for every augmentation key (the suite above already flips
# left-right, so its [augmentation] change turns that off).
AUGMENTATION_CHANGES = {
    "rotation": 20,
    "width_shift": 0.2,
    "height_shift": 0.2,
    "brightness": [0.7, 1.3],
    "shear": 10,
    "zoom": 0.2,
    "horizontal_flip": True,
    "vertical_flip": True,
    "fill_mode": "reflect",
    "mixup_alpha": 0.2,
}


MUTATIONS = {
    "suite.name": (put("suite.name", "walk2"), nothing),
    "suite.description": (put("suite.description", "other words"), nothing),
    "suite.target": (put("suite.target", "other"), folds),
    "suite.pool": (put("suite.pool", "pool2"), stages_named("pool")),
    "suite.intermediate": (put("suite.intermediate", "cells2"), stages_named("inter")),
    "suite.seed": (put("suite.seed", 4), everything),
    "suite.backend": (put("suite.backend", "torch"), everything),
    "suite.image_size": (put("suite.image_size", 40), everything),
    "suite.results": (put("suite.results", "elsewhere/results"), nothing),
    "suite.reports": (put("suite.reports", "elsewhere/reports"), nothing),
    "suite.protocol": (put("suite.protocol", "mukhlif2023"), nothing),
    "datasets.*.source": (
        put("datasets.natural.source", "synthetic:dermoscopy"),
        stages_named("pretrain"),
    ),
    "datasets.*.classes": (put("datasets.target.classes", ["malignant", "benign"]), folds),
    "datasets.*.samples_per_class": (put("datasets.target.samples_per_class", 14), folds),
    "datasets.*.images_per_patient": (put("datasets.target.images_per_patient", 3), folds),
    "datasets.*.imbalance": (put("datasets.target.imbalance", 1.5), folds),
    "datasets.*.difficulty": (put("datasets.target.difficulty", 0.5), folds),
    "datasets.*.label_noise": (put("datasets.target.label_noise", 0.1), folds),
    "datasets.*.seed": (put("datasets.pool.seed", 11), stages_named("pool")),
    "base.weights": (None, None),  # a weights file: test_weights_file_enters_by_content
    "base.pretrain": (put("base.pretrain", "cells2"), stages_named("pretrain")),
    "base.epochs": (put("base.epochs", 2), stages_named("pretrain")),
    "base.batch_size": (put("base.batch_size", 16), stages_named("pretrain")),
    "base.learning_rate": (put("base.learning_rate", 0.01), stages_named("pretrain")),
    "base.optimizer": (put("base.optimizer", "adam"), stages_named("pretrain")),
    "grid.backbone": (
        put("grid.backbone", ["small_cnn", "mobilenetv2", "small_resnet", "vgg16"]),
        nothing,
    ),
    "grid.optimizer": (put("grid.optimizer", ["adam", "sgd"]), nothing),
    "grid.strategy": (put("grid.strategy", ["scratch", "ctl", "dtl", "two", "mstl"]), nothing),
    "grid.augment": (put("grid.augment", [True, False]), nothing),
    "grid.fraction": (put("grid.fraction", [1.0, 0.5]), nothing),
    "grid.exclude": (put("grid.exclude", []), nothing),
    "backbones.*.alpha": (put("backbones.mobilenetv2.alpha", 0.5), backbone("mobilenetv2")),
    "backbones.*.width": (put("backbones.small_resnet.width", 16), backbone("small_resnet")),
    "backbones.*.bn_momentum": (
        put("backbones.mobilenetv2.bn_momentum", 0.99),
        backbone("mobilenetv2"),
    ),
    "optimizers.*.learning_rate": (put("optimizers.adam.learning_rate", 0.01), optimizer("adam")),
    "optimizers.*.momentum": (put("optimizers.sgd.momentum", 0.5), optimizer("sgd")),
    "optimizers.*.nesterov": (put("optimizers.sgd.nesterov", True), optimizer("sgd")),
    "optimizers.*.rho": (put("optimizers.rmsprop.rho", 0.5), optimizer("rmsprop")),
    "optimizers.*.epsilon": (put("optimizers.adam.epsilon", 1e-6), optimizer("adam")),
    "optimizers.*.beta_1": (put("optimizers.adam.beta_1", 0.8), optimizer("adam")),
    "optimizers.*.beta_2": (put("optimizers.adam.beta_2", 0.99), optimizer("adam")),
    "optimizers.*.initial_accumulator_value": (
        put("optimizers.adagrad.initial_accumulator_value", 0.2),
        optimizer("adagrad"),
    ),
    "optimizers.*.weight_decay": (
        put("optimizers.rmsprop.weight_decay", 0.01),
        optimizer("rmsprop"),
    ),
    # train.* are defaults: read by every stage that does not set its own value
    "train.epochs": (
        put("train.epochs", 3),
        lambda p: (
            cells_with(strategy="scratch")(p)
            | cells_with(strategy="ctl")(p)
            | cells_with(strategy="dtl")(p)
            | stages_named("pool")(p)
            | stage_of_two(1, backbone_only="small_cnn")(p)
        ),
    ),
    "train.batch_size": (put("train.batch_size", 16), lambda p: folds(p) | stages_named("pool")(p)),
    "train.learning_rate": (
        put("train.learning_rate", 0.01),
        lambda p: folds(p) | stages_named("pool")(p),
    ),
    "train.lr_decay": (
        put("train.lr_decay", 0.9),
        lambda p: folds(p) | stages_named("pool")(p) | stages_named("pretrain")(p),
    ),
    "train.precision": (put("train.precision", "mixed_bfloat16"), everything),
    "train.patience": (
        put("train.patience", 3),
        lambda p: folds(p) | stages_named("pool")(p) | stages_named("pretrain")(p),
    ),
    "strategies.*.description": (put("strategies.two.description", "other words"), nothing),
    "strategies.*.init": (put("strategies.two.init", "random"), stage_of_two(0)),
    "strategies.*.stages[].name": (put(f"{STAGE0}.name", "middle"), stage_of_two(0)),
    "strategies.*.stages[].data": (put(f"{STAGE0}.data", "@pool"), stage_of_two(0)),
    "strategies.*.stages[].labels": (put(f"{STAGE0}.labels", "origin"), stage_of_two(0)),
    "strategies.*.stages[].head.dense": (put(f"{STAGE1}.head.dense", [8]), stage_of_two(1)),
    "strategies.*.stages[].head.dropout": (put(f"{STAGE1}.head.dropout", 0.4), stage_of_two(1)),
    "strategies.*.stages[].head.activation": (
        put(f"{STAGE1}.head.activation", "tanh"),
        stage_of_two(1),
    ),
    "strategies.*.stages[].head.output": (put(f"{STAGE1}.head.output", "sigmoid"), stage_of_two(1)),
    "strategies.*.stages[].trainable": (put(f"{STAGE0}.trainable", "last:3"), stage_of_two(0)),
    "strategies.*.stages[].optimizer": (put(f"{STAGE0}.optimizer", "adam"), stage_of_two(0)),
    "strategies.*.stages[].learning_rate": (put(f"{STAGE0}.learning_rate", 0.01), stage_of_two(0)),
    "strategies.*.stages[].lr_decay": (put(f"{STAGE0}.lr_decay", 0.8), stage_of_two(0)),
    "strategies.*.stages[].epochs": (put(f"{STAGE0}.epochs", 2), stage_of_two(0)),
    "strategies.*.stages[].batch_size": (put(f"{STAGE0}.batch_size", 16), stage_of_two(0)),
    "strategies.*.stages[].patience": (put(f"{STAGE0}.patience", 2), stage_of_two(0)),
    "strategies.*.stages[].by_backbone.*.trainable": (
        put(f"{STAGE1}.by_backbone", {"mobilenetv2": {"trainable": "last:7", "epochs": 3}}),
        stage_of_two(1, backbone_only="mobilenetv2"),
    ),
    "strategies.*.stages[].by_backbone.*.optimizer": (
        put(
            f"{STAGE1}.by_backbone",
            {"mobilenetv2": {"trainable": "last:5", "epochs": 3, "optimizer": "adam"}},
        ),
        stage_of_two(1, backbone_only="mobilenetv2"),
    ),
    "strategies.*.stages[].by_backbone.*.learning_rate": (
        put(f"{STAGE1}.by_backbone.mobilenetv2.learning_rate", 0.01),
        stage_of_two(1, backbone_only="mobilenetv2"),
    ),
    "strategies.*.stages[].by_backbone.*.lr_decay": (
        put(f"{STAGE1}.by_backbone.mobilenetv2.lr_decay", 0.9),
        stage_of_two(1, backbone_only="mobilenetv2"),
    ),
    "strategies.*.stages[].by_backbone.*.epochs": (
        put(f"{STAGE1}.by_backbone.mobilenetv2.epochs", 4),
        stage_of_two(1, backbone_only="mobilenetv2"),
    ),
    "strategies.*.stages[].by_backbone.*.batch_size": (
        put(f"{STAGE1}.by_backbone.mobilenetv2.batch_size", 4),
        stage_of_two(1, backbone_only="mobilenetv2"),
    ),
    "strategies.*.stages[].by_backbone.*.patience": (
        put(f"{STAGE1}.by_backbone.mobilenetv2.patience", 4),
        stage_of_two(1, backbone_only="mobilenetv2"),
    ),
    "preprocess.segment": (put("preprocess.segment", "none"), folds),
    "preprocess.segment_output": (put("preprocess.segment_output", "crop"), folds),
    "protocol.folds": (put("protocol.folds", 2), folds),
    "protocol.repeats": (put("protocol.repeats", 2), nothing),  # new jobs; the old ones stay
    "protocol.validation": (put("protocol.validation", 0.4), everything),
    "protocol.threshold": (put("protocol.threshold", "youden"), folds),
    "protocol.leakage": (put("protocol.leakage", "warn"), nothing),
    "protocol.deterministic": (put("protocol.deterministic", False), everything),
    **{
        f"augmentation.{key}": (put(f"augmentation.{key}", value), folds)
        for key, value in {**AUGMENTATION_CHANGES, "horizontal_flip": False}.items()
    },
    # a shared stage's own augmentation: that stage's job and every job downstream of it
    **{
        f"strategies.*.stages[].augmentation.{key}": (
            put(f"{STAGE0}.augmentation.{key}", value),
            stage_of_two(0),
        )
        for key, value in AUGMENTATION_CHANGES.items()
    },
    "balance.method": (put("balance.method", "class_weight"), folds),
    "balance.mixup_alpha": (put("balance.mixup_alpha", 0.4), folds),
    "tuning.n_trials": (put("tuning.n_trials", 3), folds),
    "tuning.timeout": (put("tuning.timeout", 300), folds),
    "tuning.pruner": (put("tuning.pruner", "none"), folds),
    "tuning.inner_folds": (put("tuning.inner_folds", 2), folds),
    "tuning.space.*.type": (
        put(f"{SPACE}.dropout", {"type": "float", "low": 0.1, "high": 0.3}),
        folds,
    ),
    "tuning.space.*.low": (put(f"{SPACE}.learning_rate.low", 0.0002), folds),
    "tuning.space.*.high": (put(f"{SPACE}.learning_rate.high", 0.02), folds),
    "tuning.space.*.log": (put(f"{SPACE}.learning_rate.log", False), folds),
    "tuning.space.*.choices": (put(f"{SPACE}.dropout.choices", [0.1, 0.5]), folds),
    "report.metrics": (put("report.metrics", ["auc"]), nothing),
    "report.sort": (put("report.sort", "accuracy"), nothing),
    "report.baseline": (put("report.baseline", "ctl"), nothing),
    "report.heatmap": (put("report.heatmap", ["backbone", "strategy"]), nothing),
    "report.published": (put("report.published", "paper-table"), nothing),
    "report.margin": (put("report.margin", 0.02), nothing),
    "report.explain": (put("report.explain", "shap"), nothing),
    "regression.margins": (put("regression.margins", {"auc": 0.2}), nothing),
    "regression.alpha": (put("regression.alpha", 0.1), nothing),
    "regression.runtime_tolerance": (put("regression.runtime_tolerance", 2.0), nothing),
    "deviations": (put("deviations", {"suite.image_size": "a smaller test set"}), nothing),
    "tracking.mlflow": (put("tracking.mlflow", "file:./mlruns"), nothing),
    "profiles": (put("profiles.other", {"train": {"epochs": 4}}), nothing),
}

# Keys of file-backed sources: checked on the dataset fingerprint (see the module docstring).
FILE_KEYS = (
    "resize", "channels", "tile", "on_bad_image", "patient_pattern", "include",
    "images", "metadata", "path_column", "id_column", "label_column", "patient_column",
    "split_column", "splits",
)  # fmt: skip


def leaf_paths(shape, prefix="") -> list[str]:
    """Every leaf key of a schema shape, ``*`` for user-chosen names, ``[]`` for list items."""
    if isinstance(shape, dict):
        return [p for key, sub in shape.items() for p in leaf_paths(sub, _join(prefix, key))]
    if isinstance(shape, schema.Map) and isinstance(shape.value, dict):
        return leaf_paths(shape.value, _join(prefix, "*"))
    if isinstance(shape, schema.ListOf) and isinstance(shape.item, dict):
        return leaf_paths(shape.item, prefix + "[]")
    return [prefix]


def _join(prefix, key):
    return f"{prefix}.{key}" if prefix else key


def test_every_schema_key_has_a_row():
    paths = leaf_paths(schema.SCHEMA)
    file_keys = {f"datasets.*.{key}" for key in FILE_KEYS}
    missing = [p for p in paths if p not in MUTATIONS and p not in file_keys]
    assert not missing, f"add a MUTATIONS row (edit, readers) for: {missing}"
    assert not set(MUTATIONS) - set(paths), "rows for keys the schema no longer has"


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    root = tmp_path_factory.mktemp("walk")
    raw = tomllib.loads(BASE.format(root=root))
    return root, raw, _labels(_base_plan(root, raw))


def _suite(root: Path, raw: dict, name: str):
    import tomli_w

    path = root / f"{name}.toml"
    path.write_text(tomli_w.dumps(raw))
    return load_suite(path)


def _labels(plan) -> dict[str, str]:
    return {job.label: job.hash for job in _jobs(plan)}


ROWS = sorted(p for p, (edit, _) in MUTATIONS.items() if edit is not None)


@pytest.mark.parametrize("path", ROWS)
def test_a_key_changes_exactly_the_jobs_that_read_it(base, path):
    root, raw, before = base
    edit, readers = MUTATIONS[path]
    changed_raw = copy.deepcopy(raw)
    edit(changed_raw)
    after = _labels(make_plan(_suite(root, changed_raw, "changed")))
    changed = {label for label, job in before.items() if after.get(label) != job}
    expected = readers(_base_plan(root, raw))
    unexpected, unchanged = sorted(changed - expected)[:3], sorted(expected - changed)[:3]
    assert changed == expected, f"{path}: changed {unexpected}, unchanged {unchanged}"
    if readers is not nothing:
        assert expected, f"{path}: a row must name at least one reader"


_PLANS: dict = {}


def _base_plan(root, raw):
    if root not in _PLANS:
        _PLANS[root] = make_plan(_suite(root, raw, "base"))
    return _PLANS[root]


def test_weights_file_enters_by_content(tmp_path):
    weights = tmp_path / "start.weights.h5"
    weights.write_bytes(b"first weights")
    first = identity.weights_identity(str(weights))
    weights.write_bytes(b"other weights")
    assert identity.weights_identity(str(weights)) != first
    assert identity.weights_identity("imagenet") == "imagenet"


def test_a_code_edit_retrains_every_job_with_the_same_seeds(base, monkeypatch):
    """The code version is in every hash but in no seed, down a chain of shared stages too
    (a stage's seed names its parent by seed, not by hash)."""
    root, raw, _ = base
    before = make_plan(_suite(root, raw, "code-before"))
    edited = {**identity.environment(threads=1), "code": "an-edited-code"}
    monkeypatch.setattr(plan_module, "environment", lambda **_: edited)
    after = make_plan(_suite(root, raw, "code-after"))
    assert any(job.parent for job in before.stage_jobs), "the base suite chains stages"
    pairs = list(zip(_jobs(before), _jobs(after), strict=True))
    assert all(a.label == b.label and a.hash != b.hash for a, b in pairs)
    assert [a.seed for a, _ in pairs] == [b.seed for _, b in pairs]


def test_environment_names_code_versions_and_threads():
    env = identity.environment(threads=2)
    assert env["threads"] == 2
    assert {"keras", "numpy", "scipy", "pillow", "backend"} <= set(env["versions"])
    assert len(env["code"]) == 16
    assert identity.environment(threads=1) != env


def test_training_code_fingerprint_covers_the_training_modules():
    files = {p.relative_to(identity.PACKAGE).as_posix() for p in identity._training_files()}
    assert {"engine/jobs.py", "train/fit.py", "metrics.py", "data/splits.py"} <= files
    assert not any(f.startswith(("report/", "stats/")) or f == "cli.py" for f in files)


def test_code_fingerprint_follows_file_contents_not_names(tmp_path, monkeypatch):
    package = tmp_path / "bench"
    for name in identity.TRAINING_CODE:
        source = identity.PACKAGE / name
        place = shutil.copytree if source.is_dir() else shutil.copyfile
        (package / name).parent.mkdir(parents=True, exist_ok=True)
        place(source, package / name)
    monkeypatch.setattr(identity, "PACKAGE", package)
    fingerprints = []
    for change in (None, "rename", "edit"):
        if change == "rename":
            (package / "engine/jobs.py").rename(package / "engine/renamed.py")
            names = [
                n.replace("engine/jobs.py", "engine/renamed.py") for n in identity.TRAINING_CODE
            ]
            monkeypatch.setattr(identity, "TRAINING_CODE", tuple(names))
        if change == "edit":
            with open(package / "metrics.py", "a") as handle:
                handle.write("\n# one more line\n")
        identity.code_fingerprint.cache_clear()
        fingerprints.append(identity.code_fingerprint())
    identity.code_fingerprint.cache_clear()
    assert fingerprints[0] == fingerprints[1] != fingerprints[2]


def test_first_difference_names_the_key_and_both_values():
    old = {"job": "stage", "protocol.validation": 0.2, "training": {"epochs": 5}}
    new = {"job": "stage", "protocol.validation": 0.3, "training": {"epochs": 5}}
    assert identity.first_difference(old, new) == "protocol.validation 0.2 → 0.3"
    assert identity.first_difference(old, old) is None


def test_first_difference_reaches_into_the_list_of_stages():
    def stages(dense):
        return {"stages": [{"name": "intermediate"}, {"name": "target", "head": {"dense": dense}}]}

    assert (
        identity.first_difference(stages([256, 128]), stages([256]))
        == "stages[1].head.dense [256, 128] → [256]"
    )


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "tree"
    for index, label in enumerate(("benign", "malignant")):
        for i in range(4):
            save(root / label / f"p{i}" / f"{label}{i}.png", picture(10 * index + i, width=48))
    return root


@pytest.fixture
def table(tmp_path: Path) -> Path:
    root = tmp_path / "table"
    rows = ["path,other_path,label,other_label,patient,other_patient,split,phase"]
    for i in range(6):
        save(root / "images" / f"img{i}.png", picture(100 + i))
        save(root / "images" / f"alt{i}.png", picture(200 + i))
        save(root / "copy" / f"img{i}.png", picture(300 + i))
        label = "benign" if i % 2 else "malignant"
        rows.append(
            f"img{i}.png,alt{i}.png,{label},{'x' if i < 3 else 'y'},P{i // 2},Q{i % 3},"
            f"{'test' if i >= 4 else 'train'},{'test' if i < 2 else 'train'}"
        )
    (root / "labels.csv").write_text("\n".join(rows) + "\n")
    return root / "labels.csv"


@pytest.fixture
def isic(tmp_path: Path) -> Path:
    root = tmp_path / "isic"
    gt, meta, meta2 = ["image,name,MEL,NV"], ["image,lesion_id"], ["image,lesion_id"]
    for i in range(6):
        save(root / "input" / f"ISIC_{i:07d}.jpg", picture(i))
        gt.append(f"ISIC_{i:07d},ISIC_{(i + 1) % 6:07d},{i % 2}.0,{1 - i % 2}.0")
        meta.append(f"ISIC_{i:07d},L{i % 3}")
        meta2.append(f"ISIC_{i:07d},L{i % 2}")
    (root / "gt.csv").write_text("\n".join(gt) + "\n")
    (root / "meta.csv").write_text("\n".join(meta) + "\n")
    (root / "meta2.csv").write_text("\n".join(meta2) + "\n")
    return root / "gt.csv"


def _fingerprint(source, **options):
    for memo in (sources._load, sources._fingerprint, sources._snapshot):
        memo.cache_clear()
    return sources.fingerprint(spec(source, **options), image_size=16)


@pytest.mark.parametrize("key", FILE_KEYS)
def test_a_file_source_key_changes_the_dataset_fingerprint(
    key, tree, table, isic, monkeypatch, tmp_path
):
    monkeypatch.setenv("BENCH_CACHE", str(tmp_path / "cache"))
    folder, csv, gt = f"folder:{tree}", f"csv:{table}", f"isic:{isic}"
    cases = {
        "resize": (folder, {}, {"resize": "pad"}),
        "channels": (folder, {}, {"channels": 1}),
        "tile": (folder, {}, {"tile": 24}),
        "on_bad_image": (folder, {}, {"on_bad_image": "skip"}),
        "patient_pattern": (folder, {}, {"patient_pattern": r"^\w+/(p[01])"}),
        "include": (folder, {}, {"include": ["*/p0/*", "*/p1/*"]}),
        "images": (csv, {"images": "images"}, {"images": "copy"}),
        "path_column": (
            csv,
            {"images": "images"},
            {"images": "images", "path_column": "other_path"},
        ),
        "label_column": (
            csv,
            {"images": "images"},
            {"images": "images", "label_column": "other_label"},
        ),
        "patient_column": (
            csv,
            {"images": "images"},
            {"images": "images", "patient_column": "other_patient"},
        ),
        "split_column": (csv, {"images": "images"}, {"images": "images", "split_column": "phase"}),
        "splits": (csv, {"images": "images"}, {"images": "images", "splits": ["train"]}),
        "metadata": (
            gt,
            {"images": "input", "metadata": "meta.csv"},
            {"images": "input", "metadata": "meta2.csv"},
        ),
        "id_column": (gt, {"images": "input"}, {"images": "input", "id_column": "name"}),
    }
    source, before, after = cases[key]
    assert content_hash(_fingerprint(source, **before)) != content_hash(
        _fingerprint(source, **after)
    )


# --- setting axes: a dotted [grid] key plans its cells as if the suite had the value -------
# key -> value swept (as a one-value axis); keys of bench.config.axes.TARGET_ONLY tables
# reach the fold jobs only, the others every job that reads them.
SETTING_AXES = {
    "train.learning_rate": 0.01,
    "train.epochs": 3,
    "train.batch_size": 16,
    "train.lr_decay": 0.9,
    "train.patience": 3,
    "balance.method": "class_weight",
    "protocol.threshold": "youden",
    "augmentation.rotation": 20,
    "tuning.n_trials": 3,
    "suite.image_size": 40,
    "base.epochs": 2,
    "optimizers.adam.beta_1": 0.8,
    "optimizers.rmsprop.rho": 0.5,
    "backbones.mobilenetv2.alpha": 0.5,
    "strategies.two.stages[0].epochs": 2,
    "strategies.two.stages[0].augmentation.rotation": 20,
    "strategies.two.stages[1].head.dropout": 0.4,
}


@pytest.mark.parametrize("key", sorted(SETTING_AXES))
def test_a_setting_axis_plans_as_if_the_suite_had_the_value(base, key):
    root, raw, _ = base
    value = SETTING_AXES[key]
    swept = copy.deepcopy(raw)
    swept["grid"][key] = [value]
    edited = copy.deepcopy(raw)
    put(key, value)(edited)
    axis_plan = make_plan(_suite(root, swept, "swept"))
    as_if = make_plan(_suite(root, edited, "edited"))
    target_only = key.split(".")[0] in axes.TARGET_ONLY
    shared_source = _base_plan(root, raw) if target_only else as_if
    assert {j.hash for j in axis_plan.stage_jobs} == {j.hash for j in shared_source.stage_jobs}
    expected = {job.label: job.inputs for job in as_if.fold_jobs}
    starts = {job.label: job.inputs["start"] for job in shared_source.fold_jobs}
    assert len(axis_plan.fold_jobs) == len(expected)
    for job in axis_plan.fold_jobs:
        label = job.label.replace(f"|{key}={grid.level(value)}", "")
        assert dict(job.cell.factors)[key] == grid.level(value)
        want = {**expected[label], "cell": job.cell.id, "seed": job.seed, "start": starts[label]}
        assert job.inputs == want, identity.first_difference(want, job.inputs)


def test_mixup_alpha_enters_only_where_mixup_balances(tmp_path):
    """Other balancing methods do not read it, so their stored jobs keep their hashes."""
    raw = tomllib.loads(BASE.format(root=tmp_path))
    raw["balance"] = {"method": "class_weight"}
    before = _labels(make_plan(_suite(tmp_path, raw, "a")))
    raw["balance"]["mixup_alpha"] = 0.7
    assert _labels(make_plan(_suite(tmp_path, raw, "b"))) == before
