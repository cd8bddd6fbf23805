"""Read the store as a *scores table*: one row per (cell, repeat, fold), one column per metric.

This is the one shape statistics and reports consume (see bench.stats and bench.report).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from bench.errors import BenchError
from bench.store.db import Store

if TYPE_CHECKING:
    import pandas as pd

META = (
    "SELECT r.job, r.cell, r.factors, r.repeat, r.fold, r.n_train, r.n_test FROM plan p "
    "JOIN fold_results r ON r.job = p.job "
    "WHERE p.suite_hash = ? AND p.profile = ? AND p.kind = 'fold'"
)
SCORES = (
    "SELECT s.job, s.metric, s.value FROM plan p JOIN scores s ON s.job = p.job "
    "WHERE p.suite_hash = ? AND p.profile = ? AND p.kind = 'fold'"
)


def load_scores(store: Store, *, suite_hash: str, profile: str) -> pd.DataFrame:
    """The planned folds of (suite_hash, profile) that finished, as a pandas DataFrame."""
    import pandas as pd

    meta = pd.read_sql_query(META, store.db, params=(suite_hash, profile))
    if meta.empty:
        raise BenchError(
            f"{store.path}: no finished folds for this suite and profile ({profile}); "
            "run `bench run` on the suite first"
        )
    long = pd.read_sql_query(SCORES, store.db, params=(suite_hash, profile))
    wide = long.pivot(index="job", columns="metric", values="value")
    table = meta.merge(wide, left_on="job", right_index=True, how="left")
    factors = [json.loads(text) for text in table["factors"]]
    names = list(factors[0])
    for position, name in enumerate(names, start=1):
        table.insert(position, name, [str(f.get(name, "")) for f in factors])
    table = table.drop(columns=["job", "factors"])
    table = table.sort_values(["cell", "repeat", "fold"], kind="stable").reset_index(drop=True)
    table.columns.name = None
    table.attrs["factors"] = names
    return table


VALIDATION = (
    "SELECT r.cell, r.repeat, r.fold, r.val_scores FROM plan p "
    "JOIN fold_results r ON r.job = p.job "
    "WHERE p.suite_hash = ? AND p.profile = ? AND p.kind = 'fold'"
)


def with_validation_scores(
    store: Store, table: pd.DataFrame, *, suite_hash: str, profile: str
) -> pd.DataFrame:
    """``table`` (from :func:`load_scores`) with ``val_<metric>`` columns: each fold's
    scores on its inner validation split (absent in stores that predate them)."""
    import pandas as pd

    rows = store.db.execute(VALIDATION, (suite_hash, profile)).fetchall()
    records = [
        {"cell": cell, "repeat": repeat, "fold": fold}
        | {f"val_{k}": v for k, v in json.loads(text).items()}
        for cell, repeat, fold, text in rows
        if text
    ]
    if not records:
        return table
    merged = table.merge(pd.DataFrame(records), on=["cell", "repeat", "fold"], how="left")
    merged.attrs = table.attrs
    return merged


def identify_suite(store: Store, *, suite_hash: str | None, profile: str | None) -> tuple[str, str]:
    """The (suite hash, profile) to read: the ones given, else the latest run's (of
    ``profile``, when given)."""
    if suite_hash is not None:
        if profile is None:
            raise ValueError("a suite hash is read with its profile")
        return suite_hash, profile
    run = store.latest_run(profile=profile)
    if run is None:
        where = f" for profile {profile!r}" if profile else ""
        raise BenchError(f"{store.path}: the database holds no runs{where}")
    return run["suite_hash"], run["profile"]


def scores_for(
    target: str, *, profile: str | None = None, validation: bool = False
) -> pd.DataFrame:
    """Scores of a suite file (``suites/x.toml``) or of a results name (``results/<name>``);
    with ``validation``, also each fold's inner-validation scores (``val_<metric>``)."""
    if target.endswith(".toml"):
        from bench.config import load_suite

        suite = load_suite(target, profile=profile)
        path, suite_hash, profile = suite.store_path, suite.hash, suite.profile
    else:
        path = Path("results") / target / "bench.sqlite"
        suite_hash = None
    if not Path(path).is_file():
        raise BenchError(f"{path}: no results database; run `bench run` or `bench import` first")
    store = Store(path)
    try:
        suite_hash, profile = identify_suite(store, suite_hash=suite_hash, profile=profile)
        table = load_scores(store, suite_hash=suite_hash, profile=profile)
        if validation:
            table = with_validation_scores(store, table, suite_hash=suite_hash, profile=profile)
        return table
    finally:
        store.close()
