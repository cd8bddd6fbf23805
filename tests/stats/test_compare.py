"""compare_levels: every test re-computed independently from the scores table."""

import math

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests

from bench.errors import StatsError
from bench.stats import compare_levels

from .conftest import cell_id, make_scores

DROPPED = ("resnet50", "sgd", "dtl")


@pytest.fixture
def table():
    return make_scores(seed=4, drop=[DROPPED])


def cell_means(table, metric):
    means = table.groupby(["backbone", "optimizer", "strategy"])[metric].mean().unstack()
    return means


def test_paired_t_over_cell_means(table):
    rows = compare_levels(table, metric="accuracy", factor="strategy", baseline="ctl")
    assert [(r.a, r.b) for r in rows] == [("mstl", "ctl"), ("dtl", "ctl")]
    means = cell_means(table, "accuracy")
    p = []
    for row in rows:
        pairs = means[[row.a, "ctl"]].dropna()
        diffs = pairs[row.a] - pairs["ctl"]
        reference = stats.ttest_rel(pairs[row.a], pairs["ctl"])
        interval = reference.confidence_interval(0.95)
        assert row.n == len(pairs)
        assert row.mean_diff == pytest.approx(diffs.mean(), rel=1e-12)
        assert row.statistic == pytest.approx(reference.statistic, rel=1e-12)
        assert row.df == reference.df
        assert row.p == pytest.approx(reference.pvalue, rel=1e-10)
        assert (row.ci_low, row.ci_high) == pytest.approx((interval.low, interval.high), rel=1e-12)
        assert row.effect_size == pytest.approx(diffs.mean() / diffs.std(ddof=1), rel=1e-12)
        assert (row.effect_name, row.test, row.tail) == ("d_z", "paired t-test", "two-sided")
        assert row.higher_is_better
        p.append(reference.pvalue)
    reject, adjusted, _, _ = multipletests(p, alpha=0.05, method="holm")
    assert [r.p_adjusted for r in rows] == pytest.approx(adjusted, rel=1e-10)
    assert [r.significant for r in rows] == list(reject)
    assert all(r.adjust == "Holm" for r in rows)
    assert rows[0].unmatched == ()
    assert rows[1].unmatched == (cell_id("resnet50", "sgd", "ctl"),)
    assert rows[1].n == 5


def test_wilcoxon_over_cell_means(table):
    rows = compare_levels(table, metric="auc", factor="strategy", baseline="ctl", test="wilcoxon")
    means = cell_means(table, "auc")
    for row in rows:
        pairs = means[[row.a, "ctl"]].dropna()
        reference = stats.wilcoxon(pairs[row.a], pairs["ctl"])
        assert row.statistic == reference.statistic
        assert row.p == pytest.approx(reference.pvalue, rel=1e-12)
        assert row.test == "Wilcoxon signed-rank"
        assert row.df is None and row.ci_low is None
    adjusted = multipletests([r.p for r in rows], method="holm")[1]
    assert [r.p_adjusted for r in rows] == pytest.approx(adjusted, rel=1e-12)


def grid_fold_means(table, metric, a, b):
    wide = table.pivot_table(
        index=["repeat", "fold", "backbone", "optimizer"], columns="strategy", values=metric
    )
    return (wide[a] - wide[b]).dropna().groupby(["repeat", "fold"]).mean().to_numpy()


