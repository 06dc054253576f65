"""The RiskActor with several series: random signal bursts across four series and two
windows, decided one at a time by one actor and answered by a fake exchange, never take a
global limit, a per-series limit or the same-direction cap per window past its value.

The exposures are recomputed from what the fake exchange did (its fills and resting
orders), not read from the engine."""

from __future__ import annotations

from decimal import Decimal as D
from itertools import product
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from kalshi.tickers import parse_market_ticker, series_of
from risk.exposure import order_cost
from risk.limits import RiskLimits
from runtime.quiescence import quiesce
from tests.actors.test_pipeline_limits import (
    PRICES,
    FillResting,
    Rig,
    _quote,
    burst_settings,
    check_invariants,
    live_markets,
    risk_rig,
    shadow_positions,
)

SERIES = ("KXSOL15M", "KXBTC15M", "KXETH15M", "KXXRP15M")
WINDOWS = ("26MAY281645-45", "26MAY281700-00")
TICKERS = tuple(f"{s}-{w}" for s, w in product(SERIES, WINDOWS))
LIMITS = RiskLimits(
    max_position_size=D(30),
    max_daily_loss=D(60),
    circuit_breaker_pct=D("0.50"),
    max_concurrent_positions=5,
    min_edge=D("0.03"),
    max_orders_per_minute=30,
    max_total_exposure=D(70),
    max_correlated_exposure=D(35),
    series_max_position_size={"KXSOL15M": D(8)},
    series_max_exposure={"KXBTC15M": D(20), "KXSOL15M": D(12)},
)

signal_items = st.tuples(
    st.sampled_from(("kelly_volatility", "mean_reversion")),
    st.sampled_from(TICKERS),
    st.sampled_from(("yes", "no")),
    st.sampled_from(("buy", "buy", "buy", "sell")),
    st.integers(1, 80),
    st.sampled_from(PRICES),
    st.sampled_from(("fill", "fill", "partial", "rest", "reject")),
)
steps = st.tuples(
    st.lists(signal_items, min_size=1, max_size=10),  # a burst, told back to back
    st.floats(0.0, 10.0),  # then time passes
    st.booleans(),  # and resting orders trade
)


def check_series_limits(rig: Rig) -> None:
    """Per market, per series, in total and per (window, direction), from the exchange's side."""
    with rig.desk.lock:
        fills = list(rig.desk.fills)
    resting = [(o.intent, o.remaining) for o in rig.desk.resting()]  # takes the lock itself
    exposure: dict[tuple[str, str], D] = {}  # (ticker, side) → cost held + resting buys
    for ticker, held in shadow_positions(fills).items():
        exposure[ticker, held.side] = held.cost
    for intent, remaining in resting:
        if intent.action == "buy":
            key = (intent.ticker, intent.side)
            exposure[key] = exposure.get(key, D(0)) + order_cost(intent.price, remaining, D(1))

    def total(keep: Any) -> D:
        return sum((v for (t, side), v in exposure.items() if keep(t, side)), D(0))

    for ticker in TICKERS:
        market = total(lambda t, _s, ticker=ticker: t == ticker)
        assert market <= LIMITS.position_limit(series_of(ticker)), (ticker, market)
    for series, cap in LIMITS.series_max_exposure.items():
        assert total(lambda t, _s, series=series: series_of(t) == series) <= cap, series
    assert LIMITS.max_total_exposure is not None and LIMITS.max_correlated_exposure is not None
    assert total(lambda _t, _s: True) <= LIMITS.max_total_exposure
    for window, side in product(WINDOWS, ("yes", "no")):
        close = parse_market_ticker(f"KXSOL15M-{window}").close_time

        def same(t: str, s: str, close: Any = close, side: str = side) -> bool:
            return s == side and parse_market_ticker(t).close_time == close

        assert total(same) <= LIMITS.max_correlated_exposure, (window, side)


@burst_settings(40)
@given(st.lists(steps, min_size=1, max_size=8))
def test_random_bursts_across_series_never_break_a_global_series_or_window_limit(
    plan: list[tuple[Any, ...]],
) -> None:
    with risk_rig(LIMITS, bankroll="200") as rig:
        live_markets(rig, TICKERS)
        signals = []
        for burst, seconds, trade_resting in plan:
            for strategy, ticker, direction, action, quantity, price, behaviour in burst:
                signals.append(
                    rig.signal(
                        ticker,
                        quantity=quantity,
                        price=price,
                        direction=direction,
                        action=action,
                        strategy=strategy,
                        behaviour=behaviour,
                    )
                )
            quiesce(rig.system)
            check_invariants(rig, signals)
            check_series_limits(rig)
            if trade_resting:
                rig.system.tell("order", FillResting())
            rig.advance(seconds)
            for ticker in TICKERS:  # the market-data actors keep books and the index fresh
                rig.book(ticker, *_quote(50))
            rig.spot()
            quiesce(rig.system)
            check_invariants(rig, signals)
            check_series_limits(rig)
