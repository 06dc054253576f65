"""The risk engine's saved state: exact round trip, and how a restart combines it with the exchange."""

from __future__ import annotations

from decimal import Decimal as D

import orjson
import pytest

from risk.engine import RiskEngine, RiskState, TradingState
from risk.exposure import Position, Reservation
from risk.limits import RiskLimits
from storage.risk_state import (
    STOPPED_BY_SYSTEM,
    SavedRisk,
    UnreadableRiskState,
    account_of,
    merge,
    utc_day,
)

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


@pytest.mark.parametrize(
    ("stopped_by", "keep_stop", "expected"),
    [
        ("api", True, "stopped"),
        ("api", False, "stopped"),  # an operator's stop outlives the process
        (STOPPED_BY_SYSTEM, True, "stopped"),
        (STOPPED_BY_SYSTEM, False, "running"),  # the bot's own stop at shutdown does not
    ],
)
def test_an_operators_stop_survives_any_restart_the_bots_own_only_an_actor_restart(
    stopped_by: str, keep_stop: bool, expected: str
) -> None:
    stopped = saved_state(
        trading_state=TradingState.STOPPED,
        circuit_breaker_triggered=False,
        halt_reason="",
        stopped_by=stopped_by,
    )
    again = SavedRisk.from_json(SavedRisk(TODAY, stopped, T0).to_json())
    merged = merge(exchange_state(), again, TODAY, keep_stop=keep_stop)
    assert merged.trading_state.value == expected


def test_a_stop_saved_before_stops_were_named_is_taken_for_the_bots_own() -> None:
    stopped = SavedRisk(TODAY, saved_state(trading_state=TradingState.STOPPED), T0)
    body = orjson.loads(stopped.to_json())
    del body["stopped_by"]
    assert SavedRisk.from_json(orjson.dumps(body)).state.stopped_by == STOPPED_BY_SYSTEM


@pytest.mark.parametrize(
    "text",
    ["", "{truncated", "[1, 2]", '{"format": 1}', '{"format": 9}'],
    ids=["empty", "not_json", "not_an_object", "missing_fields", "another_format"],
)
def test_an_unreadable_state_is_one_error_that_says_why(text: str) -> None:
    with pytest.raises(UnreadableRiskState, match=r"unreadable saved risk state: .+"):
        SavedRisk.from_json(text)


def test_bad_money_in_a_state_is_unreadable_too() -> None:
    body = orjson.loads(SavedRisk(TODAY, saved_state(), T0).to_json())
    body["cash"] = "a lot"
    with pytest.raises(UnreadableRiskState):
        SavedRisk.from_json(orjson.dumps(body))


def test_accounts_are_told_apart_without_storing_the_key() -> None:
    a = account_of("https://api.elections.kalshi.com/trade-api/v2", "key-1")
    assert a == account_of("https://api.elections.kalshi.com/trade-api/v2", "key-1")
    assert a != account_of("https://api.elections.kalshi.com/trade-api/v2", "key-2")
    assert a != account_of("http://127.0.0.1:8100/trade-api/v2", "key-1")
    assert "key-1" not in a