def test_corrected_t_on_grid_fold_means(table):
    rows = compare_levels(
        table, metric="auc", factor="strategy", baseline="ctl", test="corrected_t", alpha=0.1
    )
    # Folds of 34, 33, 33 test images out of 100 in both repeats: mean n_test = 100/3.
    ratio = (100 / 3) / (200 / 3)
    for row in rows:
        d = grid_fold_means(table, "auc", row.a, "ctl")
        J = d.size
        se = math.sqrt((1 / J + ratio) * d.var(ddof=1))
        t = d.mean() / se
        half = stats.t.ppf(0.95, J - 1) * se
        assert (row.n_folds, row.df) == (6, 5)
        assert row.statistic == pytest.approx(t, rel=1e-10)
        assert row.p == pytest.approx(2 * stats.t.sf(abs(t), J - 1), rel=1e-9)
        assert (row.ci_low, row.ci_high) == pytest.approx(
            (d.mean() - half, d.mean() + half), rel=1e-10
        )
        assert row.confidence == pytest.approx(0.9)
        assert row.test == "Nadeau-Bengio corrected t-test"
        assert row.effect_size == pytest.approx(d.mean() / d.std(ddof=1), rel=1e-12)
    assert rows[1].n == 5 and rows[1].unmatched == (cell_id("resnet50", "sgd", "ctl"),)


def test_bayes_on_grid_fold_means(table):
    rows = compare_levels(
        table, metric="auc", factor="strategy", baseline="ctl", test="bayes", rope=0.02
    )
    for row in rows:
        d = grid_fold_means(table, "auc", row.a, "ctl")
        rho = (100 / 3) / 100
        posterior = stats.t(
            5, loc=d.mean(), scale=math.sqrt((1 / 6 + rho / (1 - rho)) * d.var(ddof=1))
        )
        assert row.p is None and row.p_adjusted is None and row.statistic is None
        assert row.significant is None and row.tail is None
        assert row.p_left == pytest.approx(posterior.cdf(-0.02), rel=1e-10)
        assert row.p_rope == pytest.approx(posterior.cdf(0.02) - posterior.cdf(-0.02), rel=1e-10)
        assert row.p_right == pytest.approx(posterior.sf(0.02), rel=1e-10)
        assert row.rope == 0.02
        assert row.test == "Bayesian correlated t-test"


def test_lower_is_better_reports_raw_difference(table):
    (mstl, _) = compare_levels(table, metric="loss", factor="strategy", baseline="ctl")
    means = cell_means(table, "loss")
    assert not mstl.higher_is_better
    assert mstl.mean_diff == pytest.approx((means["mstl"] - means["ctl"]).mean(), rel=1e-12)
    assert mstl.mean_diff < 0  # MSTL lowers the loss in the fixture


@pytest.mark.parametrize(("adjust", "method"), [("bonferroni", "bonferroni"), ("bh", "fdr_bh")])
def test_other_adjustments(table, adjust, method):
    rows = compare_levels(
        table, metric="accuracy", factor="strategy", baseline="ctl", adjust=adjust
    )
    expected = multipletests([r.p for r in rows], method=method)[1]
    assert [r.p_adjusted for r in rows] == pytest.approx(expected, rel=1e-12)
    assert all(r.p_adjusted >= r.p for r in rows)


def test_no_adjustment(table):
    rows = compare_levels(
        table, metric="accuracy", factor="strategy", baseline="ctl", adjust="none"
    )
    assert all(r.p_adjusted is None and r.adjust is None for r in rows)
    assert [r.significant for r in rows] == [r.p <= 0.05 for r in rows]


def published(table):
    """One row per cell, repeat = fold = 0 and no fold sizes, as copied from a paper."""
    means = table.groupby(["cell", "backbone", "optimizer", "strategy"], as_index=False)[
        "accuracy"
    ].mean()
    means = means.assign(repeat=0, fold=0, n_train=np.nan, n_test=np.nan)
    means.attrs["factors"] = ["backbone", "optimizer", "strategy"]
    return means


def test_published_table_supports_per_cell_tests_only(table):
    rows = compare_levels(published(table), metric="accuracy", factor="strategy", baseline="ctl")
    full = compare_levels(table, metric="accuracy", factor="strategy", baseline="ctl")
    # Levels come in order of first appearance: the groupby sorted the cells, dtl first.
    assert [r.a for r in rows] == ["dtl", "mstl"]
    assert {r.a: r.p for r in rows} == pytest.approx({r.a: r.p for r in full}, rel=1e-10)
    with pytest.raises(StatsError, match=r"only 1 \(repeat, fold\) per cell .*use test='paired_t'"):
        compare_levels(
            published(table),
            metric="accuracy",
            factor="strategy",
            baseline="ctl",
            test="corrected_t",
        )


