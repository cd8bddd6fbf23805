"""Split invariants in the style of scikit-learn's split checks, over several seeds."""

import numpy as np
import pytest

from bench.data.splits import check_splittable, make_folds, subsample
from bench.data.synthetic import generate
from bench.errors import DataError


def _data(seed):
    images = generate(
        "ultrasound",
        samples_per_class=30,
        image_size=8,
        images_per_patient=3,
        imbalance=2.0,
        seed=seed,
    )
    return images.labels, images.groups


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_outer_and_inner_splits_are_leak_free(seed):
    labels, groups = _data(seed)
    folds = make_folds(labels, groups, folds=5, repeats=3, validation=0.2, seed=seed)
    assert len(folds) == 15
    for repeat in range(3):
        tested = np.concatenate([f.test for f in folds if f.repeat == repeat])
        assert sorted(tested) == list(range(len(labels)))  # each sample tested exactly once
    for fold in folds:
        train, val, test = set(fold.train), set(fold.val), set(fold.test)
        assert not (train & test or val & test or train & val)
        assert train | val | test == set(range(len(labels)))
        # a patient never straddles the outer test fold, nor the inner validation split
        assert not set(groups[fold.test]) & set(groups[np.r_[fold.train, fold.val]])
        assert not set(groups[fold.val]) & set(groups[fold.train])
        # every class appears in every test fold (stratified)
        assert set(labels[fold.test]) == set(labels)


def test_same_seed_same_assignment_other_seed_other():
    labels, groups = _data(0)
    a = make_folds(labels, groups, folds=5, repeats=2, validation=0.2, seed=11)
    b = make_folds(labels, groups, folds=5, repeats=2, validation=0.2, seed=11)
    c = make_folds(labels, groups, folds=5, repeats=2, validation=0.2, seed=12)
    assert all(
        np.array_equal(x.test, y.test) and np.array_equal(x.val, y.val) for x, y in zip(a, b)
    )
    assert not all(np.array_equal(x.test, y.test) for x, y in zip(a, c))
    # repeats reshuffle
    assert not np.array_equal(a[0].test, a[5].test)


def test_fraction_subsets_are_nested_and_inside_training():
    labels, groups = _data(3)
    fold = make_folds(labels, groups, folds=5, repeats=1, validation=0.2, seed=3)[0]
    sizes, previous = [], set()
    for fraction in (0.25, 0.5, 1.0):
        kept = subsample(fold.train, labels, groups, fraction=fraction, seed=9)
        assert set(kept) <= set(fold.train) and previous <= set(kept)
        assert set(labels[kept]) == set(labels[fold.train])  # every class keeps a patient
        previous = set(kept)
        sizes.append(len(kept))
    assert sizes[0] < sizes[1] < sizes[2] == len(fold.train)


def test_too_few_patients_for_the_folds():
    labels, groups = _data(0)
    with pytest.raises(
        DataError,
        match=r"class 'benign' has \d+ patient\(s\), fewer than "
        r"protocol.folds = 50",
    ):
        check_splittable(labels, groups, ("benign", "malignant", "normal"), folds=50, dataset="us")
