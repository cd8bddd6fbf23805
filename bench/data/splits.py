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


def inner_folds(
    train: np.ndarray, labels: np.ndarray, groups: np.ndarray, *, folds: int, seed: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Stratified group k-fold (fit, validation) positions within outer-training positions
    ``train``: the outer test fold never enters, a patient is never on both sides."""
    from sklearn.model_selection import StratifiedGroupKFold

    splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
    return [
        (train[fit], train[val]) for fit, val in splitter.split(train, labels[train], groups[train])
    ]


def inner_validation(
    train: np.ndarray, labels: np.ndarray, groups: np.ndarray, *, fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Split outer-training positions into (fit, validation), grouped and stratified.

    Per class, a seeded ``fraction`` of its patients (at least one when it has two or more)
    goes to validation, so a patient is never on both sides and every class is validated.
    Only the outer training set is split: the outer test fold never enters.
    """
    rng = np.random.default_rng(seed)
    y, g = labels[train], groups[train]
    held = []
    for label in np.unique(y):
        patients = rng.permutation(np.unique(g[y == label]))
        n_val = max(1, round(fraction * len(patients))) if len(patients) > 1 else 0
        held.extend(patients[:n_val])
    is_val = np.isin(g, held)
    return train[~is_val], train[is_val]


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


def subsample(
    positions: np.ndarray, labels: np.ndarray, groups: np.ndarray, *, fraction: float, seed: int
) -> np.ndarray:
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
        chosen = patients[: max(1, int(np.ceil(fraction * len(patients))))]
        keep.append(members[np.isin(groups[members], chosen)])
    return np.sort(np.concatenate(keep))
