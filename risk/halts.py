"""Why trading is halted (or stopped) and what clears it, in words an operator can act on.

One table for the status (``/api/status``'s ``halt``) and for the 409 that ``start``,
``reset`` and ``flatten`` answer when they cannot act, so both say the same thing.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

LEDGER_UNAVAILABLE = "ledger_unavailable"
CIRCUIT_BREAKER = "circuit_breaker"
RISK_STATE_UNREADABLE = "risk_state_unreadable"
RESET = "reset the circuit breaker (POST /api/circuit-breaker/reset)"

_KNOWN: dict[str, tuple[str, str]] = {
    LEDGER_UNAVAILABLE: (
        "ledger unavailable",
        "clears itself when the database writes again",
    ),
    CIRCUIT_BREAKER: (
        "circuit breaker tripped: the drawdown from the day's start passed CIRCUIT_BREAKER_PCT",
        f"{RESET} once you have looked at the losses",
    ),
    RISK_STATE_UNREADABLE: (
        "the saved risk state cannot be read (the day's starting equity and any halt are lost)",
        f"check today's P&L on the exchange and in the ledger, then {RESET}",
    ),
}


@dataclass(frozen=True, slots=True)
class Halt:
    state: str  # halted | stopped
    reason: str  # the machine reason, e.g. ledger_unavailable
    message: str
    clears: str

    def text(self) -> str:
        return f"{self.message}: {self.clears}"

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


def halt_of(state: str, reason: str) -> Halt | None:
    """What stops trading, or None while it runs. ``reason``: the engine's halt reason
    (or the ledger's), or who stopped it."""
    if state == "stopped":
        by = f" by {reason}" if reason else ""
        return Halt("stopped", "stopped", f"trading stopped{by}", "start it (POST /api/start)")
    if state != "halted":
        return None
    message, clears = _KNOWN.get(
        reason,
        (f"trading halted: {reason or 'unknown cause'}", f"{RESET} once the cause is fixed"),
    )
    return Halt("halted", reason, message, clears)


class TradingHalted(ValueError):
    """A control that cannot act while trading is halted (the API answers 409 with why)."""

    def __init__(self, halt: Halt) -> None:
        super().__init__(f"trading is {halt.state} — {halt.text()}")
        self.halt = halt
