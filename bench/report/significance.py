"""Each strategy against the baseline strategy, per metric: the comparison table and the marks.

The decision procedure, named in every legend and table note:

- the factor is ``strategy``; a level is compared with the baseline over cells matched on all
  other factors (e.g. backbone × optimizer), so a mark is a claim about the strategy over the
  grid, not about the one cell that carries it;
- when every cell holds at least two (repeat, fold)s and fold sizes, the grid-level
  Nadeau–Bengio corrected t-test (:func:`bench.stats.compare_levels`, ``corrected_t``):
  within each (repeat, fold) the level − baseline differences are averaged over matched
  cells, and the J fold means are tested with the variance inflated by n_test/n_train,
  because outer folds share training data and a naive fold t-test overstates significance;
- otherwise (imported results with one score per cell, or without fold sizes) the paired
  t-test on per-cell means over matched cells;
- Holm's step-down adjustment across the strategies compared on one metric, alpha = 0.05.

A metric whose test cannot run (all differences equal, a NaN score, too few pairs) gets a
note in the report instead of failing it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bench.errors import BenchError, StatsError
from bench.report.leaderboard import METRIC_LABELS
from bench.report.table import Table, number, text

if TYPE_CHECKING:
    import pandas as pd

    from bench.stats import Comparison

FACTOR = "strategy"
ALPHA = 0.05
ADJUST = "holm"
BETTER, WORSE = "↑", "↓"


@dataclass(frozen=True)
class BaselineComparisons:
    """Every non-baseline strategy against ``baseline`` on each metric, and what was skipped.

    ``test`` is the key of :data:`bench.stats.TESTS` that made every p-value (None when
    nothing was tested); ``matched_on`` names the factors cells were paired on; ``notes``
    say why a metric or the whole comparison was left out.
    """

    factor: str
    baseline: str | None
    test: str | None
    matched_on: tuple[str, ...]
    comparisons: tuple[Comparison, ...]
    notes: tuple[str, ...]

    @property
    def procedure(self) -> str:
        """The test, what it pairs, and the adjustment, in words."""
        from bench.stats import TESTS

        if self.test is None:
            raise ValueError("no test was run: read the notes")
        unit = "(repeat, fold) means" if self.test == "corrected_t" else "per-cell means"
        paired = " × ".join(self.matched_on) or "nothing"
        return (
            f"{TESTS[self.test]} on {unit} over cells matched on {paired}, "
            f"Holm-adjusted p ≤ {ALPHA:g}"
        )


def compare_with_baseline(
    scores: pd.DataFrame,
    *,
    metrics: Sequence[str],
    factors: Sequence[str],
    baseline: str | None,
    factor: str = FACTOR,
) -> BaselineComparisons:
    """Test every level of ``factor`` against ``baseline`` on each metric (see module doc).

    An unknown baseline level is a user mistake and raises; a missing baseline or factor,
    or a grid with no other level, gives an empty result with a note.
    """
    empty = BaselineComparisons(factor, baseline, None, (), (), ())
    if baseline is None:
        return _note(empty, "no baseline strategy: set [report] baseline or pass --baseline")
    if factor not in factors:
        return _note(empty, f"no comparison with {baseline}: the results have no {factor} factor")
    levels = list(dict.fromkeys(scores[factor].astype(str)))
    if baseline not in levels:
        raise BenchError(
            f"baseline {baseline!r} is not a level of {factor}; its levels are: "
            f"{', '.join(levels)} (set [report] baseline or pass --baseline)"
        )
    if len(levels) < 2:
        return _note(empty, f"no comparison: {baseline} is the only {factor}")
    test = "corrected_t" if has_folds(scores) else "paired_t"
    compared, notes = _compare_each(scores, metrics, factors, factor, baseline, test)
    return BaselineComparisons(
        factor=factor,
        baseline=baseline,
        test=test,
        matched_on=tuple(f for f in factors if f != factor),
        comparisons=compared,
        notes=notes,
    )


def has_folds(scores: pd.DataFrame) -> bool:
    """Whether every cell has two or more (repeat, fold)s and every fold its sizes."""
    sizes = scores.reindex(columns=["n_train", "n_test"])
    return bool(scores.groupby("cell").size().min() >= 2 and sizes.notna().all().all())


def baseline_marks(
    result: BaselineComparisons, scores: pd.DataFrame
) -> tuple[dict[tuple[str, str], str], dict[str, str]]:
    """(cell, metric) -> "↑"/"↓" for every cell of a significantly better/worse strategy."""
    if not result.comparisons:
        return {}, {}
    cells = scores.groupby(result.factor, sort=False)["cell"].unique()
    marks = {
        (str(cell), c.metric): BETTER if (c.mean_diff > 0) == c.higher_is_better else WORSE
        for c in result.comparisons
        if c.significant
        for cell in cells[c.a]
    }
    legend = {
        BETTER: f"{result.factor} significantly better than {result.baseline} on that metric "
        f"({result.procedure})",
        WORSE: f"{result.factor} significantly worse than {result.baseline} on that metric "
        f"({result.procedure})",
    }
    return marks, legend


def comparison_table(result: BaselineComparisons) -> Table:
    """One row per (metric, strategy): gain, interval, p, adjusted p (bold when ≤ alpha)."""
    rows = tuple(
        (
            text(METRIC_LABELS.get(c.metric, c.metric)),
            text(c.a),
            text(c.b),
            number(str(c.n)),
            number(str(c.n_folds) if c.n_folds is not None else "–"),
            number(f"{c.mean_diff:+.3f}"),
            number(_interval(c)),
            number(_p(c.p)),
            number(_p(c.p_adjusted), bold=bool(c.significant)),
            number(f"{c.effect_size:+.2f}" if c.effect_size is not None else "–"),
            text(f"{c.test}, {c.adjust}" if c.adjust else c.test),
        )
        for c in result.comparisons
    )
    return Table(
        headers=(
            "Metric",
            result.factor.capitalize(),
            "Baseline",
            "Pairs",
            "Folds",
            "Gain",
            f"{1 - ALPHA:.0%} CI",
            "p",
            "p adj.",
            "d_z",
            "Test",
        ),
        rows=rows,
        align="lllrrrrrrrl",
        caption=f"Each {result.factor} against {result.baseline}",
        note=_table_note(result),
    )


def _compare_each(
    scores: pd.DataFrame,
    metrics: Sequence[str],
    factors: Sequence[str],
    factor: str,
    baseline: str,
    test: str,
) -> tuple[tuple[Comparison, ...], tuple[str, ...]]:
    if test == "paired_t":
        return _per_cell(
            cell_means(scores, factors=factors, metrics=metrics), metrics, factors, factor, baseline
        )
    sides, notes = _collapse_levels(scores, metrics, factors, factor, baseline)
    compared: list[Comparison] = []
    for metric in metrics:
        rows, skipped = _corrected(sides, metric, factor, baseline)
        compared += rows
        notes += skipped
    return tuple(compared), tuple(notes)


def cell_means(
    scores: pd.DataFrame, *, factors: Sequence[str], metrics: Sequence[str]
) -> pd.DataFrame:
    """One row per cell: its mean score per metric (NaN if any fold is NaN), no fold sizes.

    The paired t-test only reads per-cell means, so testing this table gives the numbers of
    testing the whole scores table while matching a few hundred rows instead of every fold.
    """
    means = scores.groupby("cell", sort=False)[list(metrics)].mean(skipna=False)
    levels = scores.drop_duplicates("cell").set_index("cell")[list(factors)]
    table = levels.join(means).reset_index()
    table = table.assign(repeat=0, fold=0, n_train=float("nan"), n_test=float("nan"))
    table.attrs["factors"] = list(factors)
    return table


@dataclass(frozen=True)
class LevelSides:
    """A level and the baseline, each averaged over its matched cells per (repeat, fold).

    ``table`` has two pseudo-cells named after the level and the baseline; ``pairs`` and
    ``unmatched`` are those of the cells they stand for.
    """

    level: str
    table: pd.DataFrame
    pairs: int
    unmatched: tuple[str, ...]


def collapse_level(
    scores: pd.DataFrame,
    *,
    factor: str,
    level: str,
    baseline: str,
    factors: Sequence[str],
    metrics: Sequence[str],
) -> LevelSides:
    """The matched cells of ``level`` and of ``baseline``, averaged within each (repeat, fold).

    The grid-level corrected t-test averages the level − baseline differences of the matched
    pairs within each (repeat, fold) (:func:`bench.stats.grid_fold_differences`). With every
    pair on the same folds, which is checked here as there, that is the difference of the two
    sides' averages, and the fold sizes average alike; so testing this two-cell table gives
    the same numbers while reading every row once instead of once per pair.
    """
    import pandas as pd

    from bench.stats import match_levels

    cells = scores.drop_duplicates("cell")  # matching reads only cell ids and levels
    matched = match_levels(cells, factor=factor, a=level, b=baseline, factors=factors)
    if not matched.pairs:
        raise StatsError(f"{factor}={level} has no cell matched with {baseline}")
    sides = [
        _side(
            scores, [pair[i] for pair in matched.pairs], name=name, factor=factor, metrics=metrics
        )
        for i, name in enumerate((level, baseline))
    ]
    if not sides[0].index.equals(sides[1].index):
        raise StatsError(f"{factor}={level} and {baseline} cover different (repeat, fold)s")
    table = pd.concat([side.reset_index() for side in sides], ignore_index=True)
    return LevelSides(level, table, len(matched.pairs), matched.unmatched)


def _side(
    scores: pd.DataFrame, cells: list[str], *, name: str, factor: str, metrics: Sequence[str]
) -> pd.DataFrame:
    rows = scores[scores["cell"].isin(cells)]
    groups = rows.groupby(["repeat", "fold"])
    if (groups.size() != len(cells)).any():
        raise StatsError(
            f"the matched cells of {factor}={name} cover different (repeat, fold)s; a "
            "grid-level test needs every matched pair on the same folds: rerun or drop them"
        )
    means = groups[["n_train", "n_test", *metrics]].mean(skipna=False)
    return means.assign(cell=name, **{factor: name})


def _collapse_levels(
    scores: pd.DataFrame,
    metrics: Sequence[str],
    factors: Sequence[str],
    factor: str,
    baseline: str,
) -> tuple[list[LevelSides], list[str]]:
    sides, notes = [], []
    for level in dict.fromkeys(scores[factor].astype(str)):
        if level == baseline:
            continue
        try:
            sides.append(
                collapse_level(
                    scores,
                    factor=factor,
                    level=level,
                    baseline=baseline,
                    factors=factors,
                    metrics=metrics,
                )
            )
        except StatsError as error:
            notes.append(f"{factor} {level} not compared: {error}")
    return sides, notes


def _per_cell(
    table: pd.DataFrame,
    metrics: Sequence[str],
    factors: Sequence[str],
    factor: str,
    baseline: str,
) -> tuple[tuple[Comparison, ...], tuple[str, ...]]:
    from bench.stats import compare_levels

    compared: list[Comparison] = []
    notes: list[str] = []
    for metric in metrics:
        try:
            compared += compare_levels(
                table,
                metric=metric,
                factor=factor,
                baseline=baseline,
                test="paired_t",
                adjust=ADJUST,
                alpha=ALPHA,
                factors=factors,
            )
        except StatsError as error:
            notes.append(f"{METRIC_LABELS.get(metric, metric)} not tested: {error}")
    return tuple(compared), tuple(notes)


def _corrected(
    sides: list[LevelSides], metric: str, factor: str, baseline: str
) -> tuple[list[Comparison], list[str]]:
    """Each level's corrected t-test on ``metric``, then Holm across the levels tested."""
    from bench.stats import compare_levels

    rows, notes = [], []
    for side in sides:
        try:
            (row,) = compare_levels(
                side.table,
                metric=metric,
                factor=factor,
                baseline=baseline,
                test="corrected_t",
                adjust="none",
                alpha=ALPHA,
                factors=(factor,),
            )
        except StatsError as error:
            label = METRIC_LABELS.get(metric, metric)
            notes.append(f"{label}, {side.level} vs {baseline} not tested: {error}")
            continue
        rows.append(dataclasses.replace(row, n=side.pairs, unmatched=side.unmatched))
    return _holm(rows), notes


