"""End to end on a tiny suite: plan → train → store → resume → report."""

import json
import sqlite3

import numpy as np
import pytest

from bench.config import load_suite
from bench.engine import jobs
from bench.engine.coordinator import RunOptions, run_suite
from bench.engine.plan import make_plan
from bench.report.write import ReportRequest, write_report
from bench.store.db import Store
from bench.store.scores import load_scores

QUIET = RunOptions(progress=False)


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """The tiny suite run once; shared by the read-only tests below."""
    from tests.conftest import TINY_SUITE

    root = tmp_path_factory.mktemp("finished")
    path = root / "tiny.toml"
    path.write_text(TINY_SUITE.format(root=root))
    suite = load_suite(path)
    return suite, run_suite(suite, options=QUIET)


def test_first_run_trains_every_fold_and_each_shared_stage_once(finished):
    _suite, summary = finished
    assert summary.folds_trained == 4 * 3 and summary.folds_stored == 0
    assert summary.stages_trained == 1  # small_cnn pretraining on natural, shared by every ctl fold
    assert summary.failed == [] and not summary.interrupted
    # adam/sgd × scratch/ctl share two graphs: two builds, the other folds reuse them
    assert summary.models_built == 1 + 2 and summary.models_reused == 12 - 2


def test_rerun_trains_nothing(finished):
    suite, _ = finished
    again = run_suite(suite, options=QUIET)
    assert (again.folds_trained, again.folds_stored) == (0, 12)
    assert (again.stages_trained, again.stages_reused) == (0, 1)
    assert again.models_built == 0


def test_scores_table_and_stored_predictions(finished):
    suite, _ = finished
    store = Store(suite.store_path)
    scores = load_scores(store, suite_hash=suite.hash, profile=suite.profile)
    assert len(scores) == 12 and scores.attrs["factors"] == ["backbone", "optimizer", "strategy"]
    assert scores[["accuracy", "auc", "f1"]].notna().all().all()
    assert scores["accuracy"].between(0, 1).all()
    n = store.db.execute("SELECT COUNT(*), COUNT(DISTINCT sample) FROM predictions").fetchone()
    assert n == (4 * 24, 24)  # every image predicted once per cell
    assert store.db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    store.close()


def test_stored_scores_match_recomputed_predictions(finished):
    from bench.metrics import compute_metrics

    suite, _ = finished
    db = sqlite3.connect(suite.store_path)
    job, threshold = db.execute("SELECT job, threshold FROM fold_results LIMIT 1").fetchone()
    rows = db.execute("SELECT y_true, proba FROM predictions WHERE job = ?", (job,)).fetchall()
    y = np.array([r[0] for r in rows])
    proba = np.array([json.loads(r[1]) for r in rows])
    stored = dict(db.execute("SELECT metric, value FROM scores WHERE job = ?", (job,)).fetchall())
    recomputed = compute_metrics(y, proba, threshold=threshold)
    for metric in ("accuracy", "auc", "f1", "mcc"):
        assert stored[metric] == pytest.approx(recomputed[metric], abs=1e-6)


def test_outer_folds_are_leak_free(finished):
    suite, _ = finished
    plan = make_plan(suite)
    from bench.data.sources import load_dataset

    target = load_dataset(suite.datasets["target"], image_size=suite.image_size)
    tested = np.concatenate([job.fold.test for job in plan.fold_jobs[:3]])
    assert sorted(tested) == list(range(len(target.labels)))  # each image tested exactly once
    for job in plan.fold_jobs:
        fold = job.fold
        assert not set(fold.test) & (set(fold.train) | set(fold.val))
        assert not set(fold.train) & set(fold.val)
        test_patients = set(target.groups[fold.test])
        assert not test_patients & set(target.groups[np.r_[fold.train, fold.val]])


def test_report_writes_markdown_and_latex(finished):
    suite, _ = finished
    files = write_report(suite, request=ReportRequest(latex=True))
    names = [f.name for f in files]
    assert names[:3] == ["report.md", "leaderboard.md", "folds.csv"]
    assert {"leaderboard.tex", "report.tex"} <= set(names)
    markdown = files[0].read_text()
    assert files[1].read_text() in markdown  # the leaderboard table, also on its own
    assert markdown.count("| small_cnn") >= 4 and "**" in markdown and suite.hash in markdown
    assert "\\toprule" in files[names.index("leaderboard.tex")].read_text()


