"""What a shared stage learned: its validation accuracy at the kept epoch against chance.

A transfer cell starts from the weights a shared stage (pretraining, intermediate domain,
pool) kept. A stage that ends near chance hands on untrained weights, and every cell above
it then compares nothing; ``bench run`` warns about such a stage and the report shows every
stage's accuracy. Chance is the accuracy of always predicting the most frequent class of the
stage's own validation split (stored with its history as ``val_chance``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from bench.report.table import Table, number, text
from bench.store.states import JobKind

if TYPE_CHECKING:
    import pandas as pd

# A stage "ends near chance" when it got less than this share of the way from chance to a
# perfect validation accuracy.
NEAR_CHANCE = 0.25


@dataclass(frozen=True)
class StageAccuracy:
    epochs: int  # trained (early stopping may end before the planned epochs)
    kept_epoch: int  # 1-based epoch whose weights were kept: the lowest validation loss
    accuracy: float  # validation accuracy at the kept epoch
    chance: float

    @property
    def near_chance(self) -> bool:
        return self.accuracy < self.chance + NEAR_CHANCE * (1.0 - self.chance)

    def describe(self) -> str:
        return (
            f"validation accuracy {self.accuracy:.2f} against chance {self.chance:.2f} "
            f"(epoch {self.kept_epoch} of {self.epochs} kept)"
        )


def stage_accuracy(history: Mapping[str, Sequence[float]]) -> StageAccuracy | None:
    """The accuracy a stage's kept weights reached; None without a validation history."""
    val_loss, val_accuracy = history.get("val_loss"), history.get("val_accuracy")
    if not val_loss or not val_accuracy or not history.get("val_chance"):
        return None
    kept = int(np.nanargmin(val_loss))
    return StageAccuracy(
        epochs=len(val_loss),
        kept_epoch=kept + 1,
        accuracy=float(val_accuracy[kept]),
        chance=float(history["val_chance"][0]),
    )


def chance_accuracy(labels: np.ndarray) -> float:
    """Accuracy of always predicting the most frequent of ``labels``."""
    return float(np.bincount(labels).max() / len(labels))


def near_chance_warning(label: str, accuracy: StageAccuracy) -> str:
    return (
        f"warning: shared stage {label} ended near chance, {accuracy.describe()}: the cells "
        "that start from it transfer nearly untrained weights. Give the stage more images or "
        "epochs, or an easier dataset (lower difficulty)"
    )


def stage_rows(
    histories: pd.DataFrame, jobs: pd.DataFrame
) -> tuple[tuple[str, StageAccuracy], ...]:
    """(label, accuracy) of every stored shared stage job with a validation history."""
    rows = []
    for job in jobs[jobs["kind"] == JobKind.STAGE].itertuples(index=False):
        own = histories[histories["job"] == job.job].sort_values("epoch")
        history = {metric: list(group["value"]) for metric, group in own.groupby("metric")}
        accuracy = stage_accuracy(history)
        if accuracy is not None:
            rows.append((str(job.label), accuracy))
    return tuple(rows)


def accuracy_table(rows: Sequence[tuple[str, StageAccuracy]]) -> Table:
    """One row per shared stage: epochs, the kept epoch, its accuracy, chance, a verdict."""
    return Table(
        headers=("Stage job", "Epochs", "Kept", "Validation accuracy", "Chance", "Learned"),
        rows=tuple(
            (
                text(label),
                number(str(accuracy.epochs)),
                number(str(accuracy.kept_epoch)),
                number(f"{accuracy.accuracy:.3f}"),
                number(f"{accuracy.chance:.3f}"),
                text("near chance" if accuracy.near_chance else "yes"),
            )
            for label, accuracy in rows
        ),
        align="lrrrrl",
        caption="Shared stages: validation accuracy of the weights each one hands on",
    )
