"""The RiskEngine: every rule and rejection reason, reservations, exits, breaker, restore."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal as D

import orjson
import pytest

from config.settings import load_settings
from messages.market_data import BookUpdate, MarketInfo, SpotTick
from messages.trading import Settlement
from risk import MarketState, Reason, RiskEngine, RiskLimits, RiskState, TradingState
from risk.exposure import order_cost
from tests.risk.risk_builders import (
    BTC1,
    LIMITS,
    NOW,
    T1,
    T2,
    T3,
    engine,
    fill,
    market,
    signal,
    update,
)


def hold(
    eng: RiskEngine, contracts: int, price: str = "0.50", ticker: str = T1, side: str = "yes"
) -> None:
    """Buy and fill ``contracts`` through the normal path."""
    sig = signal(ticker, direction=side, quantity=contracts, price=price)
    decision = eng.evaluate(sig, NOW, market(ticker))
    assert decision.approved and decision.quantity == contracts, decision
    eng.on_fill(fill(sig.signal_id, contracts, price, ticker=ticker, side=side))


def test_approves_and_reserves() -> None:
    eng = engine()
    sig = signal(quantity=10)
    decision = eng.evaluate(sig, NOW, market())
    assert (decision.approved, decision.reason, decision.quantity) == (True, "approved", 10)
    assert decision.signal_id == sig.signal_id and decision.strategy_name == "kelly_volatility"
    assert eng.book.market_exposure(T1) == D("5.175")  # 10 × 0.50 + fee 0.1750
    assert eng.book.reservations[sig.signal_id].count == 10
    eng.evaluate(signal(T2), NOW, market(T2), order_id="client-42")
    assert "client-42" in eng.book.reservations


def test_entries_without_an_index_print_only_where_no_index_is_needed() -> None:
    """Off only for a backtest on a market's quotes alone (``--market kalshi:DIR``)."""
    no_index = market(spot_ts=None)
    assert engine().evaluate(signal(), NOW, no_index).reason == Reason.STALE_SPOT
    decision = engine(entries_need_index=False).evaluate(signal(), NOW, no_index)
    assert decision.approved, decision
    assert LIMITS.entries_need_index and RiskLimits().entries_need_index


Scenario = Callable[[], tuple[RiskEngine, object, MarketState | None]]


def _order_rate() -> tuple[RiskEngine, object, MarketState | None]:
    eng = engine()
    for _ in range(5):
        assert eng.evaluate(signal(quantity=1), NOW, market()).approved
    return eng, signal(quantity=1), market()


def _daily_loss() -> tuple[RiskEngine, object, MarketState | None]:
    eng = engine()
    eng.restore(RiskState(cash=D(1000), day_start_equity=D(1050)))  # down $50 today
    return eng, signal(), market()


def _concurrent() -> tuple[RiskEngine, object, MarketState | None]:
    eng = engine()
    assert eng.evaluate(signal(T1, quantity=1), NOW, market(T1)).approved
    assert eng.evaluate(signal(T2, quantity=1), NOW, market(T2)).approved
    return eng, signal(T3, quantity=1), market(T3)


def _position_limit() -> tuple[RiskEngine, object, MarketState | None]:
    eng = engine(max_daily_loss=D(500))
    assert eng.evaluate(signal(quantity=193), NOW, market()).quantity == 193  # $99.88
    return eng, signal(quantity=1), market()


def _after_19_of_t1(**limits: object) -> RiskEngine:
    """An engine with ``limits`` holding a $9.8325 reservation (19 YES at $0.50) in T1."""
    eng = engine(1000, **limits)
    assert eng.evaluate(signal(T1, quantity=19), NOW, market(T1)).quantity == 19
    return eng


def _series_exposure() -> tuple[RiskEngine, object, MarketState | None]:
    eng = _after_19_of_t1(series_max_exposure={"KXSOL15M": D(10)})
    return eng, signal(T2, quantity=1), market(T2)  # $0.5175 more than SOL's $10


def _total_exposure() -> tuple[RiskEngine, object, MarketState | None]:
    eng = _after_19_of_t1(max_total_exposure=D(10))
    return eng, signal(BTC1, quantity=1), market(BTC1)


