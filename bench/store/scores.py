"""Read the store as a *scores table*: one row per (cell, repeat, fold), one column per metric.

This is the one shape statistics and reports consume (see bench.stats and bench.report).
"""

from __future__ import annotations

import json

from bench.errors import BenchError
from bench.store.db import Store


def load_scores(store: Store, *, suite_hash: str, profile: str):
    """The planned folds of (suite_hash, profile) that finished, as a pandas DataFrame."""
    import pandas as pd

    query = (
        "SELECT r.job, r.cell, r.factors, r.repeat, r.fold, r.n_train, r.n_test, s.metric, s.value"
        " FROM plan p JOIN fold_results r ON r.job = p.job JOIN scores s ON s.job = r.job"
        " WHERE p.suite_hash = ? AND p.profile = ? AND p.kind = 'fold'"
    )
    long = pd.read_sql_query(query, store.db, params=(suite_hash, profile))
    if long.empty:
        raise BenchError(
            f"{store.path}: no finished folds for this suite and profile ({profile}); "
            "run `bench run` on the suite first"
        )
    wide = long.pivot_table(index=["job", "cell", "factors", "repeat", "fold", "n_train",
                                    "n_test"], columns="metric", values="value").reset_index()
    wide.columns.name = None
    factors = _factor_columns(wide)
    table = wide.drop(columns=["job", "factors"])
    for name, values in factors.items():
        table.insert(1, name, values)
    table = table.sort_values(["cell", "repeat", "fold"], kind="stable").reset_index(drop=True)
    table.attrs["factors"] = list(factors)
    return table


def _factor_columns(wide) -> dict[str, list[str]]:
    parsed = [json.loads(text) for text in wide["factors"]]
    names = list(parsed[0]) if parsed else []
    return {name: [str(p.get(name, "")) for p in parsed] for name in reversed(names)}
