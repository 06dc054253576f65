"""One small trading history (signals, decisions, orders, fills, positions) told as events.

Fed to the bus-fed ``MemoryHistory`` and through the ledger's writer, it must read back the
same from both; the hub's tests use it as a previous session's ledger.
"""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

from hub.history import MemoryHistory
from messages.status import Position, RiskStatus
from messages.trading import Fill, OrderIntent, OrderUpdate, RiskDecision, Signal
from messages.vocabulary import OrderStatus
from storage import Database
from storage.journal import daily_row, encode, positions_rows
from storage.writer import LedgerWriter

T0 = 1_780_000_200.0


def _signal(
    sid: str, ts: float, ticker: str = "KX-1", strategy: str = "kelly_volatility"
) -> Signal:
    return Signal(sid, strategy, ticker, "yes", D("0.05"), D("0.6"), D("0.52"), 3, T0 + ts)


def _decision(sid: str, ts: float, approved: bool, reason: str = "approved") -> RiskDecision:
    return RiskDecision(
        sid, "kelly_volatility", "KX-1", approved, reason, 3 if approved else 0, T0 + ts
    )


def _intent(
    coid: str, ts: float, ticker: str = "KX-1", strategy: str = "kelly_volatility"
) -> OrderIntent:
    return OrderIntent(
        coid,
        "s-" + coid,
        strategy,
        ticker,
        "yes",
        "buy",
        3,
        D("0.52"),
        "immediate_or_cancel",
        created_at=T0 + ts,
    )


def _update(
    coid: str,
    ts: float,
    status: str,
    filled: int,
    remaining: int,
    *,
    ticker: str = "KX-1",
    reason: str = "",
    strategy: str = "kelly_volatility",
) -> OrderUpdate:
    return OrderUpdate(
        coid,
        "o-" + coid,
        ticker,
        "yes",
        "buy",
        OrderStatus(status),
        filled,
        remaining,
        D("0.52"),
        strategy,
        T0 + ts,
        fees=D("0.02") * filled,
        reason=reason,
    )


def _fill(trade_id: str, coid: str, ts: float, count: int, price: str = "0.52") -> Fill:
    return Fill(
        trade_id,
        "o-" + coid,
        coid,
        "KX-1",
        "yes",
        "buy",
        count,
        D(price),
        D("0.02") * count,
        True,
        T0 + ts,
        "kelly_volatility",
    )


EVENTS: list[Any] = [
    _signal("s1", 1), _decision("s1", 1.01, True), _intent("c1", 1.02),
    _update("c1", 1.1, "resting", 0, 3), _fill("f1", "c1", 1.2, 1, "0.51"),
    _fill("f2", "c1", 1.3, 2), _update("c1", 1.4, "executed", 3, 0),
    _signal("s2", 2), _decision("s2", 2.01, False, "edge_below_minimum"),
    _signal("s3", 3), _decision("s3", 3.01, True), _intent("c3", 3.02),
    _update("c3", 3.1, "rejected", 0, 0, reason="insufficient_balance"),
    _signal("s4", 4, ticker="KX-2", strategy="mean_reversion"),
    _intent("c5", 5, ticker="KX-2", strategy="mean_reversion"),
    _update("c5", 5.1, "resting", 0, 3, ticker="KX-2", strategy="mean_reversion"),
    _update("c6", 6, "resting", 0, 2, reason="adopted", strategy=""),
]  # fmt: skip
STATUS = RiskStatus(
    "running", D("-0.1"), D("-0.06"), D("-0.04"), D("0.06"), D("1.56"), D("1.56"), 1,
    D("9999.9"), D("10000"), False, "",
    (
        Position("KX-1", "yes", 3, D("0.5167"), D("1.55"), D("1.53"), D("-0.02"), D(0)),
        Position("KX-0", "no", 1, D("0.4"), D("0.4"), None, None, D(0)),
    ),
    T0 + 7,
)  # fmt: skip


def memory_history() -> MemoryHistory:
    memory = MemoryHistory()
    for event in EVENTS:
        kind = type(event)
        if kind is Signal:
            memory.record_signal(event)
        elif kind is RiskDecision:
            memory.record_decision(event)
        elif kind is OrderIntent:
            memory.record_intent(event)
        elif kind is OrderUpdate:
            memory.record_update(event)
        else:
            memory.record_fill(event)
    memory.record_positions(STATUS.positions)
    return memory


def write_to_ledger(database: Database) -> None:
    """Journal every event (and the status's positions) through the ledger's writer."""
    entries = [encode(event, T0 + 10) for event in EVENTS]
    writer = LedgerWriter(database)
    writer.write([e for e in entries if e is not None])
    writer.write([daily_row(STATUS), positions_rows(STATUS)])