def _correlated_exposure() -> tuple[RiskEngine, object, MarketState | None]:
    eng = _after_19_of_t1(max_correlated_exposure=D(10))
    return eng, signal(BTC1, quantity=1), market(BTC1)  # YES again, same window


def _stopped() -> tuple[RiskEngine, object, MarketState | None]:
    eng = engine()
    eng.stop()
    return eng, signal(), market()


def _halted() -> tuple[RiskEngine, object, MarketState | None]:
    eng = engine()
    eng.halt("operator")
    return eng, signal(), market()


def _duplicate() -> tuple[RiskEngine, object, MarketState | None]:
    eng = engine()
    sig = signal()
    assert eng.evaluate(sig, NOW, market()).approved
    return eng, sig, market()


SCENARIOS: dict[str, list[Scenario]] = {
    Reason.DUPLICATE_ORDER: [_duplicate],
    Reason.INVALID_SIGNAL: [
        lambda: (engine(), signal(quantity=0), market()),
        lambda: (engine(), signal(direction="maybe"), market()),
        lambda: (engine(), signal(action="short"), market()),
        lambda: (engine(), signal(price="1.00"), market()),
        lambda: (engine(), signal(price="0"), market()),
    ],
    Reason.STALE_SIGNAL: [lambda: (engine(), signal(ts=NOW - 6), market())],
    Reason.NO_MARKET_DATA: [
        lambda: (engine(), signal(), None),
        lambda: (engine(), signal(T1), market(T2)),
    ],
    Reason.EXCHANGE_INACTIVE: [
        lambda: (engine(), signal(), market(exchange_active=False)),
        lambda: (engine(), signal(), market(trading_active=False)),
    ],
    Reason.MARKET_CLOSED: [
        lambda: (engine(), signal(), market(status="closed")),
        lambda: (engine(), signal(), market(status="initialized")),
        lambda: (engine(), signal(), market(close_time=NOW)),
    ],
    Reason.STALE_BOOK: [
        lambda: (engine(), signal(), market(book_stale=True)),
        lambda: (engine(), signal(), market(book_ts=None)),
        lambda: (engine(), signal(), market(book_ts=NOW - 11)),
    ],
    Reason.NO_POSITION: [lambda: (engine(), signal(action="sell"), market())],
    Reason.TRADING_STOPPED: [_stopped],
    Reason.HALTED: [_halted],
    Reason.ORDER_RATE: [_order_rate],
    Reason.STALE_SPOT: [
        lambda: (engine(), signal(), market(spot_stale=True)),
        lambda: (engine(), signal(), market(spot_ts=None)),
        lambda: (engine(), signal(), market(spot_ts=NOW - 6)),
    ],
    Reason.EDGE_BELOW_MINIMUM: [lambda: (engine(), signal(edge="0.0299"), market())],
    Reason.DAILY_LOSS_LIMIT: [_daily_loss],
    Reason.CONCURRENT_POSITIONS: [_concurrent],
    Reason.POSITION_LIMIT: [_position_limit],
    Reason.SERIES_EXPOSURE_LIMIT: [_series_exposure],
    Reason.TOTAL_EXPOSURE_LIMIT: [_total_exposure],
    Reason.CORRELATED_EXPOSURE: [_correlated_exposure],
    Reason.INSUFFICIENT_FUNDS: [lambda: (engine(bankroll="0.50"), signal(), market())],
}


@pytest.mark.parametrize(
    ("reason", "index"), [(r, i) for r, makers in SCENARIOS.items() for i in range(len(makers))]
)
def test_each_rejection_reason(reason: str, index: int) -> None:
    eng, sig, state = SCENARIOS[reason][index]()
    reserved_before = dict(eng.book.reservations)
    decision = eng.evaluate(sig, NOW, state)  # type: ignore[arg-type]
    assert (decision.approved, decision.reason, decision.quantity) == (False, reason, 0)
    assert eng.book.reservations == reserved_before  # a rejection reserves nothing
    assert eng.snapshot(NOW)["rejections"][reason] == 1


def test_every_reason_is_covered() -> None:
    reasons = {v for k, v in vars(Reason).items() if k.isupper()} - {Reason.APPROVED}
    assert reasons == set(SCENARIOS)


