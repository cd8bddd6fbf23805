"""Several methods over several datasets: Friedman, Iman-Davenport, Nemenyi, Holm vs a control.

The decision procedure of Demsar (2006), for k methods scored on N independent datasets
(rows = datasets, columns = methods; the folds of one dataset are not independent datasets):

1. Rank the methods within each dataset (1 = best, ties get the average rank) and average.
2. Friedman's test asks whether all methods perform alike. Its chi-square is conservative, so
   the Iman-Davenport F derived from it decides: F = (N-1) chi2 / (N(k-1) - chi2) with
   (k-1, (k-1)(N-1)) degrees of freedom.
3. Only if it rejects, look at which methods differ:
   - all pairs: Nemenyi, two methods differ when their average ranks differ by at least the
     critical difference CD = q_alpha sqrt(k(k+1) / (6N)), q_alpha = studentized range
     quantile for k means and infinite df over sqrt(2); the CD diagram joins methods that
     do not differ (cliques);
   - against one control (e.g. the scratch baseline): z = (R_i - R_c) / sqrt(k(k+1) / (6N))
     with Holm's step-down, which is more powerful than Nemenyi for this narrower question.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from bench.errors import StatsError
from bench.stats.multiple import adjust_pvalues
from bench.stats.table import listing

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class FriedmanResult:
    """Friedman's chi-square and the Iman-Davenport F that decides (``p`` is the F test's).

    ``tie_correction`` is the factor C that divided chi2 (1 - sum(t^3 - t) / (N k (k^2 - 1))
    over tie groups of size t); it is 1.0 when there are no ties or no correction was asked.
    """

    n_blocks: int
    n_methods: int
    chi2: float
    chi2_df: int
    chi2_p: float
    f: float
    f_df1: int
    f_df2: int
    p: float
    tie_correction: float
    test: str = "Friedman test, Iman-Davenport F"


@dataclass(frozen=True)
class ControlComparison:
    """One method against the control: z on average ranks, Holm-adjusted, two-sided.

    ``rank_diff`` = R_method - R_control, negative when the method ranks better; ``rejected``
    means its Holm-adjusted p is <= alpha.
    """

    method: str
    control: str
    rank_diff: float
    z: float
    p: float
    p_adjusted: float
    rejected: bool
    test: str = "z test on average ranks, Holm step-down vs control"


@dataclass(frozen=True)
class RankingResult:
    """Everything a critical-difference diagram and its caption need.

    ``methods`` and ``average_ranks`` are in the input column order (rank 1 = best);
    ``cliques`` are the maximal groups (two or more methods, in rank order) whose average ranks
    differ by less than ``cd``; ``versus_control`` is empty unless a control was named.
    """

    methods: tuple[str, ...]
    average_ranks: tuple[float, ...]
    lower_is_better: bool
    n_blocks: int
    alpha: float
    friedman: FriedmanResult
    q_alpha: float
    cd: float
    cliques: tuple[tuple[str, ...], ...]
    control: str | None = None
    versus_control: tuple[ControlComparison, ...] = ()

    @property
    def order(self) -> tuple[str, ...]:
        """Methods from best to worst average rank."""
        return tuple(sorted(self.methods, key=self.rank_of))

    def rank_of(self, method: str) -> float:
        """The average rank of ``method``."""
        return self.average_ranks[self.methods.index(method)]


def average_ranks(table: pd.DataFrame, *, lower_is_better: bool = False) -> dict[str, float]:
    """Average rank of each method (column) over datasets (rows); 1 = best, ties averaged."""
    ranks = _rank_matrix(table, lower_is_better=lower_is_better)
    return {str(m): float(r) for m, r in zip(table.columns, ranks.mean(axis=0), strict=True)}


def friedman_test(table: pd.DataFrame, *, tie_correction: bool = True) -> FriedmanResult:
    """Friedman's test that all methods (columns) rank alike over datasets (rows).

    chi2 = 12N / (k(k+1)) [sum_j R_j^2 - k(k+1)^2 / 4] with R_j the average ranks, divided by
    the tie correction C (as scipy.stats.friedmanchisquare does; Demsar's formula is the
    uncorrected one, ``tie_correction=False``). The p-value to report is the Iman-Davenport
    ``p``; ``chi2_p`` is the chi-square approximation, with k - 1 df.
    """
    from scipy import stats

    ranks = _rank_matrix(table, lower_is_better=False)
    n, k = ranks.shape
    mean_ranks = ranks.mean(axis=0)
    chi2 = 12.0 * n / (k * (k + 1)) * (np.sum(mean_ranks**2) - k * (k + 1) ** 2 / 4.0)
    c = _tie_correction(ranks) if tie_correction else 1.0
    chi2 /= c
    f, p = iman_davenport(chi2, n_blocks=n, n_methods=k)
    return FriedmanResult(
        n_blocks=n,
        n_methods=k,
        chi2=float(chi2),
        chi2_df=k - 1,
        chi2_p=float(stats.chi2.sf(chi2, k - 1)),
        f=f,
        f_df1=k - 1,
        f_df2=(k - 1) * (n - 1),
        p=p,
        tie_correction=float(c),
    )


def iman_davenport(chi2: float, *, n_blocks: int, n_methods: int) -> tuple[float, float]:
    """Iman-Davenport F = (N-1) chi2 / (N(k-1) - chi2) and its p on (k-1, (k-1)(N-1)) df."""
    from scipy import stats

    n, k = n_blocks, n_methods
    denominator = n * (k - 1) - chi2
    # chi2 = N(k-1) is perfect agreement of all datasets: F is infinite, p is 0.
    if denominator <= 0.0:
        return math.inf, 0.0
    f = (n - 1) * chi2 / denominator
    return float(f), float(stats.f.sf(f, k - 1, (k - 1) * (n - 1)))


def nemenyi_q(n_methods: int, *, alpha: float = 0.05) -> float:
    """q_alpha of the Nemenyi test: the studentized range quantile (k, df=inf) / sqrt(2)."""
    from scipy import stats

    _check_alpha(alpha)
    if n_methods < 2:
        raise StatsError(f"the Nemenyi test needs at least 2 methods; got {n_methods}")
    return float(stats.studentized_range.ppf(1.0 - alpha, n_methods, np.inf) / math.sqrt(2.0))


def nemenyi_cd(n_methods: int, n_blocks: int, *, alpha: float = 0.05) -> float:
    """Nemenyi critical difference q_alpha sqrt(k(k+1) / (6N)) between average ranks."""
    return nemenyi_q(n_methods, alpha=alpha) * _rank_se(n_methods, n_blocks)


def nemenyi_cliques(ranks: Mapping[str, float], *, cd: float) -> tuple[tuple[str, ...], ...]:
    """Maximal groups of two or more methods whose average ranks differ by less than ``cd``.

    Two methods differ significantly when their ranks differ by at least CD (Demsar 2006), so a
    clique is a run of methods, in rank order, spanning less than CD. Runs contained in an
    earlier run are dropped; a method can sit in two overlapping cliques.
    """
    ordered = sorted(ranks.items(), key=lambda item: item[1])
    cliques, last_end = [], 0
    for start, (_, low) in enumerate(ordered):
        end = start
        while end + 1 < len(ordered) and ordered[end + 1][1] - low < cd:
            end += 1
        if end > start and end > last_end:
            cliques.append(tuple(name for name, _ in ordered[start : end + 1]))
            last_end = end
    return tuple(cliques)


def holm_versus_control(
    ranks: Mapping[str, float], *, control: str, n_blocks: int, alpha: float = 0.05
) -> tuple[ControlComparison, ...]:
    """Each method against ``control`` on average ranks, Holm step-down across the k - 1 tests.

    z = (R_i - R_control) / sqrt(k(k+1) / (6N)), p = 2 (1 - Phi(|z|)); a method differs from
    the control when its Holm-adjusted p is <= ``alpha``.
    """
    from scipy import stats

    _check_alpha(alpha)
    if control not in ranks:
        raise StatsError(f"unknown control {control!r}; pass one of the methods: {listing(ranks)}")
    others = [m for m in ranks if m != control]
    se = _rank_se(len(ranks), n_blocks)
    z = np.array([(ranks[m] - ranks[control]) / se for m in others])
    p = np.minimum(1.0, 2.0 * stats.norm.sf(np.abs(z)))
    adjusted = adjust_pvalues(p, method="holm")
    return tuple(
        ControlComparison(
            method=m,
            control=control,
            rank_diff=float(ranks[m] - ranks[control]),
            z=float(zi),
            p=float(pi),
            p_adjusted=float(ai),
            rejected=bool(ai <= alpha),
        )
        for m, zi, pi, ai in zip(others, z, p, adjusted, strict=True)
    )


def rank_methods(
    table: pd.DataFrame,
    *,
    lower_is_better: bool = False,
    alpha: float = 0.05,
    control: str | None = None,
    tie_correction: bool = True,
) -> RankingResult:
    """Run the whole procedure of this module on ``table`` (rows datasets, columns methods).

    Set ``lower_is_better=True`` for loss or Brier scores (see
    :data:`bench.stats.LOWER_IS_BETTER`); it changes the ranks, not the Friedman statistic.
    Read the post-hoc results (cliques, ``versus_control``) only when ``friedman.p <= alpha``.
    """
    ranks = average_ranks(table, lower_is_better=lower_is_better)
    n_blocks, n_methods = table.shape
    cd = nemenyi_cd(n_methods, n_blocks, alpha=alpha)
    versus: tuple[ControlComparison, ...] = ()
    if control is not None:
        versus = holm_versus_control(ranks, control=control, n_blocks=n_blocks, alpha=alpha)
    return RankingResult(
        methods=tuple(ranks),
        average_ranks=tuple(ranks.values()),
        lower_is_better=lower_is_better,
        n_blocks=n_blocks,
        alpha=alpha,
        friedman=friedman_test(table, tie_correction=tie_correction),
        q_alpha=nemenyi_q(n_methods, alpha=alpha),
        cd=cd,
        cliques=nemenyi_cliques(ranks, cd=cd),
        control=control,
        versus_control=versus,
    )


def _rank_matrix(table: pd.DataFrame, *, lower_is_better: bool) -> np.ndarray:
    from scipy import stats

    values = _check_table(table)
    return stats.rankdata(values if lower_is_better else -values, axis=1)


def _check_table(table: pd.DataFrame) -> np.ndarray:
    n, k = table.shape
    if k < 2 or n < 2:
        raise StatsError(
            f"ranking needs at least 2 methods (columns) and 2 datasets (rows); got {k} and {n}"
        )
    names = [str(c) for c in table.columns]
    if len(set(names)) < k:
        raise StatsError(
            f"method names repeat in the table columns ({listing(names)}); make them unique"
        )
    values = table.to_numpy(dtype=float)
    if not np.isfinite(values).all():
        rows = [
            str(i)
            for i, bad in zip(table.index, ~np.isfinite(values).all(axis=1), strict=True)
            if bad
        ]
        raise StatsError(
            f"scores are NaN or infinite for dataset(s) {listing(rows)}; drop or fill them"
        )
    return values


def _tie_correction(ranks: np.ndarray) -> float:
    n, k = ranks.shape
    ties = sum(
        float(np.sum(c**3 - c)) for c in (np.unique(row, return_counts=True)[1] for row in ranks)
    )
    c = 1.0 - ties / (n * k * (k**2 - 1))
    if c == 0.0:
        raise StatsError("every dataset ties all methods, so ranks carry no information to test")
    return c


def _rank_se(n_methods: int, n_blocks: int) -> float:
    return math.sqrt(n_methods * (n_methods + 1) / (6.0 * n_blocks))


def _check_alpha(alpha: float) -> None:
    if not 0.0 < alpha < 1.0:
        raise StatsError(f"alpha={alpha} must lie strictly between 0 and 1, e.g. 0.05")
