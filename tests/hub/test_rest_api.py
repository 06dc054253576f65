"""The ▶ REST API over real HTTP on 127.0.0.1: every endpoint, against fake trading actors."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from hub.config import WEB_DIR
from messages.control import (
    CancelOrder,
    ResetCircuitBreaker,
    SetStrategyEnabled,
    StartTrading,
    StopTrading,
)
from messages.market_data import ExchangeState, MarketLifecycle
from messages.status import StrategyStatus
from messages.trading import OrderIntent, Settlement
from runtime.bus import BOOK, FILLS, MARKETS, ORDERS, SIGNALS, SPOT, STATUS
from tests.hub import fakes
from tests.hub.conftest import STRATEGY, Harness, StartHub

pytestmark = pytest.mark.anyio


async def get(session: aiohttp.ClientSession, url: str) -> tuple[int, Any]:
    async with session.get(url) as response:
        return response.status, await response.json()


async def post(
    session: aiohttp.ClientSession, url: str, headers: dict[str, str] | None = None, **kw: Any
) -> tuple[int, Any]:
    async with session.post(url, headers=headers or {}, **kw) as response:
        return response.status, await response.json()


def assert_error(body: Any, code: str) -> None:
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]


async def test_health_and_status_follow_the_contract(hub: Harness) -> None:
    async with aiohttp.ClientSession(hub.url) as session:
        status, health = await get(session, "/api/health")
        assert status == 200
        assert health["status"] == "ok"
        status, body = await get(session, "/api/status")
    assert status == 200
    assert {
        "running",
        "mode",
        "trading_state",
        "risk_metrics",
        "positions",
        "orders",
        "strategies",
    } <= set(body)
    assert body["running"] is True
    assert body["mode"] == "sim"
    assert body["trading_state"] == "running"
    metrics = body["risk_metrics"]
    assert metrics["daily_pnl"] == "12.50"
    assert metrics["exposure"] == "5.57"
    assert metrics["open_positions"] == 1
    assert metrics["circuit_breaker_triggered"] is False
    assert body["positions"][0]["ticker"] == fakes.TICKER
    assert body["orders"] == {"active": 0, "filled": 0, "cancelled": 0, "rejected": 0, "total": 0}
    [strategy] = body["strategies"]
    assert strategy["name"] == STRATEGY
    assert strategy["enabled"] is True
    assert strategy["params"] == {
        "min_edge": "0.03",
        "kelly_fraction": "0.25",
        "initial_sigma": None,  # the actor's "null" text, decoded
    }
    assert strategy["metrics"]["skips"] == {"edge_below_minimum": 12, "cooldown": 2}


async def test_stop_and_start_are_messages_to_the_risk_actor(hub: Harness) -> None:
    async with aiohttp.ClientSession(hub.url) as session:
        status, body = await post(session, "/api/stop", json={"reason": "lunch"})
        assert (status, body["ok"], body["action"]) == (200, True, "stop")
        assert body["result"]["trading_state"] == "stopped"
        hub.settle()
        _, state = await get(session, "/api/status")
        assert (state["running"], state["trading_state"]) == (False, "stopped")

        status, body = await post(session, "/api/start")
        assert status == 200
        hub.settle()
        _, state = await get(session, "/api/status")
        assert (state["running"], state["trading_state"]) == (True, "running")
    [stop] = hub.controls.of(StopTrading)
    assert (stop.reason, stop.requested_by) == ("lunch", "api")
    assert len(hub.controls.of(StartTrading)) == 1


async def test_circuit_breaker_reset(hub: Harness) -> None:
    hub.publish(STATUS, fakes.risk_status("halted", pnl="-510", breaker=True))
    hub.settle()
    async with aiohttp.ClientSession(hub.url) as session:
        _, state = await get(session, "/api/status")
        assert state["trading_state"] == "halted"
        assert state["risk_metrics"]["circuit_breaker_triggered"] is True
        status, body = await post(session, "/api/circuit-breaker/reset")
        assert (status, body["action"]) == (200, "reset_circuit_breaker")
        hub.settle()
        _, state = await get(session, "/api/status")
    assert state["risk_metrics"]["circuit_breaker_triggered"] is False
    assert len(hub.controls.of(ResetCircuitBreaker)) == 1


async def test_trades_history_and_filters(hub: Harness) -> None:
    now = hub.clock.now()
    hub.publish(ORDERS, fakes.order_update(now - 30, "c-1", "resting"))
    hub.publish(ORDERS, fakes.order_update(now - 20, "c-2", "resting"))
    hub.publish(FILLS, fakes.fill(now - 19, "c-2", "t-1", count=10))
    hub.publish(ORDERS, fakes.order_update(now - 19, "c-2", "executed", filled=10))
    hub.publish(ORDERS, fakes.order_update(now - 10, "c-3", "resting"))
    hub.publish(ORDERS, fakes.order_update(now - 5, "c-3", "canceled"))
    hub.settle()
    async with aiohttp.ClientSession(hub.url) as session:
        _, body = await get(session, "/api/trades")
        assert [t["trade_id"] for t in body["trades"]] == ["c-3", "c-2", "c-1"]
        filled = body["trades"][1]
        assert (filled["status"], filled["filled"], filled["avg_fill_price"]) == (
            "executed",
            10,
            "0.6000",
        )
        assert filled["fills"][0]["trade_id"] == "t-1"

        async def ids(query: str) -> list[str]:
            status, found = await get(session, f"/api/trades?{query}")
            assert status == 200, found
            return [t["trade_id"] for t in found["trades"]]

        assert await ids("status=active") == ["c-1"]
        assert await ids("status=filled") == ["c-2"]
        assert await ids("status=cancelled") == ["c-3"]
        assert await ids(f"ticker={fakes.TICKER}&limit=2") == ["c-3", "c-2"]
        assert await ids(f"ticker={fakes.TICKER}&limit=2&offset=2") == ["c-1"]
        assert await ids("ticker=KXSOL15M-OTHER") == []
        assert await ids(f"strategy={STRATEGY}&since={now - 25}") == ["c-3", "c-2"]
        assert await ids("strategy=mean_reversion") == []
        _, active = await get(session, "/api/trades/active")
        assert [t["trade_id"] for t in active["trades"]] == ["c-1"]
        _, state = await get(session, "/api/status")
    assert state["orders"] == {"active": 1, "filled": 1, "cancelled": 1, "rejected": 0, "total": 3}


async def test_cancel_one_order(hub: Harness) -> None:
    hub.system.tell("order", fakes.Rest(fakes.order_update(hub.clock.now(), "c-9", "resting")))
    hub.settle()
    async with aiohttp.ClientSession(hub.url) as session:
        status, body = await post(session, "/api/trades/c-9/cancel")
        assert status == 202, body
        assert (body["trade_id"], body["status"]) == ("c-9", "cancel_requested")
        hub.settle()
        _, active = await get(session, "/api/trades/active")
        assert active["trades"] == []
        status, body = await post(session, "/api/trades/c-9/cancel")
        assert status == 409
        assert_error(body, "order_not_active")
        status, body = await post(session, "/api/trades/nope/cancel")
        assert status == 404
        assert_error(body, "unknown_order")
    assert [c.order_id for c in hub.controls.of(CancelOrder)] == ["c-9"]


async def test_cancel_by_exchange_order_id(hub: Harness) -> None:
    hub.system.tell("order", fakes.Rest(fakes.order_update(hub.clock.now(), "c-7", "resting")))
    hub.settle()
    async with aiohttp.ClientSession(hub.url) as session:
        status, body = await post(session, "/api/trades/ex-c-7/cancel")
    # The hub resolves the exchange id; the order actor is asked by our client_order_id.
    assert (status, body["trade_id"]) == (202, "c-7")
    assert [c.order_id for c in hub.controls.of(CancelOrder)] == ["c-7"]


async def test_order_actor_refusal_is_a_404(hub: Harness) -> None:
    # The hub saw the order, but the order actor no longer knows it: its KeyError becomes a 404.
    hub.publish(ORDERS, fakes.order_update(hub.clock.now(), "c-5", "resting"))
    hub.settle()
    async with aiohttp.ClientSession(hub.url) as session:
        status, body = await post(session, "/api/trades/c-5/cancel")
        assert status == 404
        assert_error(body, "not_found")
        status, _ = await get(session, "/api/health")
    assert status == 200


async def test_positions(hub: Harness) -> None:
    async with aiohttp.ClientSession(hub.url) as session:
        status, body = await get(session, "/api/positions")
    assert status == 200
    [position] = body["positions"]
    assert (position["ticker"], position["side"], position["contracts"]) == (
        fakes.TICKER,
        "yes",
        10,
    )
    assert position["average_price"] == "0.55"


async def test_strategies_list_and_toggle(hub: Harness) -> None:
    async with aiohttp.ClientSession(hub.url) as session:
        status, body = await get(session, "/api/strategies")
        assert status == 200
        [strategy] = body["strategies"]
        assert (strategy["name"], strategy["enabled"], strategy["actor_state"]) == (
            STRATEGY,
            True,
            "running",
        )
        assert strategy["metrics"]["signals"] == "3"

        status, body = await post(session, f"/api/strategies/{STRATEGY}/disable")
        assert (status, body["enabled"], body["result"]) == (200, False, False)
        hub.settle()
        _, listed = await get(session, "/api/strategies")
        assert listed["strategies"][0]["enabled"] is False
        status, _ = await post(session, f"/api/strategies/{STRATEGY}/enable")
        assert status == 200

        status, body = await post(session, "/api/strategies/no_such_strategy/enable")
        assert status == 404
        assert_error(body, "unknown_strategy")
        status, body = await post(session, "/api/strategies/bad%20name!/enable")
        assert status == 400
        assert_error(body, "invalid_parameter")
        status, body = await post(session, f"/api/strategies/{STRATEGY}/explode")
        assert status == 404
    assert [(c.name, c.enabled) for c in hub.controls.of(SetStrategyEnabled)] == [
        (STRATEGY, False),
        (STRATEGY, True),
    ]


async def test_signals_with_their_inputs_and_decisions(hub: Harness) -> None:
    now = hub.clock.now()
    hub.publish(SIGNALS, fakes.signal(now - 2, "sig-1"))
    hub.publish(SIGNALS, fakes.decision(now - 2, "sig-1", approved=True))
    hub.publish(SIGNALS, fakes.decision(now - 1, "sig-2", approved=False))  # before its signal
    hub.publish(SIGNALS, fakes.signal(now - 1, "sig-2"))
    hub.publish(SIGNALS, fakes.signal(now, "sig-3", strategy="mean_reversion"))
    hub.settle()
    async with aiohttp.ClientSession(hub.url) as session:
        _, body = await get(session, "/api/signals")
        by_id = {s["signal_id"]: s for s in body["signals"]}
        assert [s["signal_id"] for s in body["signals"]] == ["sig-3", "sig-2", "sig-1"]
        first = by_id["sig-1"]
        assert (first["spot"], first["strike"], first["sigma"], first["kelly_fraction"]) == (
            "187.90",
            "187.42",
            0.82,
            0.25,
        )
        assert first["decision"]["approved"] is True
        assert by_id["sig-2"]["decision"]["reason"] == "max_concurrent_positions"
        assert by_id["sig-3"]["decision"] is None

        async def ids(query: str) -> list[str]:
            status, found = await get(session, f"/api/signals?{query}")
            assert status == 200, found
            return [s["signal_id"] for s in found["signals"]]

        assert await ids("status=approved") == ["sig-1"]
        assert await ids("status=rejected") == ["sig-2"]
        assert await ids("status=pending") == ["sig-3"]
        assert await ids(f"strategy={STRATEGY}&limit=1") == ["sig-2"]
        assert await ids(f"strategy={STRATEGY}&limit=1&offset=1") == ["sig-1"]
        assert await ids(f"since={now - 1.5}") == ["sig-3", "sig-2"]


async def test_actor_tree(hub: Harness) -> None:
    async with aiohttp.ClientSession(hub.url) as session:
        status, body = await get(session, "/api/actors")
    assert status == 200
    tree = body["tree"]
    assert tree["name"] == "root"
    names = [child["name"] for child in tree["children"]]
    assert names == ["hub", "trading", "strategies"]
    trading = tree["children"][1]
    assert [c["name"] for c in trading["children"]] == ["risk", "order"]
    risk = trading["children"][0]
    assert {"name", "state", "restarts", "mailbox_size", "last_failure"} <= set(risk)
    assert (risk["state"], risk["restarts"], risk["last_failure"]) == ("running", 0, None)
    assert body["dead_letters"]["total"] == 0

    hub.system.tell("nobody", "hello")  # the panel says what it was, not just how many
    async with aiohttp.ClientSession(hub.url) as session:
        _, body = await get(session, "/api/actors")
    kind = {"to": "nobody", "message": "str", "reason": "unbound", "count": 1}
    assert body["dead_letters"]["kinds"] == [kind]


async def test_metrics_in_prometheus_text(hub: Harness) -> None:
    now = hub.clock.now()
    intent = OrderIntent(
        client_order_id="c-1",
        signal_id="sig-1",
        strategy_name=STRATEGY,
        ticker=fakes.TICKER,
        side="yes",
        action="buy",
        count=10,
        price=fakes.D("0.60"),
        time_in_force="good_till_canceled",
        created_at=now - 0.2,
    )
    hub.publish(ORDERS, intent)
    hub.publish(ORDERS, fakes.order_update(now, "c-1", "resting"))
    hub.publish(
        ORDERS, fakes.order_update(now + 1, "c-1", "resting", filled=2)
    )  # not a first update
    hub.system.tell("nobody", "hello")  # one dead letter
    hub.settle()
    async with aiohttp.ClientSession(hub.url) as session, session.get("/metrics") as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain")
        text = await response.text()
    lines = text.splitlines()
    assert "sol15_order_latency_seconds_count 1.0" in lines
    assert 'sol15_order_latency_seconds_bucket{le="0.25"} 1.0' in lines
    assert 'sol15_order_latency_seconds_bucket{le="0.1"} 0.0' in lines
    assert 'sol15_orders{status="resting"} 1.0' in lines
    assert "sol15_daily_pnl_dollars 12.5" in lines
    assert "sol15_exposure_dollars 5.57" in lines
    assert 'sol15_dead_letters_total{actor="nobody"} 1.0' in lines
    assert 'sol15_actor_restarts_total{actor="risk"} 0.0' in lines
    assert 'sol15_trading_state{state="running"} 1.0' in lines
    assert "sol15_ws_clients 0.0" in lines
    assert any(line.startswith('sol15_actor_messages_handled_total{actor="hub"}') for line in lines)
    assert any(line.startswith('sol15_actor_mailbox_size{actor="risk"}') for line in lines)
    assert any(line.startswith('sol15_hub_events_total{type="OrderUpdate"} 2.0') for line in lines)


async def test_dashboard_snapshot(hub: Harness) -> None:
    now = hub.clock.now()
    hub.publish(MARKETS, fakes.market(now))
    hub.publish(SPOT, fakes.spot(now - 2, "187.50"))
    hub.publish(SPOT, fakes.spot(now, "187.90"))
    hub.publish(BOOK, fakes.book(now))
    hub.settle()
    async with aiohttp.ClientSession(hub.url) as session:
        status, body = await get(session, "/api/dashboard")
        _, state = await get(session, "/api/status")
    assert status == 200
    window = body["window"]
    assert (window["ticker"], window["floor_strike"], window["tradeable"]) == (
        fakes.TICKER,
        "187.42",
        True,
    )
    assert window["seconds_left"] == pytest.approx(600)
    assert window["book"]["yes_bid"] == "0.58"
    assert body["charts"]["spot"] == [[now - 2, 187.5], [now, 187.9]]
    assert body["charts"]["yes_mid"] == [[now, 0.595]]
    assert state["market"]["ticker"] == fakes.TICKER


async def test_dashboard_model_line_signal_marks_and_market_events(hub: Harness) -> None:
    now = hub.clock.now()
    hub.publish(MARKETS, fakes.market(now))
    hub.publish(STATUS, fakes.strategy_status(STRATEGY, True, now - 5, prob=0.55))
    hub.publish(STATUS, fakes.strategy_status(STRATEGY, True, now, prob=0.62))
    hub.publish(SIGNALS, fakes.decision(now, "sig-1", approved=True))  # risk can be first
    hub.publish(SIGNALS, fakes.signal(now, "sig-1"))
    hub.publish(SIGNALS, fakes.signal(now, "sig-2"))
    hub.publish(SIGNALS, fakes.decision(now, "sig-2", approved=False))
    hub.publish(MARKETS, ExchangeState(True, False, now))
    hub.publish(MARKETS, MarketLifecycle(fakes.TICKER, "settled", now, "yes", fakes.D("187.61")))
    hub.publish(FILLS, Settlement(fakes.TICKER, "yes", 10, 0, fakes.D("10"), now))
    hub.settle()
    async with aiohttp.ClientSession(hub.url) as session:
        _, body = await get(session, "/api/dashboard")
        _, signals = await get(session, "/api/signals")
    charts = body["charts"]
    assert charts["model"][-2:] == [[now - 6, 0.55], [now - 1, 0.62]]
    assert charts["signals"] == [[now, 0.652, "yes"]]  # the approved one only
    kinds = [(e["kind"], e.get("event_type")) for e in body["market_events"]]
    assert kinds == [("exchange", None), ("lifecycle", "settled")]
    [alert] = body["alerts"]
    assert alert["message"] == f"{fakes.TICKER} settled YES: held 10 YES, paid $10.00"
    joined = {s["signal_id"]: s["decision"]["approved"] for s in signals["signals"]}
    assert joined == {"sig-1": True, "sig-2": False}


async def test_controls_answer_503_when_the_target_is_not_running(start_hub: StartHub) -> None:
    hub = start_hub(trading=False)
    hub.publish(ORDERS, fakes.order_update(hub.clock.now(), "c-1", "resting"))
    hub.publish(STATUS, StrategyStatus(STRATEGY, True, (), (), hub.clock.now()))
    hub.settle()
    async with aiohttp.ClientSession(hub.url) as session:
        for path in (
            "/api/start",
            "/api/stop",
            "/api/circuit-breaker/reset",
            "/api/trades/c-1/cancel",
            f"/api/strategies/{STRATEGY}/disable",
        ):
            status, body = await post(session, path)
            assert status == 503, path
            assert_error(body, "unavailable")
        status, body = await get(session, "/api/status")
    assert (status, body["trading_state"], body["running"]) == (200, "stopped", False)


async def test_dashboard_page_and_static_files(hub: Harness) -> None:
    async with aiohttp.ClientSession(hub.url) as session:
        async with session.get("/") as response:
            assert response.status == 200
            assert response.content_type == "text/html"
            assert "default-src 'self'" in response.headers["Content-Security-Policy"]
            html = await response.text()
        assert '<script src="/static/app.js"' in html
        for name in ("app.js", "charts.js", "style.css"):
            async with session.get(f"/static/{name}") as response:
                assert response.status == 200
                assert await response.read() == (WEB_DIR / name).read_bytes()
        async with session.get("/static/../hub/config.py") as response:
            assert response.status in (403, 404)
        async with session.get("/static/") as response:
            assert response.status in (403, 404)
