"""Published protocols as data: one card per study, every setting with where the paper says it.

A card is a TOML file of this package (``bench/protocols/<name>.toml``) or any path. Its
settings use the suite's own vocabulary (key paths such as ``protocol.repeats``, stage
settings such as ``trainable_layers``), so ``bench validate --against`` can hold a suite's
resolved plan against it. Pure data: nothing here imports TensorFlow, the engine or models.
"""

from bench.protocols.card import (
    STAGE_KEYS,
    SUITE_KEYS,
    Card,
    Setting,
    StageCard,
    card_names,
    load_card,
)

__all__ = [
    "STAGE_KEYS",
    "SUITE_KEYS",
    "Card",
    "Setting",
    "StageCard",
    "card_names",
    "load_card",
]
