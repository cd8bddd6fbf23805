"""The Optuna studies of a tuned run open from the URL the README gives optuna-dashboard."""

from __future__ import annotations

import optuna

from bench.config.spec import ParamSpec, TuningSpec
from bench.engine import tuning


def test_stored_studies_open_from_their_sqlite_url(tmp_path):
    path = tmp_path / "results" / "tiny" / "studies.sqlite"  # Suite.studies_path's layout
    space = (ParamSpec(name="learning_rate", kind="float", low=1e-4, high=1e-2, log=True),)
    spec = TuningSpec(n_trials=3, pruner="none", space=space)
    best = tuning.search(
        study_name="job-hash",
        storage_path=path,
        tuning=spec,
        seed=1,
        objective=lambda trial, params: abs(params["learning_rate"] - 1e-3),
    )
    url = f"sqlite:///{path}"  # `optuna-dashboard sqlite:///results/<suite>/studies.sqlite`
    assert optuna.get_all_study_names(storage=url) == ["job-hash"]
    study = optuna.load_study(study_name="job-hash", storage=url)
    assert len(study.trials) == 3
    assert study.best_params == best
