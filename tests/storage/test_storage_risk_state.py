"""The risk engine's saved state: exact round trip, and how a restart combines it with the exchange."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from risk.engine import RiskEngine, RiskState, TradingState
from risk.exposure import Position, Reservation
from risk.limits import RiskLimits
from storage.risk_state import SavedRisk, account_of, merge, utc_day

T0 = 1_780_000_200.0  # 2026-05-28 20:30 UTC
TODAY = utc_day(T0)


def saved_state(**changes: object) -> RiskState:
    state = RiskState(
        cash=D("9990.12"),
        day_start_equity=D("10000"),
        positions=[Position("KX-1", "no", 7, D("2.59"))],
        reservations=[
            Reservation("c9", "KX-1", "no", "buy", 2, D("0.37"), D("1"), "kelly", T0, 1, False)
        ],
        realized_pnl=D("-0.42"),
        fees=D("0.42"),
        marks={"KX-1": D("0.615"), "KX-OLD": D("0.5")},
        trading_state=TradingState.HALTED,
        circuit_breaker_triggered=True,
        halt_reason="circuit_breaker",
        breaker_reference=D("10000"),
        approvals=[T0 - 5, T0 - 1],
    )
    for name, value in changes.items():
        setattr(state, name, value)
    return state


def test_the_state_round_trips_exactly() -> None:
    saved = SavedRisk(TODAY, saved_state(), T0)
    again = SavedRisk.from_json(saved.to_json())
    assert again == saved


def test_an_engine_restored_from_it_reports_the_same() -> None:
    engine = RiskEngine(RiskLimits(), D(10000))
    engine.restore(SavedRisk.from_json(SavedRisk(TODAY, saved_state(), T0).to_json()).state)
    assert engine.state is TradingState.HALTED and engine.circuit_breaker_triggered
    assert engine.day_start_equity == D("10000")


def exchange_state() -> RiskState:
    """What a restart rebuilt from the exchange: cash and positions, a fresh day."""
    return RiskState(
        cash=D("9988.00"),
        day_start_equity=D("9990.59"),
        positions=[Position("KX-1", "no", 7, D("2.59"))],
    )


def test_the_same_day_carries_the_days_start_the_breaker_and_the_halt() -> None:
    merged = merge(exchange_state(), SavedRisk(TODAY, saved_state(), T0), TODAY, keep_stop=False)
    assert merged.cash == D("9988.00")  # the exchange is the truth for cash and positions
    assert merged.positions == exchange_state().positions
    assert merged.day_start_equity == D("10000")
    assert merged.breaker_reference == D("10000")
    assert (merged.trading_state, merged.circuit_breaker_triggered) == (TradingState.HALTED, True)
    assert (merged.realized_pnl, merged.fees) == (D("-0.42"), D("0.42"))
    assert merged.marks == {"KX-1": D("0.615")}  # marks of markets no longer held are dropped
    assert merged.approvals == [T0 - 5, T0 - 1]


def test_a_new_day_restarts_the_days_figures_but_keeps_a_halt() -> None:
    merged = merge(
        exchange_state(), SavedRisk("2026-05-27", saved_state(), T0), TODAY, keep_stop=False
    )
    equity = D("9988.00") + 7 * (1 - D("0.615"))  # NO contracts at the saved YES mark
    assert merged.day_start_equity == equity == merged.breaker_reference
    assert (merged.realized_pnl, merged.fees, merged.approvals) == (D(0), D(0), [])
    assert merged.trading_state is TradingState.HALTED


@pytest.mark.parametrize(("keep_stop", "expected"), [(True, "stopped"), (False, "running")])
def test_an_operators_stop_survives_an_actor_restart_but_not_a_new_process(
    keep_stop: bool, expected: str
) -> None:
    stopped = saved_state(
        trading_state=TradingState.STOPPED, circuit_breaker_triggered=False, halt_reason=""
    )
    merged = merge(exchange_state(), SavedRisk(TODAY, stopped, T0), TODAY, keep_stop=keep_stop)
    assert merged.trading_state.value == expected


def test_accounts_are_told_apart_without_storing_the_key() -> None:
    a = account_of("https://api.elections.kalshi.com/trade-api/v2", "key-1")
    assert a == account_of("https://api.elections.kalshi.com/trade-api/v2", "key-1")
    assert a != account_of("https://api.elections.kalshi.com/trade-api/v2", "key-2")
    assert a != account_of("http://127.0.0.1:8100/trade-api/v2", "key-1")
    assert "key-1" not in a
