"""kelly_volatility: what it signals, with which numbers, and when it stays quiet."""

from __future__ import annotations

from decimal import Decimal as D
from typing import cast

import orjson
import pytest
from loguru import logger

from execution.updates import order_update
from kalshi.fees import taker_fee_per_contract
from kalshi.units import PriceLevels
from messages.trading import RiskDecision, Settlement, Signal
from messages.vocabulary import OrderStatus as S
from strategies import create_strategy
from strategies.kelly_volatility import KellyVolatility
from strategies.pricing import digital_probability
from strategies.sizing import plan_buy
from tests.execution.builders import intent
from tests.strategies.strategy_builders import CLOSE, OPEN, TICKER, book, fill, market, quote, spot

T = OPEN + 300.0  # ten minutes left
SIGMA = 0.5


def make(**params: object) -> KellyVolatility:
    defaults: dict[str, object] = {"initial_sigma": SIGMA, "sigma_floor": 0.0, "bankroll": 100}
    defaults.update(params)
    strategy = create_strategy("kelly_volatility", **defaults)
    assert isinstance(strategy, KellyVolatility)
    strategy.on_market(market())
    return strategy


def signal_once(
    strategy: KellyVolatility, bid: str, ask: str, price: str = "75.10"
) -> list[Signal]:
    assert strategy.on_spot(spot(T, price)) == []  # no book yet
    return strategy.on_book(quote(T + 0.5, bid, ask))


def test_buys_yes_with_every_contract_field() -> None:
    strategy = make()
    signals = signal_once(strategy, "0.60", "0.62")
    assert len(signals) == 1
    s = signals[0]
    sigma = strategy.vol.sigma
    assert sigma is not None and sigma == pytest.approx(SIGMA, rel=1e-3)
    model = digital_probability(75.10, 75.0, sigma, CLOSE - (T + 0.5))
    assert s.strategy_name == "kelly_volatility" and s.ticker == TICKER
    assert (s.direction, s.action) == ("yes", "buy")
    assert s.model_prob == D(f"{model.prob:.6f}")
    assert s.market_price == D("0.62")
    assert s.fee == taker_fee_per_contract(D("0.62"))
    assert s.edge == s.model_prob - s.market_price - s.fee  # the contract's own arithmetic
    assert s.edge >= D("0.03")
    plan = plan_buy(
        [(D("0.62"), D(20))],
        s.model_prob,
        bankroll=D(100),
        kelly_multiplier=D("0.25"),
        min_edge=D("0.03"),
        max_contracts=100,
    )
    assert plan is not None and s.quantity == plan.count > 0
    assert s.kelly_fraction == pytest.approx(float(plan.kelly_fraction))
    assert s.timestamp == T + 0.5
    assert s.spot == D("75.10") and s.strike == D("75")
    assert s.sigma == sigma
    assert s.seconds_left == pytest.approx(599.5)
    assert s.effective_seconds == pytest.approx(model.effective_seconds)
    assert s.effective_seconds == pytest.approx(599.5 - 60 + 20.5028, abs=1e-3)
    assert PriceLevels().is_valid(s.market_price)
    assert all(
        getattr(s, f) is not None for f in cast("tuple[str, ...]", s.__slots__) if f != "zscore"
    )


def test_buys_no_when_no_is_cheap() -> None:
    strategy = make()
    signals = signal_once(strategy, "0.85", "0.87")  # NO ask 0.15; model NO ≈ 0.26
    assert [(s.direction, s.market_price) for s in signals] == [("no", D("0.15"))]
    s = signals[0]
    assert s.edge == (1 - s.model_prob) - D("0.15") - taker_fee_per_contract(D("0.15"))
    assert s.model_prob > D("0.5")  # model_prob stays P(YES) whatever the direction


