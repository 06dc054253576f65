"""``LedgerHistory`` answers the hub's history questions exactly as ``MemoryHistory`` does.

The same events go to both (the hub's bus-fed memory, and the ledger through its writer);
every query must give the same records, so the lead can swap one for the other.
"""

from __future__ import annotations

import pytest

from hub.history import MemoryHistory
from storage import Database
from storage.history import LedgerHistory
from storage.history_api import HistoryReader, SignalQuery, TradeQuery
from storage.journal import encode
from storage.writer import LedgerWriter
from tests.storage.sample_history import EVENTS, T0, memory_history, write_to_ledger


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


def test_a_read_first_asks_the_ledger_to_write_what_it_holds(database: Database) -> None:
    held = [e for e in (encode(m, T0 + 10) for m in EVENTS) if e is not None]
    calls: list[int] = []

    def flush() -> None:  # what the ledger actor does when asked: write its batch
        calls.append(len(calls))
        if len(calls) == 1:
            LedgerWriter(database).write(held)
        else:
            raise TimeoutError("the ledger is restarting")

    ledger = LedgerHistory(database, flush=flush)
    assert [t["client_order_id"] for t in ledger.trades(TradeQuery())] == ["c6", "c5", "c3", "c1"]
    assert len(ledger.signals(SignalQuery())) == 4  # a failed flush: the read goes on
    assert calls == [0, 1]