def test_failed_job_is_stored_skipped_and_retried(write_suite, monkeypatch):
    suite = load_suite(
        write_suite(
            replace={
                'strategy = ["scratch", "ctl"]': 'strategy = ["scratch"]',
                'optimizer = ["adam", "sgd"]': 'optimizer = ["adam"]',
            }
        )
    )
    real = jobs.run_fold_job

    def flaky(job, worker):
        if job.fold.fold == 1:
            raise RuntimeError("simulated out of memory")
        return real(job, worker)

    monkeypatch.setattr(jobs, "run_fold_job", flaky)
    first = run_suite(suite, options=QUIET)
    assert (
        first.folds_trained == 2 and first.failed[0][1] == "RuntimeError: simulated out of memory"
    )
    store = Store(suite.store_path)
    error, tb = store.db.execute(
        "SELECT error, traceback FROM jobs WHERE status = 'failed'"
    ).fetchone()
    store.close()
    assert "simulated out of memory" in error and "Traceback" in tb
    monkeypatch.setattr(jobs, "run_fold_job", real)
    second = run_suite(suite, options=QUIET)
    assert second.folds_trained == 0 and len(second.failed) == 1  # never silently counted as done
    third = run_suite(suite, options=RunOptions(progress=False, retry_failed=True))
    assert third.folds_trained == 1 and third.failed == []


def test_graph_reuse_changes_speed_not_results(write_suite):
    path = write_suite(replace={'optimizer = ["adam", "sgd"]': 'optimizer = ["adam"]'})
    reused = load_suite(path)
    fresh = load_suite(
        write_suite(
            replace={
                'optimizer = ["adam", "sgd"]': 'optimizer = ["adam"]',
                'name = "tiny"': 'name = "tiny-fresh"',
            },
            name="b.toml",
        )
    )
    a = run_suite(reused, options=QUIET)
    b = run_suite(fresh, options=RunOptions(progress=False, reuse=False))
    assert a.models_reused > 0 and b.models_reused == 0
    sa = Store(reused.store_path)
    sb = Store(fresh.store_path)
    ta = load_scores(sa, suite_hash=reused.hash, profile="default")
    tb = load_scores(sb, suite_hash=fresh.hash, profile="default")
    np.testing.assert_array_equal(ta["auc"].to_numpy(), tb["auc"].to_numpy())
    np.testing.assert_array_equal(ta["loss"].to_numpy(), tb["loss"].to_numpy())


def test_second_suite_reuses_the_shared_pretraining_stage(write_suite):
    one_cell = {
        'optimizer = ["adam", "sgd"]': 'optimizer = ["adam"]',
        'strategy = ["scratch", "ctl"]': 'strategy = ["ctl"]',
    }
    first = load_suite(write_suite(replace=one_cell))
    other_target = {
        **one_cell,
        'name = "tiny"': 'name = "other"',
        "difficulty = 0.2": "difficulty = 0.6",
    }
    second = load_suite(write_suite(replace=other_target, name="other.toml"))
    assert first.artifacts_dir == second.artifacts_dir and first.hash != second.hash
    assert run_suite(first, options=QUIET).stages_trained == 1
    summary = run_suite(second, options=QUIET)
    assert (summary.stages_trained, summary.stages_reused, summary.folds_trained) == (0, 1, 3)
    store = Store(second.store_path)
    (job, status), *others = store.db.execute("SELECT hash, status FROM jobs WHERE kind = 'stage'")
    assert status == "done" and others == []  # recorded here, with its learning curve
    assert store.db.execute("SELECT COUNT(*) FROM histories WHERE job = ?", (job,)).fetchone()[0]
    store.close()


def test_without_reuse_every_fold_trains_its_own_copy_of_the_stage(write_suite):
    suite = load_suite(write_suite(replace={'optimizer = ["adam", "sgd"]': 'optimizer = ["adam"]'}))
    summary = run_suite(suite, options=RunOptions(progress=False, reuse=False))
    assert summary.stages_trained == 3  # the ctl cell's three folds; scratch has no stage
    assert summary.stages_reused == 0 and summary.models_reused == 0


def test_files_skipped_as_bad_are_in_the_summary_and_the_run_record(write_suite, tmp_path):
    from tests.data.conftest import picture, save

    root = tmp_path / "scans"
    for index in range(12):
        save(root / ("benign", "malignant")[index % 2] / f"{index}.png", picture(index))
    (root / "benign" / "broken.png").write_bytes(b"not a png at all")
    suite = load_suite(
        write_suite(
            replace={
                'source = "synthetic:ultrasound"': f'source = "folder:{root}"\n'
                'on_bad_image = "skip"',
                'optimizer = ["adam", "sgd"]': 'optimizer = ["adam"]',
                'strategy = ["scratch", "ctl"]': 'strategy = ["scratch"]',
            }
        )
    )
    summary = run_suite(suite, options=QUIET)
    assert summary.folds_trained == 3
    line = summary.lines()[-1]
    assert line.startswith("skipped 1 file(s) of dataset 'target' (on_bad_image = \"skip\"): ")
    assert "broken.png (not an image Pillow can read" in line
    store = Store(suite.store_path)
    (provenance,) = store.db.execute("SELECT provenance FROM runs").fetchone()
    store.close()
    (path, reason), *others = json.loads(provenance)["skipped_files"]["target"]
    assert path.endswith("broken.png") and "Pillow" in reason and others == []
