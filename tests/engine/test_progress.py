"""What `bench run` prints while training: lines for logs, a bar for terminals, nothing quiet;
and the warning about a shared stage that ends near chance."""

import io
import subprocess
import sys

import pytest

from bench.config import load_suite
from bench.engine.plan import make_plan
from bench.engine.progress import BarProgress, LineProgress, NoProgress, open_progress
from bench.quiet import NATIVE_LOG, drop_native_log
from bench.report.stages import StageAccuracy, chance_accuracy, stage_accuracy

SCORES = {"auc": 0.8, "accuracy": 0.75}


class Terminal(io.StringIO):
    def isatty(self):
        return True


@pytest.fixture
def plan(write_suite):
    return make_plan(load_suite(write_suite()))


def _finish_all(progress, plan):
    for job in plan.stage_jobs:
        progress.finished(job, stage=StageAccuracy(5, 3, 0.7, 0.125))
    for job in plan.fold_jobs:
        progress.finished(job, scores=SCORES)
    progress.close()


def test_a_log_gets_one_line_per_stage_and_per_cell_with_elapsed_and_eta(plan):
    stream = io.StringIO()
    progress = open_progress([*plan.stage_jobs, *plan.fold_jobs], enabled=True, stream=stream)
    assert isinstance(progress, LineProgress)
    _finish_all(progress, plan)
    text = stream.getvalue()
    lines = text.splitlines()
    assert "\r" not in text
    assert len(lines) == len(plan.stage_jobs) + len(plan.suite.cells)  # 1 stage + 4 cells
    assert lines[0].startswith("stage small_cnn/adam/pretrain:natural: validation accuracy 0.70")
    cells = [line for line in lines if line.startswith("cell ")]
    assert [line.split(":")[0][5:] for line in cells] == [c.id for c in plan.suite.cells]
    assert all("3 fold(s) stored, auc 0.800, accuracy 0.750" in line for line in cells)
    assert all(" elapsed, " in line for line in lines)
    assert lines[1].endswith(" left]") and lines[-1].endswith(", done]")
    assert f"[{progress.total}/{progress.total} jobs, " in lines[-1]


def test_verbose_adds_a_line_per_fold(plan):
    stream = io.StringIO()
    jobs = [*plan.stage_jobs, *plan.fold_jobs]
    _finish_all(open_progress(jobs, enabled=True, verbose=True, stream=stream), plan)
    folds = [line for line in stream.getvalue().splitlines() if line.startswith("fold ")]
    assert len(folds) == len(plan.fold_jobs)
    assert folds[0].startswith(f"fold {plan.fold_jobs[0].label}: auc 0.800")


def test_quiet_prints_nothing_and_a_terminal_gets_a_bar(plan):
    jobs = [*plan.stage_jobs, *plan.fold_jobs]
    silent = io.StringIO()
    progress = open_progress(jobs, enabled=False, stream=silent)
    assert isinstance(progress, NoProgress)
    _finish_all(progress, plan)
    assert silent.getvalue() == ""
    terminal = Terminal()
    bar = open_progress(jobs, enabled=True, stream=terminal)
    assert isinstance(bar, BarProgress)
    _finish_all(bar, plan)
    assert f"{len(jobs)}/{len(jobs)}" in terminal.getvalue()


def test_stage_accuracy_is_read_at_the_kept_epoch():
    history = {
        "val_loss": [2.0, 1.2, 1.5],
        "val_accuracy": [0.2, 0.65, 0.7],
        "val_chance": [0.125],
    }
    accuracy = stage_accuracy(history)
    assert accuracy == StageAccuracy(epochs=3, kept_epoch=2, accuracy=0.65, chance=0.125)
    assert not accuracy.near_chance
    # a quarter of the way from chance to perfect: 0.125 + 0.25 * 0.875 = 0.34375
    assert StageAccuracy(3, 1, 0.34, 0.125).near_chance
    assert not StageAccuracy(3, 1, 0.35, 0.125).near_chance
    assert stage_accuracy({"loss": [1.0]}) is None
    assert chance_accuracy([0, 0, 1, 2]) == 0.5


