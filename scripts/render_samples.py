"""Render a grid of synthetic samples: one row per dataset, a few images per class.

    python scripts/render_samples.py [--out docs/samples.png] [--size 64] [--seed 0]

Use it to eyeball that each generator still looks like the modality it imitates.
"""

import argparse
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

# Runs from a checkout even when bench is not installed.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.data.synthetic import SYNTHETIC, ImageSet, generate


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    sets = {
        name: generate(
            name,
            samples_per_class=_per_class(name, args.columns),
            image_size=args.size,
            difficulty=args.difficulty,
            images_per_patient=1,
            seed=args.seed,
        )
        for name in SYNTHETIC
    }
    figure = _grid(sets, columns=args.columns)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(args.out, dpi=args.dpi)
    print(f"wrote {args.out}")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("docs/samples.png"),
        help="output image (default %(default)s)",
    )
    parser.add_argument(
        "--size", type=int, default=64, help="image size in pixels (default %(default)s)"
    )
    parser.add_argument("--seed", type=int, default=0, help="generator seed (default %(default)s)")
    parser.add_argument(
        "--columns",
        type=int,
        default=8,
        help="images per row, shared among classes (default %(default)s)",
    )
    parser.add_argument(
        "--difficulty", type=float, default=0.3, help="generator difficulty (default %(default)s)"
    )
    parser.add_argument(
        "--dpi", type=int, default=90, help="figure resolution (default %(default)s)"
    )
    return parser


def _per_class(name: str, columns: int) -> int:
    return max(1, columns // len(SYNTHETIC[name].class_names))


def _grid(sets: dict[str, ImageSet], *, columns: int) -> plt.Figure:
    columns = max(columns, *(len(s.class_names) for s in sets.values()))
    figure, axes = plt.subplots(
        len(sets), columns, figsize=(1.15 * columns, 1.35 * len(sets)), squeeze=False
    )
    for row, (name, images) in zip(axes, sets.items(), strict=True):
        for ax in row:
            ax.axis("off")
        for column, index in enumerate(_examples(images, _per_class(name, columns))):
            image = images.images[index]
            row[column].imshow(
                image[..., 0] if image.shape[-1] == 1 else image, cmap="gray", vmin=0, vmax=255
            )
            row[column].set_title(images.class_names[images.labels[index]], fontsize=7)
        row[0].text(
            -0.08,
            0.5,
            name,
            transform=row[0].transAxes,
            rotation=90,
            ha="right",
            va="center",
            fontsize=8,
        )
    figure.tight_layout()
    return figure


def _examples(images: ImageSet, per_class: int) -> list[int]:
    """Indices of the first ``per_class`` images of each class, class by class."""
    return [
        int(i)
        for k in range(len(images.class_names))
        for i in (images.labels == k).nonzero()[0][:per_class]
    ]


if __name__ == "__main__":
    main()