def test_an_edge_within_float_error_of_the_minimum_is_decided_exactly() -> None:
    # Evaluations are screened in floats; an edge this close to min_edge must still be
    # decided by the exact Decimal arithmetic, either way.
    sigma = make().vol.sigma
    assert sigma is not None
    model = digital_probability(75.10, 75.0, sigma, CLOSE - (T + 0.5))
    edge = D(f"{model.prob:.6f}") - D("0.62") - taker_fee_per_contract(D("0.62"))
    assert D("0.03") < edge < D("0.2")
    [at] = signal_once(make(min_edge=edge), "0.60", "0.62")
    assert (at.direction, at.market_price, at.edge) == ("yes", D("0.62"), edge)
    above = make(min_edge=edge + D("0.0000001"))
    assert signal_once(above, "0.60", "0.62") == []
    assert above.stats.skips["edge_below_minimum"] == 2


def test_walks_the_depth_and_stays_on_tick() -> None:
    strategy = make(bankroll=1000)
    b = book(T + 0.5, [("0.60", 5)], [("0.62", 3), ("0.63", 4), ("0.64", 500), ("0.70", 50)])
    strategy.on_spot(spot(T, "75.10"))
    [s] = strategy.on_book(b)
    assert s.market_price == D("0.64")  # 0.70 has no edge left
    assert 7 < s.quantity < 507  # into the third level, stopped there by Kelly
    assert s.fee is not None
    assert s.edge == s.model_prob - s.market_price - s.fee >= D("0.03")


def test_quiet_when_the_book_is_fair() -> None:
    strategy = make()
    assert signal_once(strategy, "0.72", "0.74") == []
    assert strategy.stats.skips["edge_below_minimum"] == 2


def test_no_signal_on_stale_data() -> None:
    strategy = make()
    strategy.on_spot(spot(T, "75.10"))
    assert strategy.on_book(quote(T + 0.5, "0.60", "0.62", stale=True)) == []
    # a book 11 s old when the next print arrives
    strategy = make()
    strategy.on_book(quote(T - 11, "0.60", "0.62"))
    assert strategy.on_spot(spot(T, "75.10")) == []
    assert strategy.stats.skips["stale_book"] >= 1
    # a flagged-stale index, and one that stopped 6 s ago
    strategy = make()
    strategy.on_spot(spot(T, "75.10"))
    strategy.on_spot(spot(T + 1, "75.10", stale=True))
    assert strategy.on_book(quote(T + 1.5, "0.60", "0.62")) == []
    strategy = make()
    strategy.on_spot(spot(T, "75.10"))
    assert strategy.on_book(quote(T + 6, "0.60", "0.62")) == []
    assert strategy.stats.skips["stale_spot"] == 1
    assert strategy.on_spot(spot(T + 7, "75.10"))  # fresh again: it trades


@pytest.mark.parametrize(("left", "trades"), [(31.0, True), (30.0, False), (10.0, False)])
def test_no_entries_in_the_last_seconds(left: float, trades: bool) -> None:
    strategy = make()
    now = CLOSE - left
    for k in range(60, 0, -1):  # a minute of prints, well above the strike
        strategy.on_spot(spot(now - k, "75.20"))
    signals = strategy.on_book(quote(now, "0.60", "0.62"))
    assert bool(signals) is trades
    if not trades:
        assert strategy.stats.skips["no_entry_window"] == 1


def test_untradeable_markets_are_skipped_and_logged_once() -> None:
    lines: list[str] = []
    sink = logger.add(lines.append, level="INFO", format="{message}")
    try:
        strategy = make()
        strategy.on_market(market(strike=None))
        strategy.on_market(market(strike=None))
        assert signal_once(strategy, "0.30", "0.32") == []
        strategy.on_market(market(fee_multiplier=None))
        assert strategy.on_book(quote(T + 1, "0.30", "0.32")) == []
    finally:
        logger.remove(sink)
    assert sum("not tradeable" in line for line in lines) == 1
    strategy.on_market(market())
    assert strategy.on_book(quote(T + 1.5, "0.30", "0.32"))


