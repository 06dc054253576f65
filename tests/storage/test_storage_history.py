"""``LedgerHistory`` answers the hub's history questions exactly as ``MemoryHistory`` does.

The same events go to both (the hub's bus-fed memory, and the ledger through its writer);
every query must give the same records, so the lead can swap one for the other.
"""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

import pytest

from hub.history import HistoryReader, MemoryHistory, SignalQuery, TradeQuery
from messages.status import Position, RiskStatus
from messages.trading import Fill, OrderIntent, OrderUpdate, RiskDecision, Signal
from storage import Database
from storage.history import LedgerHistory
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
        status,
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


def _memory() -> MemoryHistory:
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


@pytest.fixture
def readers(database: Database) -> tuple[HistoryReader, LedgerHistory]:
    entries = [encode(event, T0 + 10) for event in EVENTS]
    writer = LedgerWriter(database)
    writer.write([e for e in entries if e is not None])
    writer.write([daily_row(STATUS), positions_rows(STATUS)])
    return _memory(), LedgerHistory(database)


TRADE_QUERIES = [
    TradeQuery(),
    TradeQuery(ticker="KX-2"),
    TradeQuery(strategy="kelly_volatility"),
    TradeQuery(status="active"),
    TradeQuery(status="filled"),
    TradeQuery(status="closed"),
    TradeQuery(status="rejected"),
    TradeQuery(status="cancelled"),
    TradeQuery(since=T0 + 3),
    TradeQuery(limit=2),
]


@pytest.mark.parametrize("query", TRADE_QUERIES, ids=repr)
def test_trades_match(readers: tuple[HistoryReader, LedgerHistory], query: TradeQuery) -> None:
    memory, ledger = readers
    assert ledger.trades(query) == memory.trades(query)


SIGNAL_QUERIES = [
    SignalQuery(),
    SignalQuery(status="approved"),
    SignalQuery(status="rejected"),
    SignalQuery(status="pending"),
    SignalQuery(ticker="KX-2"),
    SignalQuery(strategy="kelly_volatility", since=T0 + 2),
    SignalQuery(limit=1),
]


@pytest.mark.parametrize("query", SIGNAL_QUERIES, ids=repr)
def test_signals_match(readers: tuple[HistoryReader, LedgerHistory], query: SignalQuery) -> None:
    memory, ledger = readers
    assert ledger.signals(query) == memory.signals(query)


def test_orders_positions_and_counts_match(readers: tuple[HistoryReader, LedgerHistory]) -> None:
    memory, ledger = readers
    assert ledger.active_orders() == memory.active_orders()
    for key in ("c1", "o-c1", "c6", "nope"):
        assert ledger.find_order(key) == memory.find_order(key)
    assert ledger.positions() == memory.positions()
    assert isinstance(memory, MemoryHistory)
    assert ledger.counts() == memory.counts()


def test_pages_follow_each_other(readers: tuple[HistoryReader, LedgerHistory]) -> None:
    _, ledger = readers
    everything = [t["client_order_id"] for t in ledger.trades(TradeQuery())]
    pages = [
        [t["client_order_id"] for t in ledger.trades(TradeQuery(limit=2), offset=offset)]
        for offset in (0, 2, 4)
    ]
    assert pages == [everything[:2], everything[2:4], []]
    signals = [s["signal_id"] for s in ledger.signals(SignalQuery(limit=3), offset=1)]
    assert signals == ["s3", "s2", "s1"]


def test_an_unknown_status_finds_nothing(readers: tuple[HistoryReader, LedgerHistory]) -> None:
    _, ledger = readers
    assert ledger.trades(TradeQuery(status="bogus")) == []
    assert ledger.signals(SignalQuery(status="bogus")) == []
