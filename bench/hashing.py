"""Content hashes and derived seeds: the identities the cache and the protocol rest on."""

from __future__ import annotations

import hashlib
import json
from typing import Any


def content_hash(value: Any, *, length: int = 16) -> str:
    """Hex digest of a JSON-able value (dataclasses and tuples via ``repr``-free JSON)."""
    text = json.dumps(value, sort_keys=True, default=jsonable)
    return hashlib.sha256(text.encode()).hexdigest()[:length]


def derive_seed(*parts: Any) -> int:
    """A 32-bit seed from ``parts``, stable across processes, machines and Python versions."""
    digest = hashlib.sha256(json.dumps(parts, default=jsonable).encode()).digest()
    return int.from_bytes(digest[:4], "little")


def jsonable(value: Any) -> Any:
    if hasattr(value, "__json__"):  # a value that names its own JSON form
        return value.__json__()
    if hasattr(value, "__dataclass_fields__"):
        return {k: getattr(value, k) for k in value.__dataclass_fields__}
    if hasattr(value, "tolist"):
        return value.tolist()
    return str(value)