def test_nothing_before_open_or_during_warm_up() -> None:
    strategy = make()
    early = OPEN - 10
    strategy.on_spot(spot(early, "75.10"))
    assert strategy.on_book(quote(early + 0.5, "0.10", "0.12")) == []
    assert strategy.stats.skips["not_open"] == 1

    cold = make(initial_sigma=None, vol_warmup=5)
    for k in range(5):
        cold.on_spot(spot(T + k, "75.10" if k % 2 else "75.12"))
    assert cold.on_book(quote(T + 4.5, "0.30", "0.32")) == []
    assert cold.stats.skips["vol_warmup"] >= 1
    assert cold.on_spot(spot(T + 5, "75.11"))  # the fifth return: σ is ready


def test_does_not_resignal_the_same_opportunity() -> None:
    strategy = make(cooldown_seconds=5, pending_timeout_seconds=60, max_contracts=5)
    [first] = signal_once(strategy, "0.60", "0.62")
    # every tick in the cooldown: nothing
    for k in range(1, 5):
        assert strategy.on_book(quote(T + 0.5 + k, "0.60", "0.62", seq=k + 1)) == []
    assert strategy.stats.skips["cooldown"] == 4
    # after the cooldown the unfilled signal still counts: already at target
    strategy.on_spot(spot(T + 6, "75.10"))
    assert strategy.on_book(quote(T + 6.5, "0.60", "0.62")) == []
    assert strategy.stats.skips["at_target"] >= 1
    # risk rejected it: the opportunity is open again
    strategy.on_decision(
        RiskDecision(first.signal_id, first.strategy_name, TICKER, False, "order_rate", 0, T + 7)
    )
    [again] = strategy.on_book(quote(T + 7, "0.60", "0.62"))
    assert again.quantity == first.quantity
    # it fills: the position is at target, no more buying
    strategy.on_fill(fill("yes", again.quantity, "0.62", ts=T + 8))
    strategy.on_spot(spot(T + 20, "75.10"))
    assert strategy.on_book(quote(T + 20.5, "0.60", "0.62")) == []
    # a partial approval lets the rest be bought later
    metrics = strategy.metrics()
    assert metrics["positions"][0]["contracts"] == again.quantity
    assert metrics["pending"] == 0


def test_pending_expires_and_partial_fills_count() -> None:
    strategy = make(cooldown_seconds=1, pending_timeout_seconds=10)
    assert signal_once(strategy, "0.60", "0.62")
    strategy.on_fill(fill("yes", 2, "0.62", ts=T + 1))
    strategy.on_spot(spot(T + 12, "75.10"))
    [topup] = strategy.on_book(quote(T + 12.5, "0.60", "0.62"))  # pending expired after 10 s
    plan = plan_buy(
        [(D("0.62"), D(20))],
        topup.model_prob,
        bankroll=D(100),
        kelly_multiplier=D("0.25"),
        min_edge=D("0.03"),
        max_contracts=100,
        held=2,
    )
    assert plan is not None and topup.quantity == plan.count
    assert plan.target - 2 == topup.quantity  # the two filled count, the expired rest not


def test_an_order_that_ends_unfilled_frees_its_room_at_once() -> None:
    """An IOC that found the ask gone ends canceled with nothing remaining: what it never
    filled (count − filled) is no longer on its way, so the next book may buy again — not
    only after the pending timeout."""
    strategy = make(cooldown_seconds=5, pending_timeout_seconds=600, max_contracts=5)
    [first] = signal_once(strategy, "0.60", "0.62")
    approved = RiskDecision(
        first.signal_id, first.strategy_name, TICKER, True, "approved", first.quantity, T + 1
    )
    strategy.on_decision(approved)
    strategy.on_spot(spot(T + 6, "75.10"))
    assert strategy.on_book(quote(T + 6.5, "0.60", "0.62")) == []  # on its way: at target
    sent = intent("c1", ticker=TICKER, count=first.quantity, price="0.62")
    strategy.on_order_update(order_update(sent, S.CANCELED, T + 6.8, filled=0))
    [again] = strategy.on_book(quote(T + 7, "0.60", "0.62"))
    assert again.quantity == first.quantity
    assert strategy.metrics()["pending"] == first.quantity  # only the new one is on its way


