"""A strategy's parameters changed at runtime: validated by its own model, applied by
rebuilding the strategy as a restart would (what it holds is kept), kept in the ledger
across a new process until reset."""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

import orjson
import pytest

from actors.strategy import params_name
from messages.control import ResetStrategyParams, SetStrategyParams
from messages.trading import Fill, Signal
from runtime.bus import FILLS
from runtime.quiescence import quiesce
from runtime.system import ActorSystem
from storage import Database
from storage.recovery import load_controls
from strategies.base import StrategyConfigError
from tests.actors.accumulate import NAME
from tests.actors.test_strategy_restart import (
    ADDRESS,
    T0,
    TICKER,
    _book,
    _described,
    database,
    process,
)

__all__ = ["database"]


def change(system: ActorSystem, **params: object) -> dict[str, Any]:
    message = SetStrategyParams(NAME, orjson.dumps(params).decode(), "loopback")
    answer: dict[str, Any] = system.ask(ADDRESS, message, timeout=10)
    return answer


def test_a_parameter_change_applies_keeps_the_position_and_outlives_the_process(
    database: Database,
) -> None:
    bought = Fill("t-1", "o-1", "c-1", TICKER, "yes", "buy", 4, D("0.5"), D("0.02"), True, T0, NAME)
    with process(database) as (system, log):
        system.bus.publish(FILLS, bought)
        quiesce(system)
        described = change(system, target=5, size=3)
        assert described["params"]["target"] == 5 and described["params"]["size"] == 3
        assert described["params_changed_by"] == "loopback"
        # rebuilt as a restart would: it still holds its 4, so it buys only 1 more
        assert _described(system)["metrics"]["held"] == {TICKER: ("yes", 4)}
        _book(system, 1)
        assert [s.quantity for s in log.of(Signal)] == [1]
    assert "target" in load_controls(database)[params_name(NAME)]
    with process(database) as (system, _):  # a new process: the change is still there
        described = _described(system)
        assert described["params"]["target"] == 5 and described["param_overrides"] == {
            "target": 5,
            "size": 3,
        }
        system.ask(ADDRESS, ResetStrategyParams(NAME, "token holder"), timeout=10)
        assert _described(system)["params"]["target"] == 6
    with process(database) as (system, _):  # and so is the reset
        assert _described(system)["params"]["target"] == 6


REFUSED = [
    ({"size": 0}, "size: Input should be greater than or equal to 1"),
    ({"bogus": 1}, "bogus: unknown parameter"),
    ({}, "no parameter given"),
]


def test_a_parameter_change_that_breaks_a_rule_changes_nothing(database: Database) -> None:
    with process(database) as (system, _):
        for params, problem in REFUSED:
            with pytest.raises(StrategyConfigError, match=problem):
                # beside a broken one, a valid change is not applied either
                change(system, **({"target": 4, **params} if params else {}))
            assert _described(system)["params"]["target"] == 6
    assert params_name(NAME) not in load_controls(database)
