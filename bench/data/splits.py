"""Outer and inner splits of the target dataset, grouped by patient and stratified by class.

Every split is a pure function of (labels, groups, seed): the same suite gives the same
folds, and the planner stores them so reports can show them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bench.errors import DataError
from bench.hashing import derive_seed


@dataclass(frozen=True)
class Fold:
    """Positions into the target dataset for one outer fold of one repeat."""

    repeat: int
    fold: int
    train: np.ndarray  # fit on these (inner training part of the outer training set)
    val: np.ndarray  # inner validation: early stopping and threshold; never the test fold
    test: np.ndarray  # the outer test fold, scored once


def check_splittable(
    labels: np.ndarray, groups: np.ndarray, class_names, *, folds: int, dataset: str
) -> None:
    """Every class needs at least ``folds`` patients, or some test fold would lack it."""
    for index, name in enumerate(class_names):
        n_groups = len(np.unique(groups[labels == index]))
        if n_groups < folds:
            raise DataError(
                f"dataset '{dataset}': class '{name}' has {n_groups} patient(s), fewer than "
                f"protocol.folds = {folds}; lower protocol.folds or add data to that class"
            )


def outer_folds(
    labels: np.ndarray, groups: np.ndarray, *, folds: int, repeat: int, seed: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Stratified group k-fold (train, test) positions for one repeat; a new shuffle per repeat."""
    from sklearn.model_selection import StratifiedGroupKFold

    splitter = StratifiedGroupKFold(
        n_splits=folds, shuffle=True, random_state=derive_seed(seed, "outer", repeat)
    )
    positions = np.arange(len(labels))
    return [(positions[tr], positions[te]) for tr, te in splitter.split(positions, labels, groups)]


def inner_validation(
    train: np.ndarray, labels: np.ndarray, groups: np.ndarray, *, fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Split outer-training positions into (fit, validation), grouped and stratified.

    The validation part is one fold of a ``round(1 / fraction)``-fold stratified group split
    of the outer training set only, so it never sees the outer test fold.
    """
    from sklearn.model_selection import StratifiedGroupKFold

    n_splits = max(2, round(1 / fraction))
    y, g = labels[train], groups[train]
    smallest = min(len(np.unique(g[y == c])) for c in np.unique(y))
    if smallest < n_splits:
        return _random_validation(train, y, fraction=fraction, seed=seed)
    splitter = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    fit, val = next(splitter.split(train, y, g))
    return train[fit], train[val]


def make_folds(
    labels: np.ndarray,
    groups: np.ndarray,
    *,
    folds: int,
    repeats: int,
    validation: float,
    seed: int,
) -> list[Fold]:
    """All outer folds of all repeats with their inner validation split."""
    result = []
    for repeat in range(repeats):
        for index, (train, test) in enumerate(
            outer_folds(labels, groups, folds=folds, repeat=repeat, seed=seed)
        ):
            fit, val = inner_validation(
                train,
                labels,
                groups,
                fraction=validation,
                seed=derive_seed(seed, "inner", repeat, index),
            )
            result.append(Fold(repeat=repeat, fold=index, train=fit, val=val, test=test))
    return result


def holdout(
    labels: np.ndarray, groups: np.ndarray, *, fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """(fit, validation) positions of a whole dataset, for stages trained once."""
    return inner_validation(np.arange(len(labels)), labels, groups, fraction=fraction, seed=seed)


def _random_validation(train: np.ndarray, y: np.ndarray, *, fraction: float, seed: int):
    """Fallback when a class has too few patients for a grouped split: stratified by image."""
    from sklearn.model_selection import train_test_split

    fit, val = train_test_split(train, test_size=fraction, stratify=y, random_state=seed)
    return np.sort(fit), np.sort(val)


def subsample(positions: np.ndarray, labels: np.ndarray, groups: np.ndarray, *,
              fraction: float, seed: int) -> np.ndarray:
    """Keep ``fraction`` of the patients of each class (at least one), in a seeded order.

    The order does not depend on ``fraction``, so smaller fractions are subsets of larger
    ones: learning curves over the amount of labelled data compare like with like.
    """
    if fraction >= 1:
        return positions
    keep = []
    rng = np.random.default_rng(seed)
    for label in np.unique(labels[positions]):
        members = positions[labels[positions] == label]
        patients = rng.permutation(np.unique(groups[members]))
        chosen = patients[:max(1, int(np.ceil(fraction * len(patients))))]
        keep.append(members[np.isin(groups[members], chosen)])
    return np.sort(np.concatenate(keep))
