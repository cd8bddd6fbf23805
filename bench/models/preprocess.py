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
    """uint8 (N, H, W, C) images → float32 RGB model inputs for ``mode``."""
    x = to_rgb(images).astype(np.float32)
    if mode == "unit":
        return x / 255.0
    if mode == "tf":
        return x / 127.5 - 1.0
    if mode == "caffe":
        return x[..., ::-1] - CAFFE_MEAN_BGR
    if mode == "torch":
        return (x / 255.0 - TORCH_MEAN) / TORCH_STD
    if mode == "raw":
        return x
    raise ValueError(f"unknown preprocessing mode {mode!r}")
