"""Simulated market makers and noise traders against the calibration in KALSHI.md."""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import replace
from decimal import Decimal

import pytest

from messages.vocabulary import Side
from simulator.config import MAX_LEAD_SECONDS, SOFT_CALIBRATION, ExchangeConfig, MarketCalibration
from simulator.events import TradeEvent
from simulator.exchange import Exchange
from simulator.orders import OrderRequest
from simulator.pricing import settlement_probability, shade_longshot, unknown_sum_variance_units
from tests.simulator.helpers import START

WINDOWS = 4


@pytest.fixture(scope="module")
def observed() -> dict[str, object]:
    """Spreads, depth and trades over a few 15-minute windows of one seeded run."""
    ex = Exchange(ExchangeConfig(seed=21), start=START)
    spreads: dict[int, list[Decimal]] = defaultdict(list)
    depth: list[Decimal] = []
    trades: dict[int, int] = defaultdict(int)
    sizes: list[Decimal] = []
    invalid: list[Decimal] = []
    for step in range(1, 900 * WINDOWS + 1):
        now = int(START) + step
        ex.advance(now)
        market = ex.current_market()
        assert market is not None
        minute = (market.close_ts - now) // 60
        top = ex.top_of_book(market)
        if top.yes_bid > 0 and top.yes_ask < 1:
            spreads[minute].append(top.spread)
            depth.append(top.yes_bid_size)
        yes, no = ex.orderbook(market.ticker)
        invalid += [p for p, _ in yes + no if not ex.levels.is_valid(p)]
        for event in ex.drain_events():
            if isinstance(event, TradeEvent):
                trades[(market.close_ts - int(event.ts)) // 60] += 1
                sizes.append(event.count)
    return {
        "spreads": spreads,
        "depth": depth,
        "trades": trades,
        "sizes": sizes,
        "invalid": invalid,
    }


def test_spread_narrows_into_the_close(observed: dict[str, object]) -> None:
    spreads = observed["spreads"]
    assert isinstance(spreads, dict)
    early = [s for minute in range(9, 14) for s in spreads[minute]]
    five = spreads[4] + spreads[5]
    two = spreads[1] + spreads[2]
    last = spreads[0]
    # KALSHI.md: ≈2¢ with 14–9 minutes left, 1¢ at 5, 0.8¢ at 2, 0.5¢ in the last minute.
    assert statistics.median(early) == Decimal("0.020")
    assert Decimal("0.008") <= statistics.median(five) <= Decimal("0.015")
    assert Decimal("0.005") <= statistics.median(two) <= Decimal("0.011")
    assert statistics.median(last) <= Decimal("0.008")
    assert statistics.median(early) > statistics.median(five) > statistics.median(last)


def test_depth_at_best_price(observed: dict[str, object]) -> None:
    depth = observed["depth"]
    assert isinstance(depth, list)
    assert 9 <= statistics.median(depth) <= 13  # KALSHI.md: 10–13 contracts


def test_trade_rate_and_size(observed: dict[str, object]) -> None:
    trades = observed["trades"]
    sizes = observed["sizes"]
    assert isinstance(trades, dict) and isinstance(sizes, list)
    per_minute = (trades[4] + trades[5]) / (2 * WINDOWS)
    assert 50 <= per_minute <= 85  # KALSHI.md: about 67 a minute 4–6 minutes before close
    assert trades[13] / WINDOWS < per_minute  # quieter early in the window
    assert 2 <= statistics.median(sizes) <= 4  # median trade of 3 contracts


def test_quotes_are_on_the_tiered_tick(observed: dict[str, object]) -> None:
    assert observed["invalid"] == []


def test_fair_value_lags_the_index() -> None:
    lag = 7
    calibration = replace(SOFT_CALIBRATION, fair_value_lag_seconds=lag)
    ex = Exchange(ExchangeConfig(seed=4, calibration=calibration), start=START)
    ex.advance(START + 300)
    market = ex.current_market()
    assert market is not None and market.floor_strike is not None
    t = int(START) + 300
    seen = ex.index.value_at(t - lag)
    assert seen is not None
    expected = settlement_probability(
        spot=float(seen),
        strike=float(market.floor_strike),
        now=t - lag,
        close=market.close_ts,
        known_window_prints=[],
        sigma_per_second=ex.index.sigma_per_second,
    )
    assert ex.makers.fair_value(market, t) == expected
    current = ex.index.value_at(t)
    assert current != seen  # the lag matters: the index moved in between


def test_settlement_probability_uses_the_known_part_of_the_average() -> None:
    # Half the final minute known, all at 101 against a strike of 100: YES is very likely
    # even though the spot has fallen to 99.5, because the average is half locked in.
    known = [101.0] * 30
    p = settlement_probability(
        spot=99.5,
        strike=100.0,
        now=1030,
        close=1060,
        known_window_prints=known,
        sigma_per_second=0.0001,
    )
    assert p > 0.99
    assert settlement_probability(
        spot=100.0, strike=100.0, now=0, close=1000, known_window_prints=[], sigma_per_second=1e-4
    ) == pytest.approx(0.5)
    # Σᵢⱼ min(i, j) over i, j = 1..3 is 1·5 + 2·3 + 3·1 = 14.
    assert unknown_sum_variance_units(1, 3) == 14.0


def _pick_off_pnl(seed: int, model_lag: int, windows: int = 3) -> tuple[Decimal, int]:
    """Settled P&L (after fees) of taking the soft desk's quotes when a model sees edge > 3¢."""
    ex = Exchange(ExchangeConfig(seed=seed, calibration=SOFT_CALIBRATION), start=START)
    me = ex.create_user("model")
    side: Side
    for step in range(1, 900 * windows + 1):
        t = int(START) + step
        ex.advance(t)
        market = ex.current_market()
        assert market is not None and market.floor_strike is not None
        if market.close_ts - t < 5:
            continue
        seen = t - model_lag
        spot = ex.index.value_at(seen)
        assert spot is not None
        known = ex.index.prints_between(market.close_ts - 60, min(seen, market.close_ts))
        fair = settlement_probability(
            spot=float(spot),
            strike=float(market.floor_strike),
            now=seen,
            close=market.close_ts,
            known_window_prints=[float(v) for v in known],
            sigma_per_second=ex.index.sigma_per_second,
        )
        top = ex.top_of_book(market)
        if top.yes_ask < 1 and fair - float(top.yes_ask) > 0.03:
            price, side = top.yes_ask, "yes"
        elif top.yes_bid > 0 and float(top.yes_bid) - fair > 0.03:
            price, side = top.yes_bid, "no"
        else:
            continue
        ex.place_order(
            me,
            OrderRequest(
                market.ticker, side, "buy", Decimal(2), price, time_in_force="immediate_or_cancel"
            ),
        )
    ex.advance(int(START) + 900 * windows + 10)
    settled = [
        s for s in ex.account(me).positions.values() if ex.markets[s.ticker].status == "finalized"
    ]
    return sum((s.realized_pnl - s.fees_paid for s in settled), Decimal(0)), len(ex.fills(me))


def test_a_faster_model_finds_edge_and_a_slower_one_does_not() -> None:
    # The soft desk prices from the index as it was 5 s ago.
    fast, fast_fills = _pick_off_pnl(seed=1, model_lag=0)
    slow, slow_fills = _pick_off_pnl(seed=1, model_lag=10)
    assert fast_fills > 100 and slow_fills > 100
    assert fast > 10
    assert slow < 0


def test_sharp_makers_read_the_index_ahead_without_changing_it() -> None:
    """The sharp desk prices from prints not yet published; publishing them later changes nothing."""
    plain = Exchange(ExchangeConfig(seed=4, calibration=SOFT_CALIBRATION), start=START)
    sharp = Exchange(ExchangeConfig(seed=4), start=START)
    t = int(START) + 300
    for ex in (plain, sharp):
        ex.advance(START + 300)
    market = sharp.current_market()
    assert market is not None and market.floor_strike is not None
    cal = MarketCalibration()
    ahead = cal.lead_seconds(market.close_ts - t, sharp.config.window_seconds)
    assert ahead > 0 and sharp.index.last_ts == t
    seen = sharp.index.peek(t + ahead)
    fair = settlement_probability(
        spot=float(seen),
        strike=float(market.floor_strike),
        now=t + ahead,
        close=market.close_ts,
        known_window_prints=[],
        sigma_per_second=sharp.index.sigma_per_second,
    )
    assert sharp.makers.fair_value(market, t) == shade_longshot(fair, cal.longshot_shading)
    assert sharp.index.last_ts == t  # nothing was published early
    sharp.advance(START + 300 + ahead)
    plain.advance(START + 300 + ahead)
    assert sharp.index.value_at(t + ahead) == seen == plain.index.value_at(t + ahead)


def test_the_look_ahead_scales_with_the_window_up_to_its_cap() -> None:
    cal = MarketCalibration()
    assert cal.lead_seconds(300, 900) == 78  # the schedule is stated for 900-second windows
    assert cal.lead_seconds(100, 300) == 26  # the same moment of a 300-second window, sped up
    assert cal.lead_seconds(28_800, 86_400) == MAX_LEAD_SECONDS  # a day-long window: capped
    ex = Exchange(ExchangeConfig(seed=4, window_seconds=86_400), start=START)
    ex.advance(START + 60)  # the desk quotes without reading past what the index may draw
    assert ex.current_market() is not None
