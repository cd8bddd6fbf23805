"""Precise BatchNorm: statistics of the whole training set under the current weights."""

import keras
import numpy as np

from bench.config.spec import HeadSpec
from bench.config.trainable import parse_trainable
from bench.models.build import BACKBONE, build_model, set_trainable
from bench.train.fit import recompute_batchnorm, statistics_chunk


def _model():
    return build_model("small_cnn", image_size=16, n_classes=2, head=HeadSpec())


def test_trainable_batchnorm_gets_the_mean_and_variance_of_all_inputs():
    backbone = _model().get_layer(BACKBONE)
    x = np.random.default_rng(0).uniform(0, 1, (40, 16, 16, 3)).astype("float32")
    recompute_batchnorm(backbone, [x[i : i + 10] for i in range(0, 40, 10)])  # four, averaged
    bn1 = backbone.get_layer("bn1")
    conv1 = keras.Model(backbone.input, backbone.get_layer("conv1").output)
    features = np.asarray(conv1(x)).reshape(4, -1, bn1.moving_mean.shape[0])
    np.testing.assert_allclose(bn1.moving_mean.numpy(), features.mean(1).mean(0), rtol=1e-4)
    np.testing.assert_allclose(bn1.moving_variance.numpy(), features.var(1).mean(0), rtol=1e-3)
    assert bn1.momentum == 0.9  # restored


def test_frozen_batchnorm_keeps_its_statistics():
    model = _model()
    set_trainable(model, parse_trainable("last:3"))  # bn1..bn3 frozen
    backbone = model.get_layer(BACKBONE)
    before = backbone.get_layer("bn1").moving_mean.numpy().copy()
    ones = np.ones((4, 16, 16, 3), "float32")
    recompute_batchnorm(backbone, [ones, ones])
    np.testing.assert_array_equal(backbone.get_layer("bn1").moving_mean.numpy(), before)


def test_statistics_chunk_holds_the_pixels_of_256_images_at_64_px():
    assert statistics_chunk(16, image_size=32) == 256  # small images: 256 as before
    assert statistics_chunk(16, image_size=64) == 256
    assert statistics_chunk(32, image_size=128) == 64  # 256 * 64**2 // 128**2
    assert statistics_chunk(16, image_size=224) == 20  # 1_048_576 // 50_176
    assert statistics_chunk(64, image_size=224) == 64  # never below the training batch
