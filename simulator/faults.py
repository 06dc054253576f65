"""Fault injection knobs, settable at runtime from tests or ``POST /sim/faults``.

Each knob has a rate (a seeded random draw per opportunity) and, where tests
need certainty, a ``*_next`` counter that forces the fault on the next N
opportunities. Thread-safe: tests set knobs from their thread while the server
reads them on its loop.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, Literal

LostResponseMode = Literal["close", "500"]


@dataclass(slots=True)
class FaultSettings:
    """Current knob values (a plain record; :class:`Faults` guards it)."""

    latency_ms: float = 0.0  # added to every REST response
    error_5xx_rate: float = 0.0  # REST requests answered 500 before they are handled
    error_5xx_next: int = 0
    error_429_rate: float = 0.0  # REST requests answered 429 before they are handled
    error_429_next: int = 0
    ws_drop_rate: float = 0.0  # chance per connection per simulated second of a drop
    seq_skip_rate: float = 0.0  # chance per sequenced message that one seq number is skipped
    seq_skip_next: int = 0
    lost_response_rate: float = 0.0  # order created, then the response is lost
    lost_response_next: int = 0
    lost_response_mode: LostResponseMode = "close"  # close the connection, or answer 500
    # the next V2 creates answer 410 as a retired endpoint does (no order is made)
    retired_create_next: int = 0
    # the next V2 creates make their order but answer 201 without its order_id
    malformed_create_next: int = 0
    # the next order lists (GET /portfolio/orders) answer as if no order existed yet (a read
    # that lags the writes): a lookup by client_order_id finds nothing
    hide_orders_next: int = 0


_RATES = ("error_5xx_rate", "error_429_rate", "ws_drop_rate", "seq_skip_rate", "lost_response_rate")
_COUNTERS = (
    "error_5xx_next",
    "error_429_next",
    "seq_skip_next",
    "lost_response_next",
    "retired_create_next",
    "malformed_create_next",
    "hide_orders_next",
)


class FaultError(ValueError):
    """A knob value that is out of range or of the wrong type."""


class Faults:
    """The knobs plus the seeded draws that decide each fault."""

    def __init__(self, seed: int = 0) -> None:
        self._lock = threading.Lock()
        self._settings = FaultSettings()
        self._rng = random.Random(f"faults:{seed}")

    def update(self, **changes: Any) -> FaultSettings:
        """Set some knobs; unknown names or bad values raise :class:`FaultError`."""
        known = {f.name for f in fields(FaultSettings)}
        for name, value in changes.items():
            if name not in known:
                raise FaultError(f"unknown fault knob: {name}")
            _check(name, value)
        with self._lock:
            for name, value in changes.items():
                setattr(self._settings, name, value)
            return self._copy()

    def reset(self) -> None:
        """All knobs back to "no faults" (the random stream continues)."""
        with self._lock:
            self._settings = FaultSettings()

    def reseed(self, seed: int) -> None:
        """Restart the random stream that decides rate-based faults."""
        with self._lock:
            self._rng = random.Random(f"faults:{seed}")

    def snapshot(self) -> FaultSettings:
        with self._lock:
            return self._copy()

    def _copy(self) -> FaultSettings:
        return FaultSettings(
            **{f.name: getattr(self._settings, f.name) for f in fields(FaultSettings)}
        )

    def as_dict(self) -> dict[str, Any]:
        settings = self.snapshot()
        return {f.name: getattr(settings, f.name) for f in fields(FaultSettings)}

    @property
    def latency_ms(self) -> float:
        with self._lock:
            return self._settings.latency_ms

    @property
    def lost_response_mode(self) -> LostResponseMode:
        with self._lock:
            return self._settings.lost_response_mode

    def _take(self, counter: str, rate: str) -> bool:
        with self._lock:
            remaining: int = getattr(self._settings, counter)
            if remaining > 0:
                setattr(self._settings, counter, remaining - 1)
                return True
            chance: float = getattr(self._settings, rate)
            return chance > 0 and self._rng.random() < chance

    def take_5xx(self) -> bool:
        return self._take("error_5xx_next", "error_5xx_rate")

    def take_429(self) -> bool:
        return self._take("error_429_next", "error_429_rate")

    def take_seq_skip(self) -> bool:
        return self._take("seq_skip_next", "seq_skip_rate")

    def take_lost_response(self) -> bool:
        return self._take("lost_response_next", "lost_response_rate")

    def take_retired_create(self) -> bool:
        return self._take_next("retired_create_next")

    def take_malformed_create(self) -> bool:
        return self._take_next("malformed_create_next")

    def take_hidden_orders(self) -> bool:
        return self._take_next("hide_orders_next")

    def _take_next(self, counter: str) -> bool:
        with self._lock:
            remaining: int = getattr(self._settings, counter)
            if remaining > 0:
                setattr(self._settings, counter, remaining - 1)
                return True
            return False

    def take_ws_drop(self) -> bool:
        with self._lock:
            chance = self._settings.ws_drop_rate
            return chance > 0 and self._rng.random() < chance


def _check(name: str, value: object) -> None:
    if name in _RATES:
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
            raise FaultError(f"{name} must be a number between 0 and 1")
    elif name in _COUNTERS:
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise FaultError(f"{name} must be a non-negative integer")
    elif name == "latency_ms":
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not 0 <= value <= 60_000
        ):
            raise FaultError("latency_ms must be a number between 0 and 60000")
    elif name == "lost_response_mode" and value not in ("close", "500"):
        raise FaultError("lost_response_mode must be 'close' or '500'")


def parse_fault_body(body: Mapping[str, Any]) -> tuple[dict[str, Any], bool, bool]:
    """Split a ``POST /sim/faults`` body into knob changes and the two actions.

    Returns ``(changes, reset, drop_ws_now)``.
    """
    changes = {k: v for k, v in body.items() if k not in ("reset", "drop_ws_now")}
    reset = body.get("reset", False)
    drop = body.get("drop_ws_now", False)
    if not isinstance(reset, bool) or not isinstance(drop, bool):
        raise FaultError("reset and drop_ws_now must be booleans")
    return changes, reset, drop
