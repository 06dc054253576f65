"""Identifiers: unique across runs, reproducible within one.

An id is a UUID4 whose first half is drawn once per exchange (the run) and whose second
half comes from a seeded sequence. Prices come from the seed alone, so the same seed
still gives the same market; the ids of two runs never meet, so a ledger that outlives
one built-in exchange (a second ``python run.py`` on the same data) never sees an order
or fill id twice.
"""

from __future__ import annotations

import random
import secrets
import uuid

_NAMESPACE = uuid.UUID("6f1c2a52-9d0e-4c53-8a3e-5b1f0d7e2c41")
_HALF = 64


class IdFactory:
    """UUID4-shaped ids: a run prefix, then a seeded generator of their own.

    A separate generator keeps ids from perturbing the index or the traders: adding one
    order does not change the price path. ``run`` fixes the prefix (a test that needs the
    same ids twice); by default it is random.
    """

    def __init__(self, seed: int, run: int | None = None) -> None:
        self._rng = random.Random(f"ids:{seed}")
        self.run = secrets.randbits(_HALF) if run is None else run
        if not 0 <= self.run < 1 << _HALF:
            raise ValueError(f"an id run prefix is a 64-bit number, not {run!r}")
        self._prefix = self.run << _HALF

    def new(self) -> str:
        return str(uuid.UUID(int=self._prefix | self._rng.getrandbits(_HALF), version=4))


def stable_id(name: str) -> str:
    """A UUID that depends only on ``name`` (users, markets)."""
    return str(uuid.uuid5(_NAMESPACE, name))
