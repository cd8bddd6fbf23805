"""Compare every level of a factor with a baseline level, over cells matched on the rest.

Choosing ``test`` (the docstring of :func:`compare_levels` is the decision procedure):

- ``paired_t`` (default): paired t-test on per-cell means, one pair per combination of the
  other factors (e.g. each backbone x optimizer). The cells are the independent units; this
  is the published MSTL vs CTL comparison and works on tables with one score per cell.
- ``wilcoxon``: Wilcoxon signed-rank on the same pairs, when a few pairs are far from the rest
  or the differences are clearly skewed; it tests a shift, not the mean.
- ``corrected_t``: the grid-level claim on fold scores. Within each (repeat, fold) the a - b
  differences are averaged over matched cells, and the J fold means go through the
  Nadeau-Bengio corrected t-test, because folds overlap in training data. Use it when the
  claim is "a beats b on this dataset" and the grid has few cells; needs fold sizes.
- ``bayes``: the Bayesian correlated t-test on the same J fold means; reports P(a - b <
  -rope), P(|a - b| <= rope), P(a - b > rope) instead of a p-value.

p-values are adjusted across the returned comparisons (Holm by default).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from bench.errors import StatsError
from bench.metrics import higher_is_better
from bench.stats.bayesian import bayes_correlated_t
from bench.stats.corrected import corrected_t
from bench.stats.effect import cohens_dz
from bench.stats.folds import FoldDifferences, grid_fold_differences
from bench.stats.matching import check_level, match_levels, matched_means, require_pairs
from bench.stats.multiple import ADJUSTMENTS, adjust_pvalues
from bench.stats.paired import paired_t, wilcoxon_signed_rank
from bench.stats.results import SignificanceResult
from bench.stats.samples import is_constant
from bench.stats.table import (
    check_factor,
    check_finite,
    check_metric,
    check_unique_folds,
    levels_of,
    listing,
    resolve_factors,
)

if TYPE_CHECKING:
    import pandas as pd

TESTS = {
    "paired_t": "paired t-test",
    "wilcoxon": "Wilcoxon signed-rank",
    "corrected_t": "Nadeau-Bengio corrected t-test",
    "bayes": "Bayesian correlated t-test",
}


@dataclass(frozen=True)
class Frequentist:
    """A frequentist test's side of a comparison: its statistic and p, and, once adjusted
    across the family, the adjusted p; ``significant`` is p_adjusted (or p) <= alpha."""

    statistic: float | None
    statistic_name: str | None
    p: float
    tail: str | None
    significant: bool
    p_adjusted: float | None = None
    adjust: str | None = None


@dataclass(frozen=True)
class Bayesian:
    """The Bayesian correlated t-test's side: ``p_left`` = P(a - b < -rope), ``p_rope``,
    ``p_right`` = P(a - b > rope)."""

    rope: float
    p_left: float
    p_rope: float
    p_right: float


def _part(kind: type, name: str) -> property:
    """A field of the comparison's ``outcome`` when it is a ``kind``, else None."""
    return property(
        lambda self: getattr(self.outcome, name) if isinstance(self.outcome, kind) else None
    )


@dataclass(frozen=True)
class Comparison:
    """Level ``a`` of ``factor`` against baseline level ``b`` on ``metric``.

    ``mean_diff`` is the raw a - b (never sign-flipped; read it with ``higher_is_better``).
    ``n`` counts matched cell pairs, ``n_folds`` the fold means of the fold-level tests.
    ``test`` names the test; ``method`` its variant. ``outcome`` is :class:`Frequentist`
    (p-values) or, for ``bayes``, :class:`Bayesian` (posterior probabilities; the interval is
    then the posterior credible interval); the fields of both read as attributes of the
    comparison, None where its test has none. ``effect_size`` is Cohen's d_z of the
    differences the test used (None when they are all equal). ``unmatched`` lists the cells
    left out for lack of a partner.
    """

    metric: str
    factor: str
    a: str
    b: str
    n: int
    mean_diff: float
    ci_low: float | None
    ci_high: float | None
    confidence: float
    df: float | None
    alpha: float
    effect_size: float | None
    effect_name: str
    test: str
    method: str | None
    higher_is_better: bool
    unmatched: tuple[str, ...]
    outcome: Frequentist | Bayesian
    n_folds: int | None = None

    statistic = _part(Frequentist, "statistic")
    statistic_name = _part(Frequentist, "statistic_name")
    p = _part(Frequentist, "p")
    p_adjusted = _part(Frequentist, "p_adjusted")
    adjust = _part(Frequentist, "adjust")
    significant = _part(Frequentist, "significant")
    tail = _part(Frequentist, "tail")
    rope = _part(Bayesian, "rope")
    p_left = _part(Bayesian, "p_left")
    p_rope = _part(Bayesian, "p_rope")
    p_right = _part(Bayesian, "p_right")


