"""A stage's ``trainable`` rule, parsed once from its text into a typed value.

``all`` trains every backbone layer, ``head`` none of them; ``last:N`` trains the last N,
``all_but_last:N`` all but the last N, ``freeze_first:N`` all but the first N (N >= 1).
The rule's text is its identity: job hashes and stored inputs hold ``str(rule)``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal, cast

TrainableKind = Literal["all", "head", "last", "all_but_last", "freeze_first"]
FORMS = 'use "all", "head", "last:N", "all_but_last:N" or "freeze_first:N" (N >= 1)'
SYNTAX = re.compile(r"(all|head)|(last|all_but_last|freeze_first):([1-9][0-9]*)")


@dataclass(frozen=True)
class Trainable:
    kind: TrainableKind
    n: int | None = None  # layers counted by last, all_but_last and freeze_first

    def __str__(self) -> str:
        return self.kind if self.n is None else f"{self.kind}:{self.n}"

    def __json__(self) -> str:
        return str(self)

    def flags(self, layers: int) -> list[bool]:
        """Per backbone layer, in order, whether it trains."""
        k = min(self.n or 0, layers)
        frozen = {
            "all": [],
            "head": range(layers),
            "last": range(layers - k),
            "all_but_last": range(layers - k, layers),
            "freeze_first": range(k),
        }[self.kind]
        return [i not in frozen for i in range(layers)]


def parse_trainable(text: str) -> Trainable:
    """The rule ``text`` writes; a ValueError saying how to write one otherwise."""
    match = SYNTAX.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise ValueError(f"unknown trainable rule {text!r}; {FORMS}")
    whole, kind, count = match.groups()
    if whole:
        return Trainable(cast(TrainableKind, whole))
    return Trainable(cast(TrainableKind, kind), int(count))


ALL = Trainable("all")
