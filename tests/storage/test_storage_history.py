"""``LedgerHistory`` answers the hub's history questions exactly as ``MemoryHistory`` does.

The same events go to both (the hub's bus-fed memory, and the ledger through its writer);
every query must give the same records, so the lead can swap one for the other.
"""

from __future__ import annotations

import pytest

from hub.history import HistoryReader, MemoryHistory, SignalQuery, TradeQuery
from storage import Database
from storage.history import LedgerHistory
from tests.storage.sample_history import T0, memory_history, write_to_ledger


@pytest.fixture
def readers(database: Database) -> tuple[HistoryReader, LedgerHistory]:
    write_to_ledger(database)
    return memory_history(), LedgerHistory(database)


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
    for reader in readers:
        everything = [t["client_order_id"] for t in reader.trades(TradeQuery())]
        pages = [
            [t["client_order_id"] for t in reader.trades(TradeQuery(limit=2, offset=offset))]
            for offset in (0, 2, 4)
        ]
        assert pages == [everything[:2], everything[2:4], []]
        signals = [s["signal_id"] for s in reader.signals(SignalQuery(limit=3, offset=1))]
        assert signals == ["s3", "s2", "s1"]


def test_an_unknown_status_finds_nothing(readers: tuple[HistoryReader, LedgerHistory]) -> None:
    _, ledger = readers
    assert ledger.trades(TradeQuery(status="bogus")) == []
    assert ledger.signals(SignalQuery(status="bogus")) == []
