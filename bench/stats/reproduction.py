"""Per cell: did the reproduction get the published number? Verdicts against a published table.

The published table is a scores table as ``bench import`` stores it (one row per cell, or per
fold; its mean per cell is the published value). Each published cell is matched with the
reproduced cell that has the same levels of the published table's factors, and its fold
scores are tested with :func:`bench.stats.equivalence_to_value` (Nadeau-Bengio corrected
standard error from the fold sizes).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bench.errors import StatsError
from bench.stats.equivalence import VERDICTS, Equivalence, equivalence_to_value
from bench.stats.samples import is_constant
from bench.stats.table import listing, metric_columns, require_columns, resolve_factors

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class Reproduction:
    """One published cell on one metric: its verdict, and the test behind it.

    ``test`` is None when the reproduction has fewer than two fold scores or they are all
    equal (no standard error); the verdict is then ``inconclusive`` and ``note`` says why.
    """

    metric: str
    published_cell: str
    cell: str
    n: int
    mean: float
    published: float
    verdict: str
    test: Equivalence | None
    note: str = ""


@dataclass(frozen=True)
class Reproductions:
    """Every verdict, and the published cells no reproduced cell matched."""

    rows: tuple[Reproduction, ...]
    not_reproduced: tuple[str, ...]
    margin: float
    alpha: float

    def counts(self) -> dict[str, int]:
        return {v: sum(r.verdict == v for r in self.rows) for v in VERDICTS}


def reproduction_verdicts(
    scores: pd.DataFrame,
    published: pd.DataFrame,
    *,
    margin: float,
    metrics: Sequence[str] | None = None,
    alpha: float = 0.05,
) -> Reproductions:
    """Verdicts of every published cell reproduced in ``scores``, on each of ``metrics``
    (default: every metric both tables hold, in the published table's order)."""
    require_columns(scores, ("cell", "n_train", "n_test"), why="the corrected standard error")
    factors = resolve_factors(published)
    missing = [f for f in factors if f not in scores.columns]
    if missing:
        raise StatsError(
            f"the published table's factor(s) {listing(missing)} are not factors of the "
            f"reproduction ({listing(resolve_factors(scores))}); name the published columns "
            "like the suite's grid axes"
        )
    metrics = _metrics(scores, published, metrics)
    reproduced = dict(iter(scores.groupby(list(factors), sort=False)))
    rows, not_reproduced = [], []
    for levels, cell_rows in published.groupby(list(factors), sort=False):
        label = "|".join(f"{f}={v}" for f, v in zip(factors, levels, strict=True))
        if levels not in reproduced:
            not_reproduced.append(label)
            continue
        folds = reproduced[levels]
        cells = list(dict.fromkeys(folds["cell"]))
        if len(cells) > 1:
            raise StatsError(
                f"published cell {label} matches {len(cells)} reproduced cells "
                f"({listing(cells)}); add the factor that tells them apart to the published table"
            )
        for metric in metrics:
            value = float(cell_rows[metric].mean())
            rows.append(_verdict(folds, metric, value, label, cells[0], margin, alpha))
    if not rows:
        raise StatsError(
            f"no published cell is in the reproduction (published: {listing(not_reproduced)}); "
            "check that both tables spell the factor levels alike"
        )
    return Reproductions(tuple(rows), tuple(not_reproduced), margin=margin, alpha=alpha)


def _metrics(scores, published, metrics: Sequence[str] | None) -> tuple[str, ...]:
    shared = [m for m in metric_columns(published) if m in scores.columns]
    if metrics is None:
        if not shared:
            raise StatsError(
                f"the published table and the reproduction share no metric (published: "
                f"{listing(metric_columns(published))}; reproduced: "
                f"{listing(metric_columns(scores))})"
            )
        return tuple(shared)
    absent = [m for m in metrics if m not in shared]
    if absent:
        raise StatsError(
            f"metric {listing(absent)} is not in both tables; choose from: {listing(shared)}"
        )
    return tuple(metrics)


def _verdict(folds, metric, value, label, cell, margin, alpha) -> Reproduction:
    x = folds[metric].to_numpy(dtype=float)
    base = dict(metric=metric, published_cell=label, cell=cell, n=x.size, published=value)
    mean = float(x.mean())
    if x.size < 2 or is_constant(x):
        why = "one fold score" if x.size < 2 else "every fold scored the same"
        return Reproduction(**base, mean=mean, verdict="inconclusive", test=None, note=why)
    if folds[["n_train", "n_test"]].isna().to_numpy().any():
        raise StatsError(
            f"reproduced cell {cell} has no fold sizes (n_train, n_test), which the corrected "
            "standard error needs; reproduce with `bench run`, or import n_train and n_test"
        )
    test = equivalence_to_value(
        x,
        reference=value,
        margin=margin,
        alpha=alpha,
        n_train=folds["n_train"].to_numpy(dtype=float),
        n_test=folds["n_test"].to_numpy(dtype=float),
    )
    return Reproduction(**base, mean=mean, verdict=test.verdict, test=test)
