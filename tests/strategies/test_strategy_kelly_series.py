"""kelly_volatility across series: each market priced on its own series' index.

One strategy instance trades SOL and BTC markets; a print of one index re-prices only the
markets settling on it, each market's model uses its own index's price and σ, and an
index going stale stops only its own markets.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal as D

from messages.market_data import SpotTick
from strategies import create_strategy
from strategies.kelly_volatility import KellyVolatility
from tests.strategies.strategy_builders import OPEN, market, quote

SOL = "KXSOL15M-26MAY300015-15"
BTC = "KXBTC15M-26MAY300015-15"
T = OPEN + 300.0


def two_series() -> KellyVolatility:
    strategy = create_strategy("kelly_volatility", initial_sigma=0.5, sigma_floor=0.0)
    assert isinstance(strategy, KellyVolatility)
    strategy.on_market(replace(market(SOL), series="KXSOL15M", index="SOLUSD_RTI"))
    btc = replace(market(BTC, strike=D("68000")), series="KXBTC15M", index="BRTI")
    strategy.on_market(btc)
    return strategy


def tick(index: str, ts: float, price: str, stale: bool = False) -> SpotTick:
    return SpotTick(index=index, price=D(price), ts=ts, stale=stale)


def test_each_market_is_priced_on_its_own_index() -> None:
    strategy = two_series()
    strategy.on_spot(tick("SOLUSD_RTI", T, "75.10"))  # SOL above its strike
    strategy.on_spot(tick("BRTI", T, "67900"))  # BTC below its strike
    sol = strategy.on_book(quote(T + 0.5, "0.45", "0.47", ticker=SOL))
    btc = strategy.on_book(quote(T + 0.5, "0.45", "0.47", ticker=BTC))
    assert [(s.ticker, s.direction, s.spot) for s in sol] == [(SOL, "yes", D("75.10"))]
    assert [(s.ticker, s.direction, s.spot) for s in btc] == [(BTC, "no", D("67900"))]


def test_a_print_reprices_only_the_markets_on_its_index() -> None:
    strategy = two_series()
    strategy.on_spot(tick("SOLUSD_RTI", T, "75.00"))
    strategy.on_spot(tick("BRTI", T, "68000"))
    assert strategy.on_book(quote(T, "0.45", "0.55", ticker=SOL)) == []
    assert strategy.on_book(quote(T, "0.45", "0.55", ticker=BTC)) == []
    # SOL jumps far above its strike: its market signals, BTC's is not even evaluated
    before = strategy.stats.evaluations
    signals = strategy.on_spot(tick("SOLUSD_RTI", T + 1, "76.50"))
    assert {s.ticker for s in signals} == {SOL}
    assert strategy.stats.evaluations == before + 1


def test_a_stale_index_stops_only_its_own_markets() -> None:
    strategy = two_series()
    strategy.on_spot(tick("SOLUSD_RTI", T, "75.10"))
    strategy.on_spot(tick("BRTI", T, "68100"))
    strategy.on_spot(tick("SOLUSD_RTI", T, "75.10", stale=True))
    assert strategy.on_book(quote(T + 0.5, "0.45", "0.47", ticker=SOL)) == []
    assert strategy.stats.skips["stale_spot"] == 1
    btc = strategy.on_book(quote(T + 0.5, "0.45", "0.47", ticker=BTC))
    assert [s.ticker for s in btc] == [BTC]
    assert set(strategy.metrics()["indices"]) == {"SOLUSD_RTI", "BRTI"}
