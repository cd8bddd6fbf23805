"""Statistics on tables of scores: pure functions, no TensorFlow, cross-checked in tests.

Which function answers which question:

- describe each cell: :func:`summarize_cells`;
- does level a of a factor beat level b over the grid (e.g. MSTL vs CTL over backbone x
  optimizer)? :func:`compare_levels` (it chooses among the tests below by name) or
  :func:`paired_levels` for both per-cell tests at once;
- does cell a beat cell b on fold scores? :func:`fold_differences`, then :func:`corrected_t`
  or :func:`bayes_correlated_t` (or the 5x2cv tests for that design);
- many claims at once: :func:`adjust_pvalues`;
- several methods over several datasets: :func:`rank_methods` (Friedman, Iman-Davenport,
  Nemenyi CD, Holm vs a control);
- AUCs on the same predictions: :func:`delong_test`, :func:`delong_ci`,
  :func:`bootstrap_auc_ci`;
- effect sizes: :func:`cohens_dz`, :func:`cliffs_delta`;
- did a reproduction get the published numbers? :func:`reproduction_verdicts` (per cell, the
  TOST of :func:`equivalence_to_value` with the corrected standard error).
"""

from bench.metrics import LOWER_IS_BETTER, METRICS, higher_is_better
from bench.stats.auc_bootstrap import bootstrap_auc_ci
from bench.stats.bayesian import BayesianResult, bayes_correlated_t
from bench.stats.compare import TESTS, Comparison, compare_levels
from bench.stats.corrected import corrected_t, fold_size_ratio
from bench.stats.cv52 import alpaydin_5x2cv_f, dietterich_5x2cv_t
from bench.stats.delong import AucInterval, delong_ci, delong_covariance, delong_test
from bench.stats.effect import cliffs_delta, cohens_dz
from bench.stats.equivalence import VERDICTS, Equivalence, equivalence_to_value
from bench.stats.folds import FoldDifferences, fold_differences, grid_fold_differences
from bench.stats.matching import MatchedCells, match_levels
from bench.stats.multiple import ADJUSTMENTS, adjust_pvalues
from bench.stats.paired import PairedLevels, paired_levels, paired_t, wilcoxon_signed_rank
from bench.stats.ranking import (
    ControlComparison,
    FriedmanResult,
    RankingResult,
    average_ranks,
    friedman_test,
    holm_versus_control,
    iman_davenport,
    nemenyi_cd,
    nemenyi_cliques,
    nemenyi_q,
    rank_methods,
)
from bench.stats.render import (
    comparisons_to_csv,
    comparisons_to_json,
    comparisons_to_markdown,
    comparisons_to_records,
    reproductions_to_csv,
    reproductions_to_json,
    reproductions_to_markdown,
    reproductions_to_records,
)
from bench.stats.reproduction import Reproduction, Reproductions, reproduction_verdicts
from bench.stats.results import SignificanceResult
from bench.stats.summary import CellSummary, summarize_cells

__all__ = [
    "ADJUSTMENTS",
    "LOWER_IS_BETTER",
    "METRICS",
    "TESTS",
    "VERDICTS",
    "AucInterval",
    "BayesianResult",
    "CellSummary",
    "Comparison",
    "ControlComparison",
    "Equivalence",
    "FoldDifferences",
    "FriedmanResult",
    "MatchedCells",
    "PairedLevels",
    "RankingResult",
    "Reproduction",
    "Reproductions",
    "SignificanceResult",
    "adjust_pvalues",
    "alpaydin_5x2cv_f",
    "average_ranks",
    "bayes_correlated_t",
    "bootstrap_auc_ci",
    "cliffs_delta",
    "cohens_dz",
    "compare_levels",
    "comparisons_to_csv",
    "comparisons_to_json",
    "comparisons_to_markdown",
    "comparisons_to_records",
    "corrected_t",
    "delong_ci",
    "delong_covariance",
    "delong_test",
    "dietterich_5x2cv_t",
    "equivalence_to_value",
    "fold_differences",
    "fold_size_ratio",
    "friedman_test",
    "grid_fold_differences",
    "higher_is_better",
    "holm_versus_control",
    "iman_davenport",
    "match_levels",
    "nemenyi_cd",
    "nemenyi_cliques",
    "nemenyi_q",
    "paired_levels",
    "paired_t",
    "rank_methods",
    "reproduction_verdicts",
    "reproductions_to_csv",
    "reproductions_to_json",
    "reproductions_to_markdown",
    "reproductions_to_records",
    "summarize_cells",
    "wilcoxon_signed_rank",
]