def test_edge_at_the_minimum_passes() -> None:
    assert engine().evaluate(signal(edge="0.03"), NOW, market()).approved


@pytest.mark.parametrize(
    ("overrides", "bankroll", "expected"),
    [
        # position limit $100 at 0.50: 193 × 0.5 + ceil(3.3775) = 99.88; 194 → 100.40
        ({"max_daily_loss": D(500)}, 1000, 193),
        # daily-loss budget $50 (the order's whole cost is its worst case): 96 → 49.68
        ({}, 1000, 96),
        # cash $20: 38 → 19.67; 39 → 20.19
        ({}, 20, 38),
    ],
)
def test_entries_are_cut_to_fit(overrides: dict[str, object], bankroll: int, expected: int) -> None:
    eng = engine(bankroll, **overrides)
    decision = eng.evaluate(signal(quantity=500), NOW, market())
    assert (decision.approved, decision.quantity) == (True, expected)
    cost = order_cost(D("0.50"), expected, D(1))
    assert eng.book.market_exposure(T1) == cost
    assert order_cost(D("0.50"), expected + 1, D(1)) > min(
        eng.limits.max_position_size, eng.limits.max_daily_loss, D(bankroll)
    )


def test_back_to_back_signals_never_exceed_the_position_limit() -> None:
    eng = engine(max_daily_loss=D(500))
    a = eng.evaluate(signal(quantity=150, strategy="kelly_volatility"), NOW, market())
    b = eng.evaluate(signal(quantity=150, strategy="mean_reversion"), NOW, market())
    c = eng.evaluate(signal(quantity=150, strategy="mean_reversion"), NOW, market())
    assert (a.quantity, b.quantity) == (150, 43)
    assert (c.approved, c.reason) == (False, "position_limit")
    assert eng.book.market_exposure(T1) <= D(100)


def test_fee_multiplier_counts_in_the_reservation() -> None:
    eng = engine()
    eng.evaluate(signal(quantity=10), NOW, market(fee_multiplier=D(2)))
    assert eng.book.market_exposure(T1) == D("5.35")  # fee ceil(0.35)


def test_cancel_releases_and_fills_convert() -> None:
    eng = engine()
    first = signal(quantity=10)
    eng.evaluate(first, NOW, market())
    eng.on_order_update(update(first.signal_id, "canceled", remaining=0))
    assert eng.book.reservations == {} and eng.book.market_exposure(T1) == 0

    second = signal(quantity=10)
    eng.evaluate(second, NOW, market())
    eng.on_order_update(update(second.signal_id, "resting", remaining=10))
    assert eng.book.reservations[second.signal_id].count == 10
    eng.on_fill(fill(second.signal_id, 4, "0.48", fee="0.07"))
    assert eng.book.held(T1, "yes") == 4
    assert eng.book.reservations[second.signal_id].count == 6
    # the exchange says it is done (all 10 filled) before the other fills arrive
    eng.on_order_update(update(second.signal_id, "executed", filled=10, remaining=0))
    assert eng.book.reservations[second.signal_id].count == 6  # still awaited
    eng.on_fill(fill(second.signal_id, 6, "0.50", fee="0.11"))
    assert eng.book.reservations == {}
    assert eng.book.held(T1, "yes") == 10
    assert eng.book.position_cost(T1) == D("4.92")
    assert eng.book.cash == D(1000) - D("4.92") - D("0.18")
    assert eng.book.fees == D("0.18")

    third = signal(quantity=10)
    eng.evaluate(third, NOW, market())
    eng.on_fill(fill(third.signal_id, 3, "0.50"))
    eng.on_order_update(update(third.signal_id, "canceled", filled=3, remaining=0))
    assert third.signal_id not in eng.book.reservations  # the unfilled 7 are released

    fourth = signal(quantity=10)
    eng.evaluate(fourth, NOW, market())
    assert eng.release(fourth.signal_id, 4) == 4
    assert eng.book.reservations[fourth.signal_id].count == 6
    assert eng.release(fourth.signal_id) == 6
    assert eng.release("unknown") == 0


