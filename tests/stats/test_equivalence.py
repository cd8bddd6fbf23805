"""TOST of fold scores against a published value: statsmodels, a written-out corrected TOST,
and the verdict rule."""

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.weightstats import DescrStatsW

from bench.errors import StatsError
from bench.stats import equivalence_to_value, reproduction_verdicts

SCORES = [0.84, 0.82, 0.86, 0.83, 0.85]  # 5 folds, mean 0.84, s^2 = 0.00025


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize(("reference", "margin"), [(0.84, 0.02), (0.80, 0.03), (0.9, 0.01)])
def test_plain_tost_matches_statsmodels(seed, reference, margin):
    x = np.random.default_rng(seed).normal(0.85, 0.02, size=5 + seed)
    result = equivalence_to_value(x, reference=reference, margin=margin)
    p, (t1, p1, df1), (t2, p2, df2) = DescrStatsW(x).ttost_mean(
        reference - margin, reference + margin
    )
    assert result.t_lower == pytest.approx(t1, abs=1e-12)
    assert result.p_lower == pytest.approx(p1, abs=1e-12)
    assert result.t_upper == pytest.approx(t2, abs=1e-12)
    assert result.p_upper == pytest.approx(p2, abs=1e-12)
    assert result.p == pytest.approx(p, abs=1e-12)
    assert result.df == df1 == df2
    assert result.method == "plain SE s/sqrt(n)"


def test_corrected_tost_written_out():
    # mean 0.84, s^2 = (0 + 4 + 4 + 1 + 1) * 1e-4 / 4 = 2.5e-4; variance factor 1/5 + 20/80.
    se = math.sqrt((1 / 5 + 20 / 80) * 2.5e-4)
    reference, margin = 0.83, 0.02
    d = 0.84 - reference
    t_lower, t_upper = (d + margin) / se, (d - margin) / se
    result = equivalence_to_value(SCORES, reference=reference, margin=margin, n_train=80, n_test=20)
    assert result.se == pytest.approx(se, rel=1e-12)
    assert result.difference == pytest.approx(d, rel=1e-12)
    assert result.t_lower == pytest.approx(t_lower, rel=1e-12)
    assert result.t_upper == pytest.approx(t_upper, rel=1e-12)
    assert result.p_lower == pytest.approx(1 - stats.t.cdf(t_lower, 4), rel=1e-9)
    assert result.p_upper == pytest.approx(stats.t.cdf(t_upper, 4), rel=1e-9)
    half = stats.t.ppf(0.95, 4) * se
    assert (result.ci_low, result.ci_high) == pytest.approx((d - half, d + half), rel=1e-12)
    assert result.confidence == pytest.approx(0.90)
    assert "1/5 + 0.25" in result.method
    # The correction widens the interval: plain TOST reproduces, corrected TOST may not.
    plain = equivalence_to_value(SCORES, reference=reference, margin=margin)
    assert plain.se == pytest.approx(math.sqrt(2.5e-4 / 5), rel=1e-12) and plain.se < result.se
    assert plain.p < result.p


@pytest.mark.parametrize(
    ("reference", "verdict"),
    [(0.84, "reproduced"), (0.835, "reproduced"), (0.95, "differs"), (0.74, "differs")],
)
def test_verdicts_follow_the_interval(reference, verdict):
    result = equivalence_to_value(SCORES, reference=reference, margin=0.03, n_train=80, n_test=20)
    assert result.verdict == verdict
    inside = result.ci_low > -0.03 and result.ci_high < 0.03
    outside = result.ci_low > 0.03 or result.ci_high < -0.03
    assert (verdict == "reproduced") == inside and (verdict == "differs") == outside
    # "differs" is the one-sided test beyond a bound, the complement of a TOST half.
    assert (verdict == "differs") == (min(1 - result.p_lower, 1 - result.p_upper) < 0.05)


def test_straddling_a_bound_is_inconclusive():
    # Two folds: t_{0.95, 1} = 6.31 makes the interval far wider than the margin.
    result = equivalence_to_value([0.83, 0.85], reference=0.84, margin=0.02, n_train=80, n_test=20)
    assert result.ci_low < -0.02 and result.ci_high > 0.02
    assert result.verdict == "inconclusive"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"margin": 0.0}, "margin=0.0 must be a positive number"),
        ({"margin": 0.02, "alpha": 0.5}, "alpha=0.5 must lie strictly between 0 and 0.5"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(StatsError, match=message):
        equivalence_to_value(SCORES, reference=0.84, **kwargs)


def _tables(reproduced: dict[str, list[float]], published: dict[str, float]):
    rows = [
        {
            "cell": f"strategy={s}",
            "strategy": s,
            "repeat": 0,
            "fold": k,
            "n_train": 80,
            "n_test": 20,
            "accuracy": v,
        }
        for s, values in reproduced.items()
        for k, v in enumerate(values)
    ]
    scores = pd.DataFrame(rows)
    scores.attrs["factors"] = ["strategy"]
    table = pd.DataFrame(
        [
            {"cell": f"strategy={s}", "strategy": s, "repeat": 0, "fold": 0, "accuracy": v}
            for s, v in published.items()
        ]
    )
    table.attrs["factors"] = ["strategy"]
    return scores, table


def test_cells_are_matched_on_the_published_factors():
    scores, table = _tables(
        {"ctl": SCORES, "mstl": [0.9, 0.9, 0.9], "dtl": [0.5]},
        {"ctl": 0.84, "mstl": 0.9, "dtl": 0.5, "scratch": 0.7},
    )
    result = reproduction_verdicts(scores, table, margin=0.03)
    by_cell = {r.published_cell: r for r in result.rows}
    assert by_cell["strategy=ctl"].verdict == "reproduced"
    assert by_cell["strategy=ctl"].test.n == 5
    assert (by_cell["strategy=mstl"].verdict, by_cell["strategy=mstl"].note) == (
        "inconclusive",
        "every fold scored the same",
    )
    assert by_cell["strategy=dtl"].note == "one fold score" and by_cell["strategy=dtl"].test is None
    assert result.not_reproduced == ("strategy=scratch",)
    assert result.counts() == {"reproduced": 1, "differs": 0, "inconclusive": 2}


def test_mismatched_tables_are_one_line_errors():
    scores, table = _tables({"ctl": SCORES}, {"mstl": 0.9})
    with pytest.raises(StatsError, match="no published cell is in the reproduction"):
        reproduction_verdicts(scores, table, margin=0.03)
    with pytest.raises(StatsError, match="metric auc is not in both tables; choose from: accuracy"):
        reproduction_verdicts(scores, table, margin=0.03, metrics=["auc"])
    table.attrs["factors"] = ["backbone"]
    table["backbone"] = "resnet50"
    with pytest.raises(StatsError, match=r"factor\(s\) backbone are not factors of the"):
        reproduction_verdicts(scores, table, margin=0.03)