def test_missing_fold_sizes_are_named(table):
    table["n_train"] = np.nan
    with pytest.raises(StatsError, match="fold sizes n_train and n_test, which are missing"):
        compare_levels(table, metric="accuracy", factor="strategy", baseline="ctl", test="bayes")


def test_errors_name_the_problem_and_the_fix(table):
    def compare(**kwargs):
        options = {"metric": "accuracy", "factor": "strategy", "baseline": "ctl"} | kwargs
        return compare_levels(table, **options)

    with pytest.raises(
        StatsError, match=r"unknown metric 'acc'; pass metric= one of .*accuracy, auc, loss"
    ):
        compare(metric="acc")
    with pytest.raises(
        StatsError, match="unknown factor 'lr'; pass factor= one of: backbone, optimizer, strategy"
    ):
        compare(factor="lr")
    with pytest.raises(
        StatsError, match="strategy has no level 'scratch'; its levels are: ctl, mstl, dtl"
    ):
        compare(baseline="scratch")
    with pytest.raises(
        StatsError, match="unknown test 'ttest'; use one of: paired_t, wilcoxon, corrected_t, bayes"
    ):
        compare(test="ttest")
    with pytest.raises(StatsError, match="unknown adjust 'fdr'"):
        compare(adjust="fdr")
    table.loc[table.index[7], "accuracy"] = np.nan
    with pytest.raises(
        StatsError,
        match=r"NaN or infinite in cell\(s\) backbone=small_cnn\|optimizer=adam\|strategy=mstl;",
    ):
        compare()


def test_fewer_than_two_pairs(table):
    keep = (table.strategy != "dtl") | (table.backbone == "small_cnn") & (table.optimizer == "adam")
    with pytest.raises(
        StatsError, match=r"only 1 matched cell pair\(s\) for strategy=dtl vs strategy=ctl"
    ):
        compare_levels(
            table[keep],
            metric="accuracy",
            factor="strategy",
            baseline="ctl",
            factors=["backbone", "optimizer", "strategy"],
        )


def test_no_matched_cells(table):
    dtl = table.strategy == "dtl"
    table.loc[dtl, "optimizer"] = "rmsprop"
    table.loc[dtl, "cell"] = table.loc[dtl, "cell"].str.replace(
        "optimizer=adam", "optimizer=rmsprop"
    )
    table.loc[dtl, "cell"] = table.loc[dtl, "cell"].str.replace(
        "optimizer=sgd", "optimizer=rmsprop"
    )
    table = table.drop_duplicates(["cell", "repeat", "fold"])
    with pytest.raises(
        StatsError,
        match=r"no matched cells for strategy=dtl vs strategy=ctl \(unmatched: .*\); run both",
    ):
        compare_levels(table, metric="accuracy", factor="strategy", baseline="ctl")


def test_error_messages_are_one_line(table):
    with pytest.raises(StatsError) as error:
        compare_levels(table, metric="nope", factor="strategy", baseline="ctl")
    assert "\n" not in str(error.value)


def test_constant_differences_give_no_effect_size_under_wilcoxon(table):
    mstl = table.strategy == "mstl"
    ctl = table[table.strategy == "ctl"].set_index(["backbone", "optimizer", "repeat", "fold"])
    keys = table.loc[mstl].set_index(["backbone", "optimizer", "repeat", "fold"]).index
    table.loc[mstl, "accuracy"] = ctl.loc[keys, "accuracy"].to_numpy() + 0.1
    (row, _) = compare_levels(
        table, metric="accuracy", factor="strategy", baseline="ctl", test="wilcoxon"
    )
    assert row.effect_size is None
    assert row.p == pytest.approx(2 / 2**6)  # six positive differences, exact
    with pytest.raises(StatsError, match="sd is 0"):
        compare_levels(table, metric="accuracy", factor="strategy", baseline="ctl")