def test_exits_reduce_and_skip_entry_rules() -> None:
    eng = engine()
    hold(eng, 10)
    eng.restore(eng.export_state())
    # make every entry rule fail: loss limit, concurrency, edge, stale spot
    state = eng.export_state()
    state.day_start_equity = state.day_start_equity + D(60)
    eng.restore(state)
    assert eng.evaluate(signal(T2, quantity=1), NOW, market(T2)).reason == "daily_loss_limit"
    sell = signal(action="sell", quantity=15, edge="-0.5")
    decision = eng.evaluate(sell, NOW, market(spot_ts=None))
    assert (decision.approved, decision.quantity) == (True, 10)  # capped at what is held
    again = eng.evaluate(signal(action="sell", quantity=1), NOW, market())
    assert (again.approved, again.reason) == (False, "no_position")  # all 10 already promised
    eng.on_fill(fill(sell.signal_id, 10, "0.55", action="sell"))
    assert eng.book.positions == {} and eng.book.reservations == {}
    assert eng.book.realized_pnl == D(10) * D("0.05")


def test_exits_when_halted_depend_on_the_setting() -> None:
    for allow, expected in ((True, "approved"), (False, "halted")):
        eng = engine(allow_exits_when_halted=allow)
        hold(eng, 10)
        eng.halt("test")
        assert eng.evaluate(signal(quantity=1), NOW, market()).reason == "halted"
        assert eng.evaluate(signal(action="sell", quantity=5), NOW, market()).reason == expected
    eng = engine()
    hold(eng, 10)
    eng.stop()
    assert (
        eng.evaluate(signal(action="sell", quantity=5), NOW, market()).reason == "trading_stopped"
    )


def test_circuit_breaker_halts_until_reset() -> None:
    eng = engine(200)
    hold(eng, 81)  # $40.50 at cost (no fee in this fill): cash 159.50
    assert eng.state == TradingState.RUNNING
    eng.update_mark(T1, None, D("0.02"), NOW + 1)  # 81 × 0.02 = 1.62: equity 161.12, −19.4 %
    assert not eng.circuit_breaker_triggered and eng.drain_alerts() == []
    eng.update_mark(T1, None, D("0.001"), NOW + 3)  # 0.081: equity 159.581, −20.2 %
    assert eng.circuit_breaker_triggered and eng.state == TradingState.HALTED
    alerts = eng.drain_alerts()
    assert [a.kind for a in alerts] == ["circuit_breaker"] and alerts[0].level == "critical"
    assert eng.drain_alerts() == []
    # stays halted: marks recovering, start and stop do not clear it
    eng.update_mark(T1, D("0.50"), D("0.52"), NOW + 4)
    assert eng.state == TradingState.HALTED
    assert eng.start() is False
    eng.stop()
    assert eng.state == TradingState.HALTED
    assert eng.evaluate(signal(T2, quantity=1), NOW, market(T2)).reason == "halted"
    # explicit reset resumes, measuring further drawdown from here
    eng.update_mark(T1, None, D("0.001"), NOW + 5)
    eng.reset_circuit_breaker(NOW + 6)
    assert not eng.circuit_breaker_triggered and eng.state == TradingState.RUNNING
    assert eng.snapshot()["drawdown"] == 0.0
    assert eng.daily_pnl == D("-40.419")  # the day's P&L is untouched by the reset
    assert eng.evaluate(signal(T2, quantity=1), NOW, market(T2)).approved


def test_circuit_breaker_trips_at_exactly_the_threshold() -> None:
    eng = engine(100, max_daily_loss=D(100))
    hold(eng, 40)  # $20 at cost: cash 80
    eng.update_mark(T1, None, D("0.0001"), NOW)  # 40 × 0.0001: equity 80.004, −19.996 %
    assert eng.state == TradingState.RUNNING
    eng.on_settlement(Settlement(T1, "no", 40, 0, D(0), NOW + 1))  # equity 80: exactly −20 %
    assert eng.state == TradingState.HALTED