def test_a_run_warns_when_a_shared_stage_ends_near_chance(write_suite):
    from bench.engine.coordinator import RunOptions, run_suite

    # one epoch on 8 images per class: the pretraining stage cannot learn its 8 classes
    suite = load_suite(
        write_suite(
            replace={
                'strategy = ["scratch", "ctl"]': 'strategy = ["ctl"]',
                'optimizer = ["adam", "sgd"]': 'optimizer = ["adam"]',
            }
        )
    )
    summary = run_suite(suite, options=RunOptions(progress=False))
    warnings = [line for line in summary.lines() if line.startswith("warning: shared stage")]
    assert len(warnings) == 1
    assert "small_cnn/adam/pretrain:natural ended near chance, validation accuracy" in warnings[0]
    assert "against chance 0.14" in warnings[0]  # the most frequent class of the held-out patients
    assert set(summary.one_class_folds) == _one_class_folds_stored(suite.store_path)


def _one_class_folds_stored(path) -> set[str]:
    """Labels of the stored folds whose test predictions are all one class."""
    import json
    import sqlite3

    import numpy as np

    db = sqlite3.connect(path)
    rows = db.execute(
        "SELECT j.label, f.threshold, p.proba FROM predictions p JOIN fold_results f "
        "ON f.job = p.job JOIN jobs j ON j.hash = p.job"
    ).fetchall()
    predicted: dict[str, set[int]] = {}
    for label, threshold, proba in rows:
        p1 = json.loads(proba)[1]
        predicted.setdefault(label, set()).add(int(p1 >= threshold))
    db.close()
    assert len(predicted) == 3 and np.all([len(v) >= 1 for v in predicted.values()])
    return {label for label, classes in predicted.items() if len(classes) == 1}


def test_the_summary_names_folds_that_predicted_one_class():
    from bench.engine.coordinator import RunSummary

    summary = RunSummary(one_class_folds=[f"cell r0 f{i}" for i in range(7)])
    [line] = [line for line in summary.lines() if "one class" in line]
    assert line.startswith("warning: 7 fold(s) predicted one class for every test image")
    assert "(cell r0 f0, cell r0 f1, cell r0 f2, cell r0 f3, cell r0 f4 and 2 more)" in line
    assert not [line for line in RunSummary().lines() if "one class" in line]


def test_native_tensorflow_log_lines_are_recognised():
    kept = "a Python warning\n"
    text = (
        "WARNING: All log messages before absl::InitializeLog() is called are written to "
        "STDERR\n"
        "I0000 00:00:1796118097.889227   11844 port.cc:153] oneDNN custom operations are on.\n"
        "E0000 00:00:1796118097.889227   11844 cuda_dnn.cc:8310] Unable to register cuDNN\n" + kept
    )
    assert drop_native_log(text) == kept


def _import_keras_stderr(env_extra: dict) -> str:
    code = "from bench.quiet import quiet_tensorflow; quiet_tensorflow(); import keras; print('ok')"
    env = {k: v for k, v in __import__("os").environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    env.pop("BENCH_DEBUG", None)
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**env, **env_extra},
        check=True,
        timeout=300,
    )
    assert result.stdout.strip() == "ok"
    return result.stderr


def test_importing_tensorflow_prints_no_native_log_unless_debugging():
    quiet = _import_keras_stderr({})
    assert not [line for line in quiet.splitlines() if NATIVE_LOG.match(line)], quiet
    loud = _import_keras_stderr({"BENCH_DEBUG": "1"})
    if not any(NATIVE_LOG.match(line) for line in loud.splitlines()):
        pytest.skip("this TensorFlow build prints no native log lines on import")


def test_time_left_weighs_stages_and_folds_by_their_own_mean(plan, monkeypatch):
    now = [0.0]
    monkeypatch.setattr("bench.engine.progress.time.monotonic", lambda: now[0])
    progress = open_progress(
        [*plan.stage_jobs, *plan.fold_jobs], enabled=True, stream=io.StringIO()
    )
    assert progress.left() != progress.left()  # NaN: nothing finished yet
    now[0] = 60.0  # a 60 s stage
    progress.finished(plan.stage_jobs[0], stage=StageAccuracy(5, 3, 0.7, 0.125))
    assert progress.left() == 60.0 * len(plan.fold_jobs)  # no fold done yet: the overall mean
    for seconds in (3.0, 1.0):
        now[0] += seconds
        progress.finished(plan.fold_jobs[0], scores=SCORES)
    assert progress.left() == 2.0 * (len(plan.fold_jobs) - 2)  # folds: (3 + 1) / 2 each