# A comparison as one flat record (JSON, CSV): these columns in this order.
RECORD_FIELDS = (
    "metric", "factor", "a", "b", "n", "mean_diff", "ci_low", "ci_high", "confidence",
    "statistic", "statistic_name", "df", "p", "p_adjusted", "adjust", "alpha", "significant",
    "effect_size", "effect_name", "test", "method", "tail", "higher_is_better", "unmatched",
    "n_folds", "rope", "p_left", "p_rope", "p_right",
)  # fmt: skip


def compare_levels(
    scores: pd.DataFrame,
    *,
    metric: str,
    factor: str,
    baseline: str,
    test: str = "paired_t",
    adjust: str = "holm",
    alpha: float = 0.05,
    rope: float = 0.01,
    factors: Sequence[str] | None = None,
) -> tuple[Comparison, ...]:
    """One :class:`Comparison` per non-baseline level of ``factor`` against ``baseline``.

    Levels come in order of first appearance in ``scores``. Cells are matched on all other
    factors. ``test`` is one of :data:`TESTS` (see the module docstring for which to choose);
    ``adjust`` is ``"holm"``, ``"bonferroni"``, ``"bh"`` or ``"none"``, applied across the
    returned comparisons. Intervals have confidence 1 - ``alpha``. ``rope`` (metric units) is
    used by ``bayes`` only. Per-cell tests need two matched pairs; fold-level tests need fold
    sizes and two (repeat, fold)s.
    """
    _check_options(test=test, adjust=adjust, alpha=alpha)
    factors = resolve_factors(scores, factors=factors)
    check_metric(scores, metric)
    check_factor(factor, factors)
    check_finite(scores, metric)
    check_unique_folds(scores)
    check_level(scores, factor=factor, level=baseline)
    levels = [level for level in levels_of(scores, factor) if level != baseline]
    if not levels:
        raise StatsError(
            f"{factor} has no level besides the baseline {baseline!r}; add one to the grid"
        )
    setup = _Setup(scores, metric, factor, baseline, factors, alpha, rope)
    rows = [_COMPARERS[test](setup, level) for level in levels]
    return adjust_comparisons(rows, adjust=adjust)


@dataclass(frozen=True)
class _Setup:
    scores: pd.DataFrame
    metric: str
    factor: str
    baseline: str
    factors: tuple[str, ...]
    alpha: float
    rope: float


def _check_options(*, test: str, adjust: str, alpha: float) -> None:
    if test not in TESTS:
        raise StatsError(f"unknown test {test!r}; use one of: {listing(TESTS)}")
    if adjust != "none" and adjust not in ADJUSTMENTS:
        raise StatsError(
            f"unknown adjust {adjust!r}; use one of: {listing([*ADJUSTMENTS, 'none'])}"
        )
    if not 0.0 < alpha < 1.0:
        raise StatsError(f"alpha={alpha} must lie strictly between 0 and 1, e.g. 0.05")


def _per_cell(setup: _Setup, level: str, *, test: str) -> Comparison:
    matched = match_levels(
        setup.scores, factor=setup.factor, a=level, b=setup.baseline, factors=setup.factors
    )
    require_pairs(matched, at_least=2)
    a_means, b_means = matched_means(setup.scores, matched, metric=setup.metric)
    if test == "paired_t":
        result = paired_t(a_means, b_means, confidence=1.0 - setup.alpha)
    else:
        result = wilcoxon_signed_rank(a_means, b_means)
    return _from_significance(
        setup,
        level,
        result,
        test=test,
        n=len(matched.pairs),
        diffs=a_means - b_means,
        unmatched=matched.unmatched,
    )


def _paired_t(setup: _Setup, level: str) -> Comparison:
    return _per_cell(setup, level, test="paired_t")


def _wilcoxon(setup: _Setup, level: str) -> Comparison:
    return _per_cell(setup, level, test="wilcoxon")