def test_daily_loss_limit_is_reached_at_exactly_the_limit() -> None:
    eng = engine(100)
    hold(eng, 20)  # $10 at cost plus its fee
    loss_at_zero = eng.day_start_equity - eng.book.cash  # what the position loses if it expires
    eng.limits = replace(eng.limits, max_daily_loss=loss_at_zero)
    eng.update_mark(T1, None, D("0.0001"), NOW)  # 20 × 0.0001 above that loss
    assert eng.drain_alerts() == []
    eng.on_settlement(Settlement(T1, "no", 20, 0, D(0), NOW + 1))  # P&L exactly −max_daily_loss
    assert eng.daily_pnl == -loss_at_zero
    assert [a.kind for a in eng.drain_alerts()] == ["daily_loss_limit"]
    assert eng.state == TradingState.RUNNING


def test_reset_without_rebase_trips_again() -> None:
    eng = engine(200)
    hold(eng, 81)
    eng.update_mark(T1, None, D("0.001"), NOW)
    assert eng.state == TradingState.HALTED
    eng.reset_circuit_breaker(rebase=False)
    assert eng.state == TradingState.RUNNING
    eng.update_mark(T1, None, D("0.001"), NOW + 1)
    assert eng.state == TradingState.HALTED


def test_daily_loss_stops_entries_but_not_exits() -> None:
    eng = engine(1000, max_position_size=D(500), max_daily_loss=D(50))
    hold(eng, 80, price="0.60")  # $48
    hold(eng, 20, price="0.50", ticker=T2)
    eng.update_mark(T1, D("0.00"), D("0.02"), NOW)  # 80 × 0.01: −47.2
    assert eng.evaluate(signal(T2, quantity=1), NOW, market(T2)).approved  # −47.2 − 0.52 > −50
    t2_down = market(T2, yes_bid=D("0.30"), yes_ask=D("0.32"))  # 20 × 0.31 − 10 = −3.8 more
    assert eng.evaluate(signal(T2, quantity=1), NOW, t2_down).reason == "daily_loss_limit"
    assert eng.daily_pnl <= -50
    assert [a.kind for a in eng.drain_alerts()] == ["daily_loss_limit"]
    assert eng.evaluate(
        signal(T1, action="sell", quantity=80), NOW, market(T1, yes_bid=D(0), yes_ask=D("0.02"))
    ).approved
    assert eng.state == TradingState.RUNNING  # a loss limit is not a halt


def test_order_rate_window_slides() -> None:
    eng = engine()
    for k in range(5):
        assert eng.evaluate(signal(quantity=1, ts=NOW + k), NOW + k, market(now=NOW + k)).approved
    assert (
        eng.evaluate(signal(quantity=1, ts=NOW + 59), NOW + 59, market(now=NOW + 59)).reason
        == "order_rate"
    )
    assert eng.evaluate(signal(quantity=1, ts=NOW + 60), NOW + 60, market(now=NOW + 60)).approved
    assert eng.snapshot(NOW + 60)["orders_last_minute"] == 5


def test_settlement_pays_and_closes() -> None:
    eng = engine()
    hold(eng, 10, price="0.40")
    pending = signal(quantity=5)
    eng.evaluate(pending, NOW, market())
    pnl = eng.on_settlement(Settlement(T1, "yes", 10, 0, D(10), NOW + 600))
    assert pnl == D(6)
    assert eng.book.positions == {} and eng.book.reservations == {}
    assert eng.book.cash == D(1006)
    assert eng.daily_pnl == D(6)
    # a losing side pays nothing
    eng2 = engine()
    hold(eng2, 10, price="0.40", side="no")
    assert eng2.on_settlement(Settlement(T1, "yes", 0, 10, D(0), NOW + 600)) == D("-4")


def test_restore_round_trip_keeps_limits() -> None:
    eng = engine(max_daily_loss=D(500))
    hold(eng, 100, price="0.45")
    eng.update_mark(T1, D("0.40"), D("0.42"), NOW)
    resting = signal(T2, quantity=50)
    eng.evaluate(resting, NOW, market(T2))
    eng.halt("test")
    state = eng.export_state()

    fresh = RiskEngine(eng.limits, D(0))
    fresh.restore(state)
    assert fresh.snapshot(NOW) == {**eng.snapshot(NOW), "rejections": {}, "approved": 0}
    assert fresh.state == TradingState.HALTED
    fresh.reset_circuit_breaker()
    # the restored reservations still count: T2 has $25.44 reserved of its $100
    decision = fresh.evaluate(signal(T2, quantity=500), NOW + 1, market(T2, now=NOW + 1))
    assert decision.quantity == 143  # 143 × 0.5 + ceil(2.5025) = 74.01 ≤ 100 − 25.44
    assert fresh.book.market_exposure(T2) <= D(100)
    # restoring is a copy: changing the old engine does not move the new one
    eng.book.positions[T1].contracts = 1
    assert fresh.book.held(T1, "yes") == 100


