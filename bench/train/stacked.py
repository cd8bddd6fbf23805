"""Several datasets' pixels read as one array, without copying them together.

A pretraining stage may train on several datasets at once (the pools of a DTL phase 1);
concatenating them would copy every image into memory, where each on its own stays
memory-mapped. Rows are gathered from the part that holds them, greyscale parts made RGB
when the parts disagree on channels.
"""

from __future__ import annotations

import numpy as np

from bench.models.preprocess import to_rgb


class Stacked:
    """The rows of ``parts`` (uint8 (N_k, H, W, C_k) arrays) numbered one after another."""

    def __init__(self, parts: list[np.ndarray]):
        self.parts = parts
        self.starts = np.cumsum([0, *(len(part) for part in parts)])
        channels = max(part.shape[-1] for part in parts)
        self.shape = (int(self.starts[-1]), *parts[0].shape[1:-1], channels)
        self.dtype = np.result_type(*parts)

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, rows) -> np.ndarray:
        rows = np.asarray(rows)
        part_of = np.searchsorted(self.starts, rows, side="right") - 1
        out = np.empty((len(rows), *self.shape[1:]), dtype=self.dtype)
        for k in np.unique(part_of):
            where = part_of == k
            pixels = self.parts[k][rows[where] - self.starts[k]]
            out[where] = to_rgb(pixels) if pixels.shape[-1] != self.shape[-1] else pixels
        return out
