"""Percentile bootstrap over clusters (patients): an interval for any statistic of a sample.

Images of one patient are correlated, so resampling images would understate the spread of a
pooled metric; each replicate draws whole patients with replacement instead (the cluster
bootstrap, Field & Welsh 2007) and evaluates the statistic on all images of the drawn
patients. A replicate on which the statistic is undefined (NaN, e.g. an AUC of a draw
holding one class only) is left out, and the count left out is returned with the interval.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from bench.errors import StatsError
from bench.stats.samples import check_confidence


@dataclass(frozen=True)
class BootstrapInterval:
    """The statistic on the whole sample and its percentile interval over replicates."""

    estimate: float
    ci_low: float
    ci_high: float
    confidence: float
    n_boot: int
    n_undefined: int  # replicates where the statistic was NaN, left out
    n_clusters: int


def cluster_bootstrap_ci(
    statistics: Mapping[str, Callable[[np.ndarray], float]],
    clusters: ArrayLike,
    *,
    n_boot: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
) -> dict[str, BootstrapInterval]:
    """Per named statistic(indices into the sample), its interval resampling ``clusters``.

    Every statistic is evaluated on the same replicates. Draws come from
    ``numpy.random.default_rng(seed)``: per replicate, as many cluster positions (into the
    sorted distinct clusters) as there are clusters. The interval is the (1-c)/2 and (1+c)/2
    quantiles of the defined replicates (numpy's linear interpolation).
    """
    check_confidence(confidence)
    if int(n_boot) != n_boot or n_boot < 100:
        raise StatsError(f"n_boot={n_boot} is too few replicates; use an integer >= 100")
    labels = np.asarray(clusters)
    names, inverse = np.unique(labels, return_inverse=True)
    members = np.split(np.argsort(inverse, kind="stable"), np.cumsum(np.bincount(inverse))[:-1])
    rng = np.random.default_rng(seed)
    draws = [
        np.concatenate([members[c] for c in rng.integers(0, names.size, names.size)])
        for _ in range(int(n_boot))
    ]
    return {
        name: _interval(statistic, draws, labels.size, confidence, names.size)
        for name, statistic in statistics.items()
    }


def _interval(statistic, draws, size: int, confidence: float, clusters: int):
    values = np.array([statistic(indices) for indices in draws])
    defined = values[~np.isnan(values)]
    if defined.size == 0:
        raise StatsError("the statistic is undefined on every bootstrap replicate")
    low, high = np.quantile(defined, [0.5 - confidence / 2.0, 0.5 + confidence / 2.0])
    return BootstrapInterval(
        estimate=float(statistic(np.arange(size))),
        ci_low=float(low),
        ci_high=float(high),
        confidence=confidence,
        n_boot=len(draws),
        n_undefined=int(values.size - defined.size),
        n_clusters=clusters,
    )