def _grid_differences(setup: _Setup, level: str) -> FoldDifferences:
    fd = grid_fold_differences(
        setup.scores,
        metric=setup.metric,
        factor=setup.factor,
        a=level,
        b=setup.baseline,
        factors=setup.factors,
    )
    if len(fd.diffs) < 2:
        raise StatsError(
            f"{setup.factor}={level} vs {setup.baseline}: only {len(fd.diffs)} (repeat, fold) "
            "per cell (a published table?); fold-level tests need at least 2: "
            "use test='paired_t' or 'wilcoxon'"
        )
    return fd


def _corrected_t(setup: _Setup, level: str) -> Comparison:
    fd = _grid_differences(setup, level)
    result = corrected_t(
        fd.diffs, n_train=fd.n_train, n_test=fd.n_test, confidence=1.0 - setup.alpha
    )
    return _from_significance(
        setup,
        level,
        result,
        test="corrected_t",
        n=fd.n_pairs,
        diffs=np.asarray(fd.diffs),
        unmatched=fd.unmatched,
        n_folds=len(fd.diffs),
    )


def _bayes(setup: _Setup, level: str) -> Comparison:
    fd = _grid_differences(setup, level)
    result = bayes_correlated_t(
        fd.diffs,
        n_train=fd.n_train,
        n_test=fd.n_test,
        rope=setup.rope,
        confidence=1.0 - setup.alpha,
    )
    return Comparison(
        metric=setup.metric,
        factor=setup.factor,
        a=level,
        b=setup.baseline,
        n=fd.n_pairs,
        mean_diff=result.location,
        ci_low=result.ci_low,
        ci_high=result.ci_high,
        confidence=result.confidence,
        df=result.df,
        alpha=setup.alpha,
        effect_size=_effect(np.asarray(fd.diffs)),
        effect_name="d_z",
        test=TESTS["bayes"],
        method=f"rho = n_test/(n_test + n_train) = {result.rho:.6g}",
        higher_is_better=higher_is_better(setup.metric),
        unmatched=fd.unmatched,
        outcome=Bayesian(
            rope=result.rope, p_left=result.p_left, p_rope=result.p_rope, p_right=result.p_right
        ),
        n_folds=len(fd.diffs),
    )


_COMPARERS = {
    "paired_t": _paired_t,
    "wilcoxon": _wilcoxon,
    "corrected_t": _corrected_t,
    "bayes": _bayes,
}


def _from_significance(
    setup: _Setup,
    level: str,
    result: SignificanceResult,
    *,
    test: str,
    n: int,
    diffs: np.ndarray,
    unmatched: tuple[str, ...],
    n_folds: int | None = None,
) -> Comparison:
    return Comparison(
        metric=setup.metric,
        factor=setup.factor,
        a=level,
        b=setup.baseline,
        n=n,
        mean_diff=result.estimate,
        ci_low=result.ci_low,
        ci_high=result.ci_high,
        confidence=1.0 - setup.alpha,
        df=result.df,
        alpha=setup.alpha,
        effect_size=_effect(diffs),
        effect_name="d_z",
        test=TESTS[test],
        method=result.method,
        higher_is_better=higher_is_better(setup.metric),
        unmatched=unmatched,
        outcome=Frequentist(
            statistic=result.statistic,
            statistic_name=result.statistic_name,
            p=result.p,
            tail=result.tail,
            significant=result.p <= setup.alpha,
        ),
        n_folds=n_folds,
    )


def _effect(diffs: np.ndarray) -> float | None:
    # d_z is undefined (infinite or 0/0) when all differences are equal.
    if is_constant(diffs):
        return None
    return cohens_dz(diffs)


def adjust_comparisons(rows: Sequence[Comparison], *, adjust: str) -> tuple[Comparison, ...]:
    """``rows`` with the p-values of their frequentist tests adjusted as one family
    (``adjust``: a key of :data:`ADJUSTMENTS`, or ``"none"``); Bayesian rows unchanged."""
    result = list(rows)
    tested = [(i, r.outcome) for i, r in enumerate(result) if isinstance(r.outcome, Frequentist)]
    if adjust == "none" or not tested:
        return tuple(result)
    adjusted = adjust_pvalues([outcome.p for _, outcome in tested], method=adjust)
    for (i, outcome), p in zip(tested, adjusted, strict=True):
        outcome = dataclasses.replace(
            outcome,
            p_adjusted=float(p),
            adjust=ADJUSTMENTS[adjust],
            significant=bool(p <= result[i].alpha),
        )
        result[i] = dataclasses.replace(result[i], outcome=outcome)
    return tuple(result)