def test_does_not_buy_against_its_own_position() -> None:
    strategy = make()
    strategy.on_fill(fill("no", 5, "0.30"))
    assert signal_once(strategy, "0.60", "0.62") == []
    assert strategy.stats.skips["holding_opposite"] == 1


def test_conditions_on_the_final_minute_prints() -> None:
    strategy = make(no_entry_seconds=5)
    now = CLOSE - 40
    prints = []
    for k in range(80, 0, -1):  # 40 s before the window, then 20 s inside it, high above
        strategy.on_spot(spot(now - k, "75.40"))
        if now - k > CLOSE - 60:
            prints.append(75.40)
    strategy.on_spot(spot(now, "74.98"))  # the spot just dipped below the strike
    prints.append(74.98)
    [s] = strategy.on_book(quote(now + 0.2, "0.50", "0.52"))
    sigma = strategy.vol.sigma
    assert sigma is not None
    expected = digital_probability(74.98, 75.0, sigma, 39.8, prints)
    assert len(prints) == 20 and expected.known_prints == 20
    assert s.model_prob == D(f"{expected.prob:.6f}")
    assert s.model_prob > D("0.95")  # 19 prints at 75.4 already carry the average
    # without them the dip below the strike would price YES under one half
    assert digital_probability(74.98, 75.0, sigma, 39.8).prob < 0.5
    assert s.effective_seconds == pytest.approx(expected.effective_seconds)
    assert s.direction == "yes"


def test_settlement_clears_the_market() -> None:
    strategy = make()
    [s] = signal_once(strategy, "0.60", "0.62")
    strategy.on_fill(fill("yes", s.quantity, "0.62", fee="0.10"))
    strategy.on_settlement(Settlement(TICKER, "yes", s.quantity, 0, D(s.quantity), CLOSE + 5))
    metrics = strategy.metrics()
    assert metrics["positions"] == [] and metrics["markets"] == {}
    assert metrics["realized_pnl"] == pytest.approx(s.quantity * 0.38 - 0.10)
    orjson.dumps(strategy.describe())


def test_long_runs_of_books_keep_their_answers() -> None:
    """Thousands of evaluations in a row (the cached σ, model price and in-flight sums stay
    right); how fast they are is measured by ``bench/backtest_speed.py``, not here."""
    strategy = make(cooldown_seconds=0, pending_timeout_seconds=0.001)
    strategy.on_spot(spot(T, "75.10"))
    quiet = [quote(T + i * 1e-4, "0.72", "0.74", seq=i) for i in range(2_000)]
    active = [
        book(T + i * 2e-3, [("0.60", 5)], [("0.62", 3), ("0.63", 4)], seq=i) for i in range(2_000)
    ]
    assert sum(len(strategy.on_book(b)) for b in quiet) == 0  # no edge at 0.74
    emitted = sum(len(strategy.on_book(b)) for b in active)
    assert emitted > 1_000  # each expired in-flight buy frees the next signal


def test_a_restarted_instance_keeps_its_cap_and_its_side() -> None:
    """What the audit saw after restarts: 121 contracts against max_contracts 100, and NO
    bought while YES was held. A new instance restored with its fills and open orders is
    held to both, as the instance that made them was."""
    first = make(max_contracts=10)
    [signal] = signal_once(first, "0.60", "0.62")  # YES is cheap: it wants YES
    assert signal.direction == "yes"
    held = [fill("yes", 6, "0.62", ts=T)]
    on_its_way = order_update(
        intent("c-4", ticker=TICKER, count=4, price="0.62"), S.RESTING, T, order_id="o"
    )

    restarted = make(max_contracts=10)
    restarted.restore(held, [on_its_way], T)
    assert signal_once(restarted, "0.60", "0.62") == []  # 6 held + 4 on their way = the cap
    assert restarted.stats.skips["at_target"] >= 1
    restarted.on_spot(spot(T + 10, "75.10"))
    assert restarted.on_book(quote(T + 10.5, "0.85", "0.87")) == []  # NO cheap: YES is held
    assert restarted.stats.skips["holding_opposite"] >= 1
    assert restarted.metrics()["pending"] == 4
