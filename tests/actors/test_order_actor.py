"""The OrderActor as a shell over the execution core, with no network: the Kalshi broker
over a fake REST client (tests/execution/fake_kalshi.py), and the paper broker.

Time is a SimClock (reconciliation runs when the test advances it); every step waits
on ``quiesce``, never on a sleep.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal as D
from typing import Any

from actors.order import OrderActor
from actors.risk import RiskActor
from execution.kalshi_broker import SessionOrderGroup
from kalshi import models
from kalshi.ws_events import FillEvent
from messages.control import CancelAllOrders, CancelOrder, HaltTrading, ResetCircuitBreaker
from messages.market_data import MarketLifecycle
from messages.queries import GetOrders, GetPositions, GetStats, GetStatus
from messages.status import Alert
from messages.system import CrashNow
from messages.trading import Fill, OrderIntent, OrderUpdate, Settlement
from messages.vocabulary import OrderStatus
from risk.limits import RiskLimits
from runtime.bus import ALERTS, BOOK, FILLS, MARKETS, ORDERS
from runtime.clock import SimClock
from runtime.quiescence import quiesce, settle
from runtime.restart_policy import Backoff
from runtime.supervisor import ChildSpec, SupervisorSpec
from runtime.system import ActorSystem
from tests.actors.probe import Probe, ProbeLog
from tests.execution.builders import book, intent
from tests.execution.fake_kalshi import FakeRest
from tests.strategies.strategy_builders import market

S = OrderStatus
NO_BACKOFF = Backoff(initial=0.0, maximum=0.0, jitter=0.0)
RECONCILE = 5.0


class FakeConnection:
    """What the OrderActor asks of an ExchangeConnection: a REST client (the fake one)."""

    def __init__(self, rest: FakeRest) -> None:
        self.client = rest

    def rest(self, *, presign_orders: bool = False) -> FakeRest:
        return self.client


@dataclass
class Rig:
    system: ActorSystem
    clock: SimClock
    log: ProbeLog  # ORDERS, FILLS, ALERTS as published
    told_risk: ProbeLog  # what the order actor told "risk" (a probe, unless risk is real)
    rest: FakeRest | None

    def send(self, *intents: OrderIntent) -> None:
        for order in intents:
            self.system.tell("order", order)
        quiesce(self.system)

    def reconcile(self) -> None:
        self.clock.advance(RECONCILE)
        quiesce(self.system)

    def orders(self) -> dict[str, Any]:
        found: dict[str, Any] = self.system.ask("order", GetOrders())
        return found

    def updates(self, coid: str) -> list[OrderUpdate]:
        return [u for u in self.log.of(OrderUpdate) if u.client_order_id == coid]


@contextmanager
def order_rig(
    rest: FakeRest | None = None, *, paper: bool = False, real_risk: bool = False
) -> Iterator[Rig]:
    clock = SimClock()
    system = ActorSystem(clock=clock, seed=5)
    log, told_risk = ProbeLog(), ProbeLog()
    connection = None if paper else FakeConnection(rest or FakeRest())
    if connection is not None:  # the fake exchange's fills carry the simulated time
        connection.client.now_ms = int(clock.now() * 1000)
    order = ChildSpec.of(
        "order",
        OrderActor,
        connection,
        paper=paper,
        reconcile_interval=RECONCILE,
        presign_interval=3600.0,
        order_group=None if paper else SessionOrderGroup(50),
    )
    risk = (
        ChildSpec.of("risk", RiskActor, RiskLimits(), None)
        if real_risk
        else ChildSpec.of("risk", Probe, (), told_risk)
    )
    probe = ChildSpec.of("probe", Probe, (ORDERS, FILLS, ALERTS), log)
    system.start(SupervisorSpec("root", (probe, risk, order), backoff=NO_BACKOFF))
    try:
        quiesce(system)
        yield Rig(system, clock, log, told_risk, None if paper else connection.client)  # type: ignore[union-attr]
    finally:
        system.shutdown()


# -- the path of one intent -----------------------------------------------------------------------


def test_an_intent_goes_through_the_broker_and_its_state_and_fills_are_published() -> None:
    with order_rig(FakeRest(liquidity={"T": 4})) as rig:
        assert rig.rest is not None
        rig.send(intent("c1", count=10, tif="good_till_canceled"))
        [request] = rig.rest.created
        assert (request.side, request.order_group_id) == ("bid", "g-1")  # the session's group
        [update] = rig.updates("c1")
        assert (update.status, update.order_id, update.filled, update.remaining) == (
            S.RESTING,
            "o-1",
            4,
            6,
        )
        # its fill arrives on the stream, twice (a reconnect): booked once
        [message] = rig.rest.fill_messages
        rig.system.tell("order", FillEvent.from_wire(message, 1))
        rig.system.tell("order", FillEvent.from_wire(message, 2))
        quiesce(rig.system)
        [fill] = rig.log.of(Fill)
        assert (fill.client_order_id, fill.side, fill.action, fill.count) == ("c1", "yes", "buy", 4)
        assert rig.system.ask("order", GetPositions()) == {"T": 4}
        assert rig.system.ask("order", GetStats()) == {"orders": 1, "filled_orders": 1, "fills": 1}
        # the rest trades later: reconciliation reads the order and the missed fill
        rig.rest.trade(rig.rest.orders["o-1"], 6)
        rig.reconcile()
        assert rig.updates("c1")[-1].status is S.EXECUTED
        assert [f.count for f in rig.log.of(Fill)] == [4, 6]
        assert rig.system.ask("order", GetPositions()) == {"T": 10}


def test_a_repeated_intent_is_sent_once() -> None:
    with order_rig() as rig:
        rig.send(intent("c1"), intent("c1"))
        assert rig.rest is not None and len(rig.rest.created) == 1


# -- a lost answer ----------------------------------------------------------------------------------


def test_a_lost_answer_blocks_its_market_until_reconciliation_finds_exactly_one_order() -> None:
    with order_rig(FakeRest(lose_answers=1)) as rig:
        rest = rig.rest
        assert rest is not None
        rig.send(intent("a", ticker="T"))
        assert rig.orders()["a"].status is S.UNKNOWN
        [unknown] = rig.updates("a")  # said, so the ledger and risk know (never "rejected")
        assert (unknown.status, unknown.reason) == (S.UNKNOWN, "order_outcome_unknown")
        rig.send(intent("b", ticker="T"), intent("c", ticker="U"))
        # b waits behind the unknown a; c, on another market, does not
        assert [r.client_order_id for r in rest.created] == ["a", "c"]
        assert rig.orders()["b"].status is S.PENDING
        rig.reconcile()
        at_exchange = [o for o in rest.orders.values() if o.client_order_id == "a"]
        assert len(at_exchange) == 1, "the lost create must not become two orders"
        tracked = rig.orders()["a"]
        assert (tracked.status, tracked.order_id) == (S.EXECUTED, at_exchange[0].order_id)
        # resolved, the held intent is sent — after a's resolution was published
        assert [r.client_order_id for r in rest.created] == ["a", "c", "b"]
        published = [u.client_order_id for u in rig.log.of(OrderUpdate)]
        assert published.index("a") < published.index("b")
        assert rig.orders()["b"].status is S.EXECUTED
        assert rig.log.of(Alert) == []  # a lost answer is not a halt


def test_a_create_that_never_arrived_fails_and_frees_its_market() -> None:
    with order_rig(FakeRest(lose_requests=1)) as rig:
        rig.send(intent("a"), intent("b"))
        assert rig.rest is not None and rig.rest.orders == {}
        rig.reconcile()  # not found 5 s on: it may still be on its way, so it stays unknown
        assert rig.orders()["a"].status is S.UNKNOWN and rig.orders()["b"].status is S.PENDING
        rig.reconcile()  # 10 s on (absent_after): not found is proof now
        unknown, failed = rig.updates("a")
        assert unknown.status is S.UNKNOWN
        assert (failed.status, failed.reason) == (S.FAILED, "not_at_exchange")
        assert rig.orders()["b"].status is S.EXECUTED
        assert [o.client_order_id for o in rig.rest.orders.values()] == ["b"]


def test_an_order_the_exchange_said_exists_but_never_shows_ends_once_its_market_is_over() -> None:
    """A 409 said the order exists, and no lookup finds it: not found is no proof while its
    market trades. Once the market has closed it can trade no more: ``canceled``, alerted."""
    with order_rig(FakeRest(claim_unfound=1)) as rig:
        close = rig.clock.now() + 30
        rig.system.tell("order", market("T", open_time=close - 900, close_time=close))
        rig.send(intent("a"))
        [unknown] = rig.updates("a")
        assert (unknown.status, unknown.reason) == (S.UNKNOWN, "exists_not_found")
        for _ in range(7):  # up to and past the close: still unknown, never failed
            rig.reconcile()
            assert rig.orders()["a"].status is S.UNKNOWN
        rig.reconcile()  # the market closed more than absent_after ago
        ended = rig.updates("a")[-1]
        assert (ended.status, ended.reason) == (S.CANCELED, "not_found_after_close")
        alert = next(a for a in rig.log.of(Alert) if a.alert_type == "not_found_after_close")
        assert alert.level == "warning" and "can trade no more" in alert.message


def test_a_held_intent_is_cancelled_if_its_market_closes_first() -> None:
    with order_rig(FakeRest(lose_answers=1)) as rig:
        close = rig.clock.now() + 5
        rig.system.tell("order", market("T", open_time=close - 900, close_time=close))
        rig.send(intent("a"), intent("b"))
        rig.clock.advance(1.0)  # close-watch: the market is within 10 s of its close
        quiesce(rig.system)
        [cancelled] = rig.updates("b")
        assert (cancelled.status, cancelled.reason) == (S.CANCELED, "not_sent")
        assert rig.rest is not None and [r.client_order_id for r in rig.rest.created] == ["a"]


def test_an_order_of_unknown_outcome_is_taken_over_after_a_crash() -> None:
    with order_rig(FakeRest(lose_answers=1)) as rig:
        rig.send(intent("a"))
        assert rig.orders()["a"].status is S.UNKNOWN
        rig.system.tell("order", CrashNow())
        settle(rig.system, rig.clock)
        assert rig.orders()["a"].status is S.EXECUTED  # the new incarnation looked it up
        assert rig.rest is not None and len(rig.rest.created) == 1


# -- halting ----------------------------------------------------------------------------------------


def test_a_410_halts_trading_with_an_alert_naming_the_cause() -> None:
    with order_rig(FakeRest(deprecated=True), real_risk=True) as rig:
        rest = rig.rest
        assert rest is not None
        rig.send(intent("a"))
        [rejected] = rig.updates("a")
        assert (rejected.status, rejected.reason) == (S.REJECTED, "deprecated_v1_order_endpoint")
        alert = next(a for a in rig.log.of(Alert) if a.alert_type == "deprecated_v1_order_endpoint")
        assert alert.level == "critical"
        assert alert.message.startswith("deprecated_v1_order_endpoint: Kalshi answered HTTP 410")
        status = rig.system.ask("risk", GetStatus())
        assert (status.trading_state, status.halt_reason) == (
            "halted",
            "deprecated_v1_order_endpoint",
        )
        assert "trigger_order_group" in rest.calls  # the exchange-side kill switch
        # the operator resets; the next approved order resets the group and goes out
        rest.deprecated = False
        rig.system.ask("risk", ResetCircuitBreaker())
        rig.send(intent("b"))
        assert rig.orders()["b"].status is S.EXECUTED
        assert rest.calls[-2:] == ["reset_order_group", "create_order"]
        assert [r.client_order_id for r in rest.created] == ["b"]


def test_intents_already_on_their_way_are_refused_until_risk_confirms_the_halt() -> None:
    with order_rig(FakeRest(deprecated=True)) as rig:
        rest = rig.rest
        assert rest is not None
        rig.send(intent("a"), intent("b"))
        [halt] = rig.told_risk.of(HaltTrading)
        assert halt.reason == "deprecated_v1_order_endpoint" and "410" in halt.message
        [refused] = rig.updates("b")
        assert (refused.status, refused.reason) == (S.REJECTED, "deprecated_v1_order_endpoint")
        assert rest.calls.count("create_order") == 1  # b never left
        rig.system.ask("order", CancelAllOrders("trading halted", halt=True))  # risk confirms
        rest.deprecated = False
        rig.send(intent("c"))
        assert rig.orders()["c"].status is S.EXECUTED


def test_a_malformed_answer_halts_and_the_order_is_still_resolved_by_lookup() -> None:
    with order_rig(FakeRest(malformed_answers=1)) as rig:
        rig.send(intent("a"))
        alert = next(a for a in rig.log.of(Alert) if a.alert_type == "malformed_order_answer")
        assert '"client_order_id": "a"' in alert.message  # the raw answer, for the operator
        assert [h.reason for h in rig.told_risk.of(HaltTrading)] == ["malformed_order_answer"]
        # the halt cancels every open order: the unknown one is looked up first (it may rest)
        assert [u.status for u in rig.updates("a")] == [S.UNKNOWN, S.EXECUTED]
        assert rig.rest is not None and len(rig.rest.created) == 1


def test_a_halt_from_risk_cancels_resting_orders_and_pulls_the_switch_once() -> None:
    rest = FakeRest(liquidity={"T": 0})
    with order_rig(rest) as rig:
        rig.send(intent("r", tif="good_till_canceled"))
        assert rig.system.ask("order", HaltTrading("circuit_breaker", "drawdown")) == 1
        quiesce(rig.system)
        assert rig.updates("r")[-1].status is S.CANCELED
        assert rest.calls.count("trigger_order_group") == 1
    assert rest.calls.count("trigger_order_group") == 1 and rest.closed  # halted already


def test_without_an_order_group_a_halt_cancels_only_our_own_orders() -> None:
    rest = FakeRest(liquidity={"T": 0}, refuse_groups=True)
    with order_rig(rest) as rig:
        assert [a.alert_type for a in rig.log.of(Alert)] == ["order_group_unavailable"]
        rig.send(intent("r", tif="good_till_canceled"))
        by_hand = models.OrderRequestV2(
            "T", "by-hand", "bid", D(5), D("0.20"), "good_till_canceled"
        )
        manual = rest.create_order(by_hand)  # a person's order on the same account
        assert rig.system.ask("order", HaltTrading("circuit_breaker", "drawdown")) == 1
        quiesce(rig.system)
        assert rig.updates("r")[-1].status is S.CANCELED
        assert rest.orders[manual.order_id].status == "resting"
    assert rest.orders[manual.order_id].status == "resting" and rest.closed
    assert "cancel_all_orders" not in rest.calls and "trigger_order_group" not in rest.calls


def test_shutdown_cancels_what_rests_and_pulls_the_kill_switch() -> None:
    rest = FakeRest(liquidity={"T": 0})
    with order_rig(rest) as rig:
        rig.send(intent("r", tif="good_till_canceled"))
        assert "trigger_order_group" not in rest.calls
    assert rest.orders["o-1"].status == "canceled"
    assert rest.calls[-2:] == ["cancel_order", "trigger_order_group"] and rest.closed


def test_resting_orders_found_at_the_exchange_are_adopted_on_start() -> None:
    rest = FakeRest(liquidity={"T": 0})
    rest.create_order(
        models.OrderRequestV2.for_intent(
            "T",
            "yes",
            "buy",
            D(3),
            D("0.30"),
            client_order_id="before",
            time_in_force="good_till_canceled",
        )
    )
    with order_rig(rest) as rig:
        adopted = rig.orders()["before"]
        assert (adopted.status, adopted.order_id, adopted.remaining) == (S.RESTING, "o-1", 3)
        assert rig.system.ask("order", CancelOrder("o-1")).client_order_id == "before"
        quiesce(rig.system)
        assert rig.updates("before")[-1].status is S.CANCELED


# -- paper ------------------------------------------------------------------------------------------


def test_paper_mode_fills_through_the_paper_broker() -> None:
    with order_rig(paper=True) as rig:
        rig.system.bus.publish(BOOK, book((("0.60", 5),)))  # YES asks 0.40 × 5
        quiesce(rig.system)
        rig.send(
            intent("a", count=3, price="0.40"),
            intent("g", count=4, price="0.38", tif="good_till_canceled"),
        )
        assert rig.updates("a")[-1].status is S.EXECUTED
        [fill] = rig.log.of(Fill)
        assert (fill.count, fill.price, fill.fee) == (3, D("0.40"), D("0.0504"))
        assert rig.updates("g")[-1].status is S.RESTING
        rig.system.bus.publish(BOOK, book((("0.62", 10),)))  # YES asks 0.38: g trades
        quiesce(rig.system)
        assert rig.updates("g")[-1].status is S.EXECUTED
        assert rig.system.ask("order", GetPositions()) == {"T": 7}
        rig.system.bus.publish(MARKETS, MarketLifecycle("T", "settled", rig.clock.now(), "yes"))
        quiesce(rig.system)
        [settlement] = rig.log.of(Settlement)
        assert (settlement.yes_contracts, settlement.payout) == (7, D(7))


def test_paper_halt_refuses_nothing_that_risk_approved_after_it() -> None:
    with order_rig(paper=True) as rig:
        rig.system.bus.publish(BOOK, book((("0.60", 5),)))
        quiesce(rig.system)
        rig.send(intent("r", count=2, price="0.30", tif="good_till_canceled"))
        rig.system.ask("order", CancelAllOrders("circuit breaker", halt=True))
        quiesce(rig.system)
        assert rig.updates("r")[-1].status is S.CANCELED
        rig.send(intent("exit", count=1, price="0.40"))  # approved by risk after the halt
        assert rig.updates("exit")[-1].status is S.EXECUTED
