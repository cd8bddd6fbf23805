"""Synthetic datasets: the ImageSet contract, cohort layout, determinism, errors, difficulty."""

import itertools
import time

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold, cross_val_predict, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from bench.data.synthetic import SYNTHETIC, ImageSet, generate
from bench.errors import DataError

CHANNELS = {
    "ultrasound": 1,
    "ultrasound-pool": 1,
    "cells": 3,
    "natural": 3,
    "dermoscopy": 3,
    "dermoscopy8": 3,
    "histology": 3,
}


def _grouped_accuracy(features: np.ndarray, data: ImageSet) -> float:
    """Patient-grouped 4-fold CV accuracy of a standardised logistic regression."""
    model = make_pipeline(StandardScaler(), LogisticRegression(C=0.1, max_iter=3000))
    return cross_val_score(
        model, features, data.labels, cv=GroupKFold(4), groups=data.groups
    ).mean()


def _block_means(images: np.ndarray, block: int = 4) -> np.ndarray:
    """Downsampled grey pixels, one row per image."""
    grey = images.astype(np.float32).mean(-1)
    n, h, w = grey.shape
    return grey.reshape(n, h // block, block, w // block, block).mean((2, 4)).reshape(n, -1)


def _invariant_features(images: np.ndarray) -> np.ndarray:
    """Shift- and rotation-invariant features: edge-orientation harmonics, spectrum, grey levels."""
    x = images.astype(np.float32) / 255.0
    grey = x.mean(-1)
    gy, gx = np.gradient(grey, axis=(1, 2))
    magnitude, angle = np.hypot(gy, gx), np.arctan2(gy, gx)
    weight = magnitude / magnitude.sum((1, 2), keepdims=True)
    harmonics = [np.abs((weight * np.exp(1j * k * angle)).sum((1, 2))) for k in range(1, 7)]
    n = grey.shape[-1]
    power = np.abs(np.fft.fft2(grey - grey.mean((1, 2), keepdims=True))) ** 2
    frequency = np.hypot(*np.meshgrid(np.fft.fftfreq(n), np.fft.fftfreq(n)))
    edges = np.geomspace(1.0 / n, 0.71, 7)
    spectrum = [
        np.log(power[:, (frequency >= a) & (frequency < b)].mean(1) + 1e-9)
        for a, b in itertools.pairwise(edges)
    ]
    quantiles = np.quantile(grey.reshape(len(grey), -1), [0.05, 0.25, 0.5, 0.75, 0.95], axis=1)
    colour = x.reshape(len(x), -1, x.shape[-1]).std(1).T
    return np.column_stack([*harmonics, *spectrum, *quantiles, *colour, magnitude.mean((1, 2))])


@pytest.mark.parametrize("name", sorted(SYNTHETIC))
def test_shapes_dtypes_and_channels(name):
    data = generate(name, samples_per_class=6, image_size=16, seed=1)
    n = 6 * len(SYNTHETIC[name].class_names)
    assert data.images.shape == (n, 16, 16, CHANNELS[name])
    assert data.images.dtype == np.uint8 and data.labels.dtype == np.int64
    assert data.groups.dtype.kind == data.ids.dtype.kind == "U"
    assert data.class_names == SYNTHETIC[name].class_names
    assert set(data.labels) == set(range(len(data.class_names)))
    assert data.images.reshape(n, -1).std(1).min() > 2.0, "an image is (nearly) constant"


@pytest.mark.parametrize("name", sorted(SYNTHETIC))
def test_same_seed_identical_other_seed_different(name):
    first, again = (generate(name, samples_per_class=4, image_size=16, seed=7) for _ in range(2))
    other = generate(name, samples_per_class=4, image_size=16, seed=8)
    for field in ("images", "labels", "groups", "ids"):
        assert np.array_equal(getattr(first, field), getattr(again, field))
    assert not np.array_equal(first.images, other.images)


def test_registry_entry_is_callable_like_generate():
    by_entry = SYNTHETIC["cells"](samples_per_class=3, image_size=16, seed=2)
    assert np.array_equal(
        by_entry.images, generate("cells", samples_per_class=3, image_size=16, seed=2).images
    )


def test_ultrasound_pool_has_three_scanners_and_defaults_are_all_classes():
    assert len(SYNTHETIC["ultrasound-pool"].class_names) >= 3
    assert SYNTHETIC["ultrasound"].class_names == ("benign", "malignant", "normal")


@pytest.mark.parametrize(
    ("imbalance", "expected"), [(1.0, [40, 40, 40]), (4.0, [40, 20, 10]), (100.0, [40, 4, 1])]
)
def test_class_sizes_decay_geometrically_with_imbalance(imbalance, expected):
    data = generate("ultrasound", samples_per_class=40, image_size=8, imbalance=imbalance)
    assert np.bincount(data.labels).tolist() == expected


def test_classes_select_and_order_a_subset():
    data = generate(
        "ultrasound",
        samples_per_class=10,
        image_size=8,
        classes=["malignant", "benign"],
        imbalance=2.0,
    )
    assert data.class_names == ("malignant", "benign")
    assert np.bincount(data.labels).tolist() == [10, 5]


def test_patients_have_several_images_of_one_class_and_ids_are_unique():
    data = generate(
        "dermoscopy", samples_per_class=31, image_size=8, images_per_patient=4, label_noise=0.3
    )
    groups, counts = np.unique(data.groups, return_counts=True)
    assert set(counts) <= {3, 4} and len(groups) == 2 * 8
    for group in groups:
        assert len(set(data.labels[data.groups == group])) == 1
    assert len(set(data.ids)) == len(data.ids)
    assert all(i.startswith("dermoscopy-") for i in data.ids) and all(
        g.startswith("p") for g in data.groups
    )


def test_class_smaller_than_images_per_patient_is_one_patient():
    data = generate(
        "ultrasound", samples_per_class=2, image_size=8, images_per_patient=5, classes=["benign"]
    )
    assert data.groups.tolist() == ["p0000", "p0000"]


@pytest.mark.parametrize("name", ["ultrasound", "ultrasound-pool", "dermoscopy"])
def test_images_of_one_patient_look_alike(name):
    data = generate(name, samples_per_class=30, image_size=32, seed=1)
    x = _block_means(data.images)
    x = (x - x.mean(1, keepdims=True)) / x.std(1, keepdims=True)
    similarity = x @ x.T / x.shape[1]
    same_patient = data.groups[:, None] == data.groups[None, :]
    same_class = data.labels[:, None] == data.labels[None, :]
    within = similarity[same_patient & ~np.eye(len(x), dtype=bool)].mean()
    assert within > similarity[same_class & ~same_patient].mean() + 0.05


def test_label_noise_flips_the_asked_fraction_per_patient_and_leaves_images():
    clean = generate("histology", samples_per_class=60, image_size=8, seed=3)
    noisy = generate("histology", samples_per_class=60, image_size=8, seed=3, label_noise=0.2)
    assert np.array_equal(clean.images, noisy.images)
    flipped = clean.labels != noisy.labels
    assert flipped.mean() == pytest.approx(0.2, abs=0.03)
    assert len(set(noisy.groups[flipped])) == round(0.2 * len(set(clean.groups)))


@pytest.mark.parametrize(
    ("knobs", "message"),
    [
        ({"samples_per_class": 0}, r"samples_per_class must be an integer >= 1, got 0"),
        ({"image_size": 7}, r"image_size must be an integer >= 8"),
        ({"image_size": 32.0}, r"image_size must be an integer >= 8 \(pixels\), got 32.0"),
        ({"imbalance": 0.5}, r"imbalance must be >= 1.0"),
        ({"difficulty": 1.5}, r"difficulty must be in \[0, 1\], got 1.5"),
        ({"difficulty": -0.1}, r"difficulty must be in \[0, 1\]"),
        ({"label_noise": 1.0}, r"label_noise must be in \[0, 1\), got 1.0"),
        ({"images_per_patient": 0}, r"images_per_patient must be an integer >= 1"),
        ({"seed": -1}, r"seed must be a non-negative integer"),
        ({"imbalance": "2"}, r"imbalance must be >= 1.0 .*, got '2'"),
        ({"difficulty": float("nan")}, r"difficulty must be in \[0, 1\], got nan"),
        ({"classes": ["benign", "benign"]}, r"classes must be a non-empty list of distinct names"),
        ({"classes": []}, r"classes must be a non-empty list"),
        (
            {"classes": ["benign"], "label_noise": 0.1},
            r"label_noise=0.1 needs at least two classes",
        ),
    ],
)
def test_invalid_knobs_name_the_knob_and_range(knobs, message):
    with pytest.raises(DataError, match=message):
        generate("ultrasound", **knobs)


def test_unknown_class_lists_the_valid_ones():
    with pytest.raises(
        DataError,
        match=r"unknown class 'cyst' .*'ultrasound'; valid classes: benign, malignant, normal$",
    ):
        generate("ultrasound", classes=["benign", "cyst"])


def test_unknown_dataset_lists_the_names():
    with pytest.raises(
        DataError,
        match=r"unknown synthetic dataset 'mri'; valid names: ultrasound, ultrasound-pool, ",
    ):
        generate("mri")


def test_difficulty_controls_ultrasound_benign_vs_malignant_separability():
    def accuracy(difficulty):
        data = generate(
            "ultrasound",
            classes=["benign", "malignant"],
            samples_per_class=60,
            image_size=32,
            difficulty=difficulty,
            seed=5,
        )
        return _grouped_accuracy(_block_means(data.images), data)

    easy, hard = accuracy(0.1), accuracy(0.9)
    assert easy > 0.85
    assert easy - hard > 0.25


def test_ultrasound_classes_not_separable_by_mean_brightness():
    data = generate(
        "ultrasound",
        classes=["benign", "malignant"],
        samples_per_class=150,
        image_size=32,
        images_per_patient=1,
        seed=5,
    )
    brightness = data.images.reshape(len(data.images), -1).mean(1, keepdims=True)
    assert _grouped_accuracy(brightness, data) < 0.65


@pytest.mark.parametrize("name", sorted(SYNTHETIC))
def test_difficulty_controls_separability_of_every_generator(name):
    def accuracy(difficulty):
        data = generate(name, samples_per_class=30, image_size=32, difficulty=difficulty, seed=3)
        return _grouped_accuracy(_invariant_features(data.images), data)

    assert accuracy(0.1) > accuracy(0.9) + 0.15


def test_generation_is_fast():
    start = time.perf_counter()
    generate("ultrasound", samples_per_class=200, image_size=32)
    assert time.perf_counter() - start < 2.0, "expected about 5000 images/s at 32 px"


def test_dermoscopy8_has_eight_learnable_classes_with_a_large_majority():
    skewed = generate("dermoscopy8", samples_per_class=80, image_size=8, imbalance=8)
    assert skewed.class_names == ("nv", "mel", "bkl", "bcc", "akiec", "vasc", "df", "normal")
    counts = np.bincount(skewed.labels)
    assert counts[0] == 80 and counts[-1] == 10 and (np.diff(counts) < 0).all()

    def balanced_accuracy(difficulty):
        data = generate(
            "dermoscopy8", samples_per_class=30, image_size=32, difficulty=difficulty, seed=2
        )
        centre = data.images[:, 10:22, 10:22].reshape(len(data.images), -1, 3).astype(float)
        features = np.column_stack(
            [_invariant_features(data.images), centre.mean(1), centre.std(1)]
        )
        model = make_pipeline(StandardScaler(), LogisticRegression(C=0.1, max_iter=3000))
        predicted = cross_val_predict(
            model, features, data.labels, cv=GroupKFold(4), groups=data.groups
        )
        return np.mean([np.mean(predicted[data.labels == c] == c) for c in range(8)])

    easy = balanced_accuracy(0.1)
    assert easy > 0.6 and easy > balanced_accuracy(0.9) + 0.3  # chance is 0.125
