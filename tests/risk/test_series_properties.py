"""Property: random bursts of signals across four series and two windows, interleaved with
fills, order ends, settlements and time, never take any global limit, any per-series
limit or the same-direction cap per window past its value."""

from __future__ import annotations

from decimal import Decimal as D
from itertools import product
from typing import Any

from hypothesis import HealthCheck, Phase, event, given, settings
from hypothesis import strategies as st

from kalshi.fees import taker_fee
from kalshi.tickers import series_of
from messages.trading import Settlement
from messages.vocabulary import Side
from risk import RiskEngine, RiskLimits
from tests.risk.risk_builders import NOW, fill, market, signal, update

SERIES = ("KXSOL15M", "KXBTC15M", "KXETH15M", "KXXRP15M")
WINDOWS = ("26MAY300015-15", "26MAY300030-30")
TICKERS = tuple(f"{s}-{w}" for s, w in product(SERIES, WINDOWS))
LIMITS = RiskLimits(
    max_position_size=D(30),
    max_daily_loss=D(200),
    circuit_breaker_pct=D("0.50"),
    max_concurrent_positions=5,
    min_edge=D("0.03"),
    max_orders_per_minute=20,
    max_total_exposure=D(70),
    max_correlated_exposure=D(35),
    series_max_position_size={"KXSOL15M": D(8), "KXXRP15M": D(12)},
    series_max_exposure={"KXBTC15M": D(40), "KXSOL15M": D(12)},
)
PRICES = ("0.05", "0.20", "0.45", "0.50", "0.73", "0.91")

signals = st.tuples(
    st.sampled_from(TICKERS),
    st.sampled_from(("yes", "no")),
    st.sampled_from(("buy", "buy", "buy", "sell")),
    st.integers(1, 80),
    st.sampled_from(PRICES),
    st.sampled_from(("kelly_volatility", "mean_reversion")),
)
rounds = st.tuples(
    st.lists(signals, min_size=1, max_size=10),  # a burst at one instant, across series
    st.lists(st.floats(0.0, 1.0), max_size=6),  # fills of resting orders (fraction each)
    st.sampled_from((None, None, "canceled", "executed")),  # the oldest order ends
    st.one_of(st.none(), st.none(), st.tuples(st.sampled_from(TICKERS), st.booleans())),
    st.floats(0.0, 10.0),  # time passes
)


def check_limits(eng: RiskEngine) -> None:
    """Every global, per-series and per-window limit holds on the book as it stands."""
    book, limits = eng.book, eng.limits
    for ticker in TICKERS:
        assert book.market_exposure(ticker) <= limits.position_limit(series_of(ticker)), ticker
        for side in ("yes", "no"):
            assert book.reserved_sells(ticker, side) <= book.held(ticker, side)
            assert limits.max_correlated_exposure is not None
            assert eng.correlated_exposure(ticker, side) <= limits.max_correlated_exposure
    for series, cap in limits.series_max_exposure.items():
        assert book.series_exposure(series) <= cap, series
    assert limits.max_total_exposure is not None
    assert book.total_exposure() <= limits.max_total_exposure
    assert len(book.open_markets()) <= limits.max_concurrent_positions
    assert book.available_cash() >= 0


def _fill_resting(eng: RiskEngine, fractions: list[float], now: float) -> None:
    for fraction, order_id in zip(fractions, sorted(eng.book.reservations), strict=False):
        res = eng.book.reservations.get(order_id)
        if res is None:  # trimmed by an earlier fill
            continue
        count = max(1, round(fraction * res.count))
        fee = taker_fee(res.price, D(count))
        eng.on_fill(
            fill(
                order_id,
                count,
                str(res.price),
                ticker=res.ticker,
                side=res.side,
                action=res.action,
                fee=str(fee),
                ts=now,
            ),
            now,
        )
        check_limits(eng)


@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    phases=(Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink),
    suppress_health_check=[HealthCheck.too_slow],
)
@given(st.lists(rounds, min_size=1, max_size=15))
def test_series_and_window_limits_hold_under_random_bursts(plan: list[tuple[Any, ...]]) -> None:
    eng = RiskEngine(LIMITS, D(200))
    now = NOW
    for burst, fractions, ending, settle, wait in plan:
        for ticker, drawn_side, action, quantity, price, strategy in burst:
            held = eng.book.positions.get(ticker)
            side = held.side if action == "sell" and held is not None else drawn_side
            sig = signal(
                ticker,
                direction=side,
                quantity=quantity,
                price=price,
                action=action,
                strategy=strategy,
                ts=now,
            )
            decision = eng.evaluate(sig, now, market(ticker, now))
            event(f"{action} {decision.reason}")
            assert 0 <= decision.quantity <= quantity
            assert decision.approved == (decision.quantity > 0)
            check_limits(eng)
        _fill_resting(eng, fractions, now)
        keys = sorted(eng.book.reservations)
        if ending is not None and keys:
            res = eng.book.reservations[keys[0]]
            filled = res.booked + (1 if ending == "executed" else 0)
            eng.on_order_update(update(keys[0], ending, filled=filled, ticker=res.ticker))
        if settle is not None:
            ticker, yes_wins = settle
            yes, no = eng.book.held(ticker, "yes"), eng.book.held(ticker, "no")
            result: Side = "yes" if yes_wins else "no"
            payout = D(yes if yes_wins else no)
            eng.on_settlement(Settlement(ticker, result, yes, no, payout, now), now)
        now += wait
        check_limits(eng)