def test_restore_from_exchange_data() -> None:
    from risk import Position, Reservation

    eng = engine()
    eng.restore(
        RiskState(
            cash=D(900),
            day_start_equity=D(960),
            positions=[Position(T1, "no", 20, D("9.00"))],
            reservations=[
                Reservation("c1", T2, "yes", "buy", 10, D("0.30"), D(1), "kelly_volatility", NOW)
            ],
            circuit_breaker_triggered=True,
        )
    )
    assert eng.state == TradingState.HALTED
    assert eng.daily_pnl == D(-51)  # 900 + 9 at cost − 960
    assert eng.book.open_markets() == {T1, T2}
    assert eng.book.sellable(T1, "no") == 20


def test_snapshot_for_the_status_api() -> None:
    eng = engine()
    hold(eng, 10)
    eng.evaluate(signal(T2, quantity=4), NOW, market(T2))
    snap = eng.snapshot(NOW)
    orjson.dumps(snap)
    assert snap["trading_state"] == "running"
    assert snap["circuit_breaker_triggered"] is False
    assert snap["open_positions"] == 1 and snap["open_markets"] == 2
    assert snap["exposure"] == pytest.approx(5 + 2 + 0.07)
    assert snap["daily_pnl"] == pytest.approx(0.0)  # marked at the 0.50 mid
    assert snap["positions"][0]["ticker"] == T1
    assert snap["limits"]["max_position_size"] == 100.0


def test_limits_from_settings_and_validation() -> None:
    settings = load_settings(env_file=None, max_position_size="250", min_edge="0.05")
    limits = RiskLimits.from_settings(settings, max_orders_per_minute=12)
    assert limits.max_position_size == D(250) and limits.min_edge == D("0.05")
    assert limits.max_daily_loss == D(500) and limits.max_concurrent_positions == 5
    assert limits.max_orders_per_minute == 12
    with pytest.raises(ValueError, match="circuit_breaker_pct"):
        RiskLimits(circuit_breaker_pct=D(0))
    with pytest.raises(ValueError, match="max_concurrent_positions"):
        RiskLimits(max_concurrent_positions=0)
    assert LIMITS.to_dict()["min_edge"] == 0.03


def test_market_state_from_messages() -> None:
    info = MarketInfo(T1, "E", "active", NOW - 300, NOW + 600, D(75), "quadratic", D(2))
    book = BookUpdate(T1, 1, NOW, D("0.40"), D("0.42"), D("0.58"), D("0.60"))
    tick = SpotTick("SOLUSD_RTI", D("75.1"), NOW - 1)
    state = MarketState.from_messages(info, book, tick, exchange_active=False)
    assert (state.book_ts, state.spot_ts, state.close_time) == (NOW, NOW - 1, NOW + 600)
    assert state.fee_multiplier == D(2) and not state.exchange_active
    missing = MarketState.from_messages(info, None, None)
    assert missing.book_stale and missing.spot_stale


def test_netting_fill_trims_resting_sells() -> None:
    """Buying NO while holding YES closes YES at the exchange: reduce-only sells shrink to match."""
    eng = engine()
    hold(eng, 10)
    sell = signal(action="sell", quantity=10)
    assert eng.evaluate(sell, NOW, market()).quantity == 10
    hedge = signal(direction="no", quantity=4, price="0.45")
    assert eng.evaluate(hedge, NOW, market()).approved
    eng.on_fill(fill(hedge.signal_id, 4, "0.45", side="no"))
    assert eng.book.held(T1, "yes") == 6
    assert eng.book.reserved_sells(T1, "yes") == 6
    assert eng.book.cash == D(1000) - D(5) + D(4) - D("1.80")  # 4 pairs paid $1 each
