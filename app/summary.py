"""The session summary printed at shutdown: what this run did, as the ledger recorded it.

Counted in the ledger rather than asked of the actors: a crashed order actor or
strategy comes back with empty counters, but what it did is still in the ledger.
"""

from __future__ import annotations

import sys
from typing import Any, TextIO

from loguru import logger

from messages.control import StopTrading
from messages.status import RiskStatus
from runtime.system import ActorSystem
from storage.history import LedgerHistory, SessionCounts


class SessionSummary:
    """``before_stop`` of :func:`app.bot.supervise`: stop new trading, then print the summary."""

    def __init__(self, history: LedgerHistory, since: float, out: TextIO | None = None) -> None:
        self.history = history
        self.since = since
        self.out = out

    def __call__(self, system: ActorSystem) -> None:
        _ask(system, "risk", StopTrading("shutdown", "system"))  # resting orders are cancelled
        status = _ask(system, "risk", "status")
        try:
            counts: SessionCounts | None = self.history.session_counts(self.since)
        except Exception as exc:  # a summary must never stop the shutdown
            logger.warning("summary: the ledger cannot be read: {}", exc)
            counts = None
        text = "\n".join(summary_lines(counts, status if isinstance(status, RiskStatus) else None))
        print(text, file=self.out or sys.stdout, flush=True)


def summary_lines(counts: SessionCounts | None, status: RiskStatus | None) -> list[str]:
    lines = ["sol15 session summary"]
    if counts is None:
        lines.append("  signals, orders and fills: unavailable (the ledger cannot be read)")
    else:
        lines += [
            f"  signals sent to risk: {counts.signals}",
            f"  orders: {counts.orders} ({counts.filled_orders} filled)",
            f"  fills: {counts.fills}",
        ]
    if status is not None:
        lines.append(
            f"  P&L today: ${status.daily_pnl:.2f} (realized ${status.realized_pnl:.2f}, "
            f"unrealized ${status.unrealized_pnl:.2f}, fees ${status.fees_paid:.2f}), "
            f"{status.open_positions} open positions"
        )
    return lines


def _ask(system: ActorSystem, name: str, message: object) -> Any:
    try:
        return system.ask(name, message, timeout=5)
    except Exception as exc:  # a summary must never stop the shutdown
        logger.warning("summary: {} unavailable: {}", name, exc)
        return None
