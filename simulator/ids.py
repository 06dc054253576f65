"""Deterministic identifiers: the same seed and the same calls give the same ids."""

from __future__ import annotations

import random
import uuid

_NAMESPACE = uuid.UUID("6f1c2a52-9d0e-4c53-8a3e-5b1f0d7e2c41")


class IdFactory:
    """UUID4-shaped ids drawn from a seeded generator of their own.

    A separate generator keeps ids from perturbing the index or the traders:
    adding one order does not change the price path.
    """

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(f"ids:{seed}")

    def new(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))


def stable_id(name: str) -> str:
    """A UUID that depends only on ``name`` (users, markets)."""
    return str(uuid.uuid5(_NAMESPACE, name))
