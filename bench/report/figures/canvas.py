"""Drawing surface shared by the figures: Agg-only matplotlib figures, colours, saving.

Figures are made with :class:`matplotlib.figure.Figure` directly, never pyplot, so no GUI
backend is touched and no global state leaks between reports. Each figure is saved as PNG
(for markdown and HTML) and PDF (for LaTeX); the PDF carries no creation date, so the same
store gives the same files.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.figure import Figure

DPI = 120


class FigureSkipped(Exception):
    """A figure these results cannot give; the message says why, for the report's notes."""


class NotApplicable(FigureSkipped):
    """A figure for another kind of grid (e.g. one that sweeps a learning rate): skipped
    without a note."""


@dataclass(frozen=True)
class Drawing:
    """A drawn figure and the caption that explains what it shows and how it was made."""

    figure: Figure
    caption: str


def new_figure(width: float, height: float) -> Figure:
    """An empty figure of ``width`` × ``height`` inches with a constrained layout."""
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=DPI, layout="constrained")


def palette(groups: Sequence[str]) -> dict[str, tuple[float, float, float, float]]:
    """One colour per group (tab10, in the given order), the same in every figure."""
    from matplotlib import colormaps

    cmap = colormaps["tab10"]
    return {group: cmap(index % cmap.N) for index, group in enumerate(groups)}


def save(figure: Figure, directory: Path, stem: str) -> tuple[Path, Path]:
    """Write ``stem``.png and ``stem``.pdf under ``directory``; return both paths."""
    directory.mkdir(parents=True, exist_ok=True)
    png, pdf = directory / f"{stem}.png", directory / f"{stem}.pdf"
    figure.savefig(png, dpi=DPI, metadata={"Software": None})
    figure.savefig(pdf, metadata={"CreationDate": None, "ModDate": None, "Producer": None})
    return png, pdf


def grid_shape(count: int, *, columns: int = 3) -> tuple[int, int]:
    """Rows and columns of a panel grid for ``count`` panels, at most ``columns`` wide."""
    cols = min(columns, max(1, count))
    return -(-count // cols), cols