def _holm(rows: list[Comparison]) -> list[Comparison]:
    """Adjust the p-values of one metric's comparisons as compare_levels does."""
    from bench.stats.compare import adjust_comparisons

    return list(adjust_comparisons(rows, adjust=ADJUST))


def _note(result: BaselineComparisons, note: str) -> BaselineComparisons:
    return BaselineComparisons(result.factor, result.baseline, None, (), (), (*result.notes, note))


def _interval(c: Comparison) -> str:
    if c.ci_low is None or c.ci_high is None:
        return "–"
    return f"[{c.ci_low:+.3f}, {c.ci_high:+.3f}]"


def _p(value: float | None) -> str:
    if value is None:
        return "–"
    return "<0.001" if value < 0.001 else f"{value:.3f}"


def _table_note(result: BaselineComparisons) -> str:
    if not result.comparisons:
        return ""
    variants = sorted({c.method for c in result.comparisons if c.method})
    unmatched = sorted({cell for c in result.comparisons for cell in c.unmatched})
    parts = [
        f"Gain = {result.factor} − {result.baseline} (for loss and Brier lower is better); "
        f"{result.procedure}; d_z = mean difference / sd of the differences tested.",
        *(f"Variant: {variant}." for variant in variants),
    ]
    if unmatched:
        parts.append(f"Cells without a matched partner, left out: {', '.join(unmatched)}.")
    return " ".join(parts)
