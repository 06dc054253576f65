"""Controls that act, through the API against the real RiskActor and LedgerActor:
flatten a position (202 / 404 / 409), risk limits changed at runtime (kept across a new
process until reset, 400 naming the rule), and halts that say what clears them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal as D
from typing import Any

import aiohttp
import orjson
import pytest
import sqlalchemy as sa

from actors.ledger import LedgerActor
from actors.risk import RiskActor
from actors.strategy import StrategyActor, strategy_address
from actors.ws_hub import HubEndpoint, WebSocketHub
from hub.config import HubConfig
from hub.store import HubStore
from messages.control import HaltTrading
from messages.ledger import LEDGER, LedgerHealth
from messages.market_data import BookUpdate, MarketInfo
from messages.queries import GetEndpoint
from messages.trading import Fill, OrderIntent
from risk.limits import RiskLimits
from runtime.bus import ORDERS
from runtime.clock import SimClock
from runtime.quiescence import quiesce
from runtime.restart_policy import Backoff
from runtime.supervisor import ChildSpec, SupervisorSpec
from runtime.system import ActorSystem
from storage import Database
from storage.schema import controls, journal
from tests.actors.accumulate import NAME
from tests.actors.probe import Probe, ProbeLog
from tests.actors.test_risk_restart import database

pytestmark = pytest.mark.anyio
__all__ = ["database"]  # the fixture: a prepared SQLite ledger

T0 = 1_780_000_200.0
TICKER = "KXSOL15M-26JAN010015-15"
NO_BACKOFF = Backoff(initial=0.0, maximum=0.0, jitter=0.0)
TOKEN = "test-token-0123456789"


@dataclass
class Bot:
    system: ActorSystem
    endpoint: HubEndpoint
    log: ProbeLog
    token: str | None

    def tell_risk(self, *messages: object) -> None:
        for message in messages:
            self.system.tell("risk", message)
        quiesce(self.system)

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    async def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        async with (
            aiohttp.ClientSession(self.endpoint.url) as session,
            session.request(method, path, json=body, headers=self.headers()) as response,
        ):
            return response.status, await response.json()


@contextmanager
def process(
    database: Database | None = None,
    token: str | None = None,
    store: HubStore | None = None,
    strategy: bool = False,
) -> Iterator[Bot]:
    """One run of the bot's risk and hub, with a ledger on ``database`` if given (a new
    system: a new process). Without one, risk keeps nothing (and starts much faster)."""
    system = ActorSystem(clock=SimClock(start=T0), seed=3)
    log = ProbeLog()
    config = HubConfig(port=0, send_timeout=5.0, api_token=token)
    ledger = () if database is None else (ChildSpec.of(LEDGER, LedgerActor, database),)
    risk = ChildSpec.of(
        "risk", RiskActor, RiskLimits(), None, D(1000), ledger=None if database is None else LEDGER
    )
    strategies = (
        (ChildSpec.of(strategy_address(NAME), StrategyActor, NAME, ledger=LEDGER),)
        if strategy
        else ()
    )
    children = (
        ChildSpec.of("probe", Probe, (ORDERS,), log),
        *ledger,
        risk,
        *strategies,
        ChildSpec.of("hub", WebSocketHub, config, store or HubStore(), shutdown_timeout=15.0),
    )
    system.start(SupervisorSpec("root", children, max_restarts=10, backoff=NO_BACKOFF))
    try:
        quiesce(system)
        yield Bot(system, system.ask("hub", GetEndpoint()), log, token)
    finally:
        system.shutdown(timeout=10)


def holding(bot: Bot, contracts: int = 10) -> None:
    """A YES position bought by kelly_volatility, its market open, its book fresh."""
    now = bot.system.clock.now()
    bot.tell_risk(
        MarketInfo(TICKER, "EV", "active", now - 60, now + 600, D(150), "quadratic", D(1)),
        BookUpdate(TICKER, 1, now, D("0.45"), D("0.47"), D("0.53"), D("0.55")),
        Fill(
            "t1", "o1", "c1", TICKER, "yes", "buy", contracts, D("0.40"), D("0.10"), True, now,
            "kelly_volatility",
        ),
    )  # fmt: skip


# -- flatten ---------------------------------------------------------------------------------


async def test_flatten_sells_the_whole_position_at_the_best_bid_through_risk() -> None:
    with process() as bot:
        holding(bot)
        status, body = await bot.call("POST", f"/api/positions/{TICKER}/flatten")
        assert status == 202, body
        result = body["result"]
        assert (result["count"], result["price"], result["side"]) == (10, "0.45", "yes")
        [intent] = bot.log.of(OrderIntent)
        assert (intent.action, intent.side, intent.count, intent.price) == (
            "sell",
            "yes",
            10,
            D("0.45"),
        )
        assert intent.reduce_only and intent.strategy_name == "kelly_volatility"
        assert intent.client_order_id == result["client_order_id"]


async def test_flatten_refuses_no_position_404_a_bad_price_and_a_halt_409() -> None:
    with process() as bot:
        holding(bot)
        status, body = await bot.call("POST", "/api/positions/KXNONE-1/flatten")
        assert status == 404
        assert "no position in KXNONE-1" in body["error"]["message"]
        flatten = f"/api/positions/{TICKER}/flatten"
        status, body = await bot.call("POST", flatten, {"min_price": "0.50"})  # bid is 0.45
        assert status == 409 and "price guard" in body["error"]["message"]
        status, body = await bot.call("POST", flatten, {"max_slippage": "0.001"})  # mid 0.46
        assert status == 409 and "price guard" in body["error"]["message"]
        status, body = await bot.call("POST", flatten, {"min_price": 7})
        assert status == 422
        bot.tell_risk(HaltTrading("venue_gone", "the venue retired an endpoint"))
        status, body = await bot.call("POST", flatten)
        assert status == 409
        assert body["error"]["code"] == "halted"
        assert "venue_gone" in body["error"]["message"]
        assert "reset the circuit breaker" in body["error"]["message"]
        assert bot.log.of(OrderIntent) == []


# -- halts: the reason, what clears it, and 409 from start / reset -----------------------------


async def test_a_ledger_halt_says_it_clears_itself_and_start_and_reset_answer_409() -> None:
    with process() as bot:
        now = bot.system.clock.now()
        bot.tell_risk(LedgerHealth(False, "ledger", "disk full", now))
        status, body = await bot.call("GET", "/api/status")
        assert body["trading_state"] == "halted"
        assert body["halt"]["reason"] == "ledger_unavailable"
        assert body["halt"]["clears"] == "clears itself when the database writes again"
        for path in ("/api/start", "/api/circuit-breaker/reset"):
            status, body = await bot.call("POST", path)
            assert status == 409, path
            assert body["error"]["code"] == "halted"
            assert (
                "ledger unavailable: clears itself when the database writes again"
                in (body["error"]["message"])
            )
        bot.tell_risk(LedgerHealth(True, "ledger", "", now))
        status, body = await bot.call("GET", "/api/status")
        assert body["halt"] is None
        assert (await bot.call("POST", "/api/start"))[0] == 200


async def test_start_while_the_breaker_holds_is_409_until_reset() -> None:
    with process() as bot:
        bot.tell_risk(HaltTrading("circuit_breaker", "drawdown"))
        status, body = await bot.call("GET", "/api/status")
        assert body["halt"]["reason"] == "circuit_breaker"
        assert "POST /api/circuit-breaker/reset" in body["halt"]["clears"]
        status, body = await bot.call("POST", "/api/start")
        assert status == 409
        assert "circuit breaker tripped" in body["error"]["message"]
        assert (await bot.call("POST", "/api/circuit-breaker/reset"))[0] == 200
        assert (await bot.call("POST", "/api/start"))[0] == 200


# -- risk limits at runtime ------------------------------------------------------------------


def control_rows(database: Database) -> list[dict[str, Any]]:
    with database.engine.connect() as conn:
        rows = conn.execute(sa.select(journal.c.payload).where(journal.c.kind == "control_changed"))
        return [orjson.loads(r.payload) for r in rows]


async def test_a_limit_change_applies_now_is_journaled_and_outlives_the_process(
    database: Database,
) -> None:
    with process(database) as bot:
        status, body = await bot.call("GET", "/api/risk/limits")
        assert body["limits"]["max_daily_loss"] == "500"
        change = {"max_daily_loss": "250", "min_edge": 0.05}
        status, body = await bot.call("PATCH", "/api/risk/limits", change)
        assert status == 200, body
        limits = body["result"]
        assert limits["limits"]["max_daily_loss"] == "250"
        assert limits["limits"]["min_edge"] == "0.05"
        assert limits["startup"]["max_daily_loss"] == "500"
        assert limits["changed_by"] == "loopback"
    [saved] = control_rows(database)
    assert saved["name"] == "risk:limits" and saved["requested_by"] == "loopback"
    with process(database) as bot:  # a new process: the change is still there
        status, body = await bot.call("GET", "/api/risk/limits")
        assert body["limits"]["max_daily_loss"] == "250"
        assert body["overrides"] == {"max_daily_loss": "250", "min_edge": "0.05"}
        status, body = await bot.call("POST", "/api/risk/limits/reset")
        assert status == 200
        assert body["result"]["limits"]["max_daily_loss"] == "500"
    # and the reset is what the next process reads: no overrides
    with database.engine.connect() as conn:
        value = conn.execute(sa.select(controls.c.value).where(controls.c.name == "risk:limits"))
        assert orjson.loads(value.scalar_one())["overrides"] == {}


REFUSED: list[tuple[dict[str, object], str]] = [
    (
        {"circuit_breaker_pct": "1.5"},
        "CIRCUIT_BREAKER_PCT: Input should be less than or equal to 1",
    ),
    ({"max_daily_loss": "-5"}, "MAX_DAILY_LOSS: Input should be greater than 0"),
    (
        {"max_concurrent_positions": "two"},
        "MAX_CONCURRENT_POSITIONS: Input should be a valid integer",
    ),
    ({"max_orders_per_minute": 3}, "not a limit that can change at runtime"),
    ({"min_edge": True}, "MIN_EDGE: give a number"),
]


async def test_a_limit_change_that_breaks_a_rule_is_400_and_changes_nothing() -> None:
    with process() as bot:
        await bot.call("PATCH", "/api/risk/limits", {"max_daily_loss": "250"})
        for change, rule in REFUSED:
            # a valid part beside the broken one is not applied either
            status, body = await bot.call(
                "PATCH", "/api/risk/limits", {"min_edge": "0.1", **change}
            )
            assert status == 400, body
            assert body["error"]["code"] == "invalid_limit"
            assert rule in body["error"]["message"], change
        status, body = await bot.call("PATCH", "/api/risk/limits", {})
        assert status == 400 and "no limit given" in body["error"]["message"]
        status, body = await bot.call("GET", "/api/risk/limits")
        assert body["limits"]["max_daily_loss"] == "250"
        assert body["limits"]["min_edge"] == "0.03"
        assert body["persisted"] is False  # no ledger here: kept for this process only


async def test_a_limit_change_needs_the_token_and_names_its_holder() -> None:
    with process(token=TOKEN) as bot:
        async with (
            aiohttp.ClientSession(bot.endpoint.url) as session,
            session.patch("/api/risk/limits", json={"max_daily_loss": "1"}) as response,
        ):
            assert response.status == 401
        status, body = await bot.call("PATCH", "/api/risk/limits", {"max_daily_loss": "100"})
        assert status == 200
        assert body["result"]["changed_by"] == "token holder"


async def test_strategy_parameters_change_through_the_api(database: Database) -> None:
    with process(database, strategy=True) as bot:
        path = f"/api/strategies/{NAME}/params"
        status, body = await bot.call("PATCH", path, {"target": 3})
        assert status == 200, body
        assert body["result"]["params"]["target"] == 3
        assert body["result"]["params_changed_by"] == "loopback"
        status, body = await bot.call("PATCH", path, {"size": 0, "target": 9})
        assert status == 400
        assert body["error"]["code"] == "invalid_params"
        assert "size: Input should be greater than or equal to 1" in body["error"]["message"]
        status, body = await bot.call("PATCH", "/api/strategies/nope/params", {"size": 1})
        assert status == 404
        status, body = await bot.call("POST", f"{path}/reset")
        assert status == 200 and body["result"]["params"]["target"] == 6
    rows = control_rows(database)
    assert [r["requested_by"] for r in rows if r["name"].endswith(":params")] == ["loopback"] * 2
