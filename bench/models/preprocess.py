"""Each backbone's own input preprocessing, in NumPy (backend-agnostic and cheap).

The modes mirror ``keras.applications.imagenet_utils.preprocess_input``.
"""

from __future__ import annotations

import numpy as np

CAFFE_MEAN_BGR = np.array([103.939, 116.779, 123.68], dtype=np.float32)
TORCH_MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
TORCH_STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)


def to_rgb(images: np.ndarray) -> np.ndarray:
    """Greyscale (N, H, W, 1) → RGB by repeating the channel; RGB passes through."""
    return np.repeat(images, 3, axis=-1) if images.shape[-1] == 1 else images


def preprocess(images: np.ndarray, mode: str) -> np.ndarray:
    """uint8 (N, H, W, C) images → float32 RGB model inputs for ``mode``.

    One new array, then arithmetic in place: this runs per batch, where every extra pass
    over 64 images at 224 px costs more than the resampling of augmentation."""
    x = to_rgb(images).astype(np.float32)  # always a copy: safe to change in place
    if mode == "unit":
        x /= 255.0
    elif mode == "tf":
        x /= 127.5
        x -= 1.0
    elif mode == "caffe":
        x = x[..., ::-1]
        x -= CAFFE_MEAN_BGR
    elif mode == "torch":
        x /= 255.0
        x -= TORCH_MEAN
        x /= TORCH_STD
    elif mode != "raw":
        raise ValueError(f"unknown preprocessing mode {mode!r}")
    return x
