"""Several series in one backtest session: each market's risk check and strategy read the
index of its own series (backtest/multi.py, backtest/session.py)."""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

from backtest.multi import SeriesRouter, series_of
from backtest.params import ExecParams, RiskParams
from backtest.session import Session
from messages.market_data import BookUpdate, MarketInfo, SpotTick
from messages.trading import Signal
from tests.backtest import test_backtest_shares_the_tracker as tracker
from tests.backtest.backtest_builders import START
from tests.strategies.strategy_builders import book, market

INDICES = {"KXSOL15M": "SOLUSD_RTI", "KXBTC15M": "BRTI"}
BTC_1 = "KXBTC15M-25MAR030015-15"
BTC_2 = "KXBTC15M-25MAR030030-30"


class _Buyer(tracker._Buyer):
    """Buys 2 YES at the ask on the first book of each market; remembers what it saw."""

    name = "test_multi_buyer"

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.seen: list[str] = []

    def on_spot(self, tick: SpotTick) -> list[Signal]:
        self.seen.append(tick.index)
        return super().on_spot(tick)

    def on_market(self, info: MarketInfo) -> None:
        self.seen.append(info.ticker)

    def on_book(self, update: BookUpdate) -> list[Signal]:
        self.seen.append(update.ticker)
        return super().on_book(update)


def _open(session: Session, ticker: str, at: float) -> None:
    session.market_info(market(ticker, strike=D("100"), open_time=at, close_time=at + 900), at)


def test_a_markets_risk_check_reads_its_own_series_index() -> None:
    """A fresh SOL print does not make a BTC market's index fresh (a single spot did)."""
    session = Session([_Buyer()], RiskParams(), ExecParams(latency_seconds=0), indices=INDICES)
    at = float(START)
    _open(session, BTC_1, at)
    session.spot_tick(SpotTick("SOLUSD_RTI", D("100.10"), at + 1))
    session.book_update(book(at + 1, [("0.38", 50)], [("0.40", 10)], ticker=BTC_1))
    assert session.counters.decisions == {"stale_spot": 1}
    _open(session, BTC_2, at + 2)
    session.spot_tick(SpotTick("BRTI", D("100.10"), at + 2))
    session.book_update(book(at + 2, [("0.38", 50)], [("0.40", 10)], ticker=BTC_2))
    assert session.counters.decisions["approved"] == 1
    assert session.tracker.position(BTC_2) == 2


def test_the_router_sends_each_message_to_its_own_series_strategy() -> None:
    sol, btc = _Buyer(), _Buyer()
    router = SeriesRouter({"KXSOL15M": sol, "KXBTC15M": btc}, INDICES)
    assert router.name == "test_multi_buyer"
    router.on_spot(SpotTick("BRTI", D("95000"), 1.0))
    router.on_spot(SpotTick("SOLUSD_RTI", D("150"), 1.0))
    router.on_market(market(BTC_1))
    [signal] = router.on_book(book(2.0, [("0.38", 5)], [("0.40", 5)], ticker=BTC_1))
    assert signal.ticker == BTC_1
    assert btc.seen == ["BRTI", BTC_1, BTC_1]
    assert sol.seen == ["SOLUSD_RTI"]
    assert router.on_book(book(2.0, [("0.38", 5)], [("0.40", 5)], ticker="KXETH15M-X")) == []
    assert series_of(BTC_1) == "KXBTC15M"
