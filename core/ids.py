"""Deterministic identities: the same parts give the same id in every process and after a restart."""

from __future__ import annotations

import hashlib


def stable_hash(*parts: str, size: int = 12) -> str:
    """Hex BLAKE2b of the parts joined by a unit separator (so ``("ab", "c")`` ≠ ``("a", "bc")``)."""
    return hashlib.blake2b("\x1f".join(parts).encode("utf-8"), digest_size=size).hexdigest()
