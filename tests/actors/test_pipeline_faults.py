"""Faults in the trading pipeline, checked against the exchange itself.

The trading subtree (risk → order, ``rest_for_one``), the market-data actors and a
deterministic signal source run against the in-process simulator (the real client,
over HTTP and a WebSocket on 127.0.0.1). Each actor is crashed mid-trade — between
signals, and with intents queued in the order actor's mailbox — and afterwards the
exchange's own records must show no duplicate order, no lost or double-booked fill,
and limits that still hold.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from decimal import Decimal as D

import pytest

from actors.market_stream import watcher_name
from messages.market_data import BookUpdate, MarketInfo
from messages.queries import GetOrders, GetPositions, GetStats
from messages.status import Alert
from messages.trading import Fill, OrderIntent, OrderUpdate, Signal
from risk.engine import Reason
from risk.exposure import order_cost
from risk.limits import RiskLimits
from runtime.faults import crash
from tests.actors.pipeline_rig import (
    SIGNAL_SOURCE,
    SMALL_LIMITS,
    Fire,
    Pipeline,
    exchange_paused,
    running_pipeline,
)

LIMITS = SMALL_LIMITS
VICTIMS = ("order", "risk", "stream", "watcher", "spot", "discovery", SIGNAL_SOURCE)


def _address(p: Pipeline, victim: str) -> str:
    return watcher_name(p.ticker) if victim == "watcher" else victim


def _signals(p: Pipeline) -> list[Signal]:
    return p.log.of(Signal)


def _recover(p: Pipeline, victim: str) -> None:
    """Let market data flow again after a crash of ``victim``."""
    if victim == "stream":
        # Work-around for the bug test_books_resume_after_a_stream_crash documents: a new
        # stream does not resubscribe the books of live markets; a watcher restart does.
        crash(p.system, watcher_name(p.ticker))
        p.settle()
    p.fresh_market_data()


def _ask_price(p: Pipeline) -> D:
    books = [u for u in p.log.of(BookUpdate) if u.ticker == p.ticker and not u.stale]
    price = books[-1].yes_ask
    assert price is not None
    return price


def _fee_multiplier(p: Pipeline) -> D:
    info = [m for m in p.log.of(MarketInfo) if m.ticker == p.ticker][-1]
    return info.fee_multiplier if info.fee_multiplier is not None else D(1)


def _most_affordable(p: Pipeline, price: D, budget: D, cap: int = 50) -> int:
    """The most contracts whose worst-case cost (limit price plus taker fee) fits ``budget``."""
    fee_multiplier = _fee_multiplier(p)
    return max(n for n in range(cap + 1) if order_cost(price, n, fee_multiplier) <= budget)


def check_books(p: Pipeline) -> None:
    """The bot's records against the exchange's: orders, fills, positions, reservations."""
    p.quiesce()
    # every signal was decided once, and every approval became one intent
    signals = _signals(p)
    decisions = Counter(d.signal_id for d in p.decisions())
    assert set(decisions) == {s.signal_id for s in signals}
    assert all(n == 1 for n in decisions.values()), decisions
    intents = p.intents()
    coids = [i.client_order_id for i in intents]
    assert len(set(coids)) == len(coids)
    assert len(intents) == sum(1 for d in p.decisions() if d.approved)

    # no duplicate order: each client_order_id is at most one exchange order, and every
    # intent reached the exchange once, unless the exchange refused it
    orders = p.exchange_orders()
    at_exchange = Counter(o.client_order_id for o in orders)
    assert all(n == 1 for n in at_exchange.values()), at_exchange
    refused = {  # refused by the exchange, or found never to have reached it
        u.client_order_id for u in p.log.of(OrderUpdate) if u.status in ("rejected", "failed")
    }
    assert set(at_exchange) == set(coids) - refused
    assert len(orders) == len(coids) - len(refused & set(coids))

    # no lost fill: every exchange fill is published, booked once by the order actor
    # (its positions add each fill once) and once by risk (positions and cost)
    p.wait_fills_published()
    fills = p.exchange_fills()
    assert {f.trade_id for f in p.log.of(Fill)} == {f.fill_id for f in fills}
    stats = p.system.ask("order", GetStats(), timeout=10)
    assert stats["fills"] == len(fills)
    exchange = p.exchange_positions()
    order_positions = p.system.ask("order", GetPositions(), timeout=10)
    assert {t: n for t, n in order_positions.items() if n} == {
        t: int(pos) for t, (pos, _) in exchange.items()
    }
    status = p.risk_status()
    risk_positions = {
        q.ticker: (q.contracts if q.side == "yes" else -q.contracts, q.cost)
        for q in status.positions
    }
    assert risk_positions == {t: (int(pos), cost) for t, (pos, cost) in exchange.items()}
    # immediate-or-cancel orders have all ended: nothing may stay reserved
    assert status.reserved == 0


def _check_limit_still_holds(p: Pipeline) -> None:
    """A signal that would pass MAX_POSITION_SIZE, given what is held, is cut to fit."""
    held = p.exchange_positions().get(p.ticker, (D(0), D(0)))[1]
    assert held > 0, "the scenario should hold a position before the big signal"
    price = _ask_price(p)
    expected = _most_affordable(p, price, LIMITS.max_position_size - held)
    assert expected < 50
    [signal] = p.fire(Fire(p.ticker, quantity=50, price=price))
    decision = p.decision_for(signal)
    if expected == 0:
        assert not decision.approved and decision.reason == Reason.POSITION_LIMIT
    else:
        assert decision.approved and decision.quantity == expected, (decision, expected)
        cost = order_cost(price, decision.quantity, _fee_multiplier(p))
        assert held + cost <= LIMITS.max_position_size
    check_books(p)
    assert p.exchange_positions()[p.ticker][1] <= LIMITS.max_position_size


def _wait_decided(p: Pipeline, count: int) -> None:
    p.log.wait_until(
        lambda: (
            len(_signals(p)) >= count
            and {s.signal_id for s in _signals(p)} <= {d.signal_id for d in p.decisions()}
        ),
        what=f"{count} signals decided",
    )


def _wait_intent(p: Pipeline, count: int) -> None:
    """The ``count``-th signal has become an intent (told to the order actor)."""
    p.log.wait_until(lambda: len(_signals(p)) >= count, what=f"signal {count}")
    wanted = _signals(p)[count - 1].signal_id
    p.log.wait_until(
        lambda: any(i.signal_id == wanted for i in p.log.of(OrderIntent)),
        what=f"the intent of signal {wanted}",
    )


@pytest.mark.parametrize("victim", VICTIMS)
def test_a_crash_mid_trade_doubles_no_order_and_loses_no_fill(victim: str) -> None:
    with running_pipeline(LIMITS) as p:
        name = _address(p, victim)

        # 1. a trade, then a crash between signals
        [first] = p.fire(Fire(p.ticker, quantity=2))
        assert p.decision_for(first).approved
        p.wait_fills_published()
        crash(p.system, name)
        p.settle()
        p.advance(5)  # one reconciliation pass
        check_books(p)

        # 2. a crash while intents wait in the order actor's mailbox: the exchange is held,
        # so the order actor is stuck sending the first order while the next two queue;
        # two more signals follow the crash (for the order actor: behind it in its mailbox)
        _recover(p, victim)
        price = _ask_price(p)
        before = len(_signals(p))
        with exchange_paused(p.sim):
            p.system.tell(SIGNAL_SOURCE, Fire(p.ticker, quantity=1, price=price))
            _wait_intent(p, before + 1)
            p.system.tell(SIGNAL_SOURCE, Fire(p.ticker, quantity=1, times=2, price=price))
            _wait_intent(p, before + 3)
            crash(p.system, name)
            p.system.tell(SIGNAL_SOURCE, Fire(p.ticker, quantity=1, times=2, price=price))
            if victim not in ("risk", SIGNAL_SOURCE):  # those two decide only after a restart
                _wait_decided(p, before + 5)
        p.settle()
        _wait_decided(p, before + 5)
        p.settle()
        p.advance(5)
        check_books(p)

        # 3. limits still hold after the restart (risk rebuilt its exposure if it restarted)
        _recover(p, victim)
        _check_limit_still_holds(p)


# -- a lost acknowledgement ----------------------------------------------------------------


@pytest.mark.parametrize("mode", ["close", "500"])
def test_a_lost_acknowledgement_creates_one_order_that_the_order_actor_knows(mode: str) -> None:
    with running_pipeline(LIMITS) as p:
        p.sim.faults.update(lost_response_next=1, lost_response_mode=mode)
        [signal] = p.fire(Fire(p.ticker, quantity=2))
        assert p.decision_for(signal).approved
        p.quiesce()
        assert p.sim.faults.snapshot().lost_response_next == 0, "the response was not lost"
        [intent] = [i for i in p.intents() if i.signal_id == signal.signal_id]
        coid = intent.client_order_id
        created = [o for o in p.exchange_orders() if o.client_order_id == coid]
        assert len(created) == 1, "the retry created a second order"
        tracked = p.system.ask("order", GetOrders(), timeout=10)[coid]
        assert tracked.order_id == created[0].order_id
        assert tracked.status == created[0].status and tracked.filled == int(created[0].fill_count)
        check_books(p)
        fills = [f for f in p.exchange_fills() if f.client_order_id == coid]
        assert fills and sum(f.count for f in fills) == created[0].fill_count
        booked = [f for f in p.log.of(Fill) if f.client_order_id == coid]
        assert sorted(f.trade_id for f in booked) == sorted(f.fill_id for f in fills)


# -- the exchange changes under us: a retired endpoint, an answer without an order id ----------


def test_a_retired_order_endpoint_halts_trading_with_an_alert_naming_it() -> None:
    with running_pipeline(LIMITS) as p:
        p.sim.faults.update(retired_create_next=1)
        [signal] = p.fire(Fire(p.ticker, quantity=1))
        assert p.decision_for(signal).approved
        p.quiesce()
        alert = p.log.wait_for(Alert, lambda a: a.alert_type == "deprecated_order_endpoint")
        assert alert.level == "critical" and "410" in alert.message
        [intent] = [i for i in p.intents() if i.signal_id == signal.signal_id]
        [update] = [u for u in p.updates(intent.client_order_id) if u.status == "rejected"]
        assert update.reason == "deprecated_order_endpoint"
        status = p.risk_status()
        assert status.trading_state == "halted"
        assert status.halt_reason == "deprecated_order_endpoint"
        assert status.reserved == 0
        # trading stays halted: the next signal is refused by risk, nothing reaches Kalshi
        [again] = p.fire(Fire(p.ticker, quantity=1))
        assert not p.decision_for(again).approved
        assert p.exchange_orders() == []


def test_a_create_answered_without_an_order_id_halts_and_resolves_to_one_order() -> None:
    with running_pipeline(LIMITS, reconcile_interval=1.0) as p:
        p.sim.faults.update(malformed_create_next=1)
        [signal] = p.fire(Fire(p.ticker, quantity=2))
        assert p.decision_for(signal).approved
        p.quiesce()
        alert = p.log.wait_for(Alert, lambda a: a.alert_type == "malformed_order_answer")
        assert alert.level == "critical"
        assert p.risk_status().trading_state == "halted"
        [intent] = [i for i in p.intents() if i.signal_id == signal.signal_id]
        coid = intent.client_order_id
        p.advance(2)  # the reconciliation finds it by client_order_id
        p.log.wait_until(
            lambda: any(u.order_id is not None for u in p.updates(coid)),
            what="the order to be found",
        )
        p.quiesce()
        [created] = [o for o in p.exchange_orders() if o.client_order_id == coid]
        tracked = p.system.ask("order", GetOrders(), timeout=10)[coid]
        assert (tracked.order_id, tracked.status) == (created.order_id, created.status)
        check_books(p)


def test_the_exchange_side_kill_switch_caps_the_session_and_halts_it() -> None:
    with running_pipeline(WIDE_LIMITS, order_group_contracts=3) as p:
        [signal] = p.fire(Fire(p.ticker, quantity=5, price=D("0.99")))  # sweeps the asks
        assert p.decision_for(signal).approved
        alert = p.log.wait_for(Alert, lambda a: a.alert_type == "order_group_triggered")
        assert alert.level == "critical" and "3 contracts" in alert.message
        p.quiesce()
        [intent] = [i for i in p.intents() if i.signal_id == signal.signal_id]
        [order] = [o for o in p.exchange_orders() if o.client_order_id == intent.client_order_id]
        assert order.fill_count == 3 and order.status == "canceled"  # the exchange cut it
        status = p.risk_status()
        assert (status.trading_state, status.halt_reason) == ("halted", "order_group_triggered")
        [again] = p.fire(Fire(p.ticker, quantity=1))
        assert not p.decision_for(again).approved
        check_books(p)


# -- an order whose outcome is unknown when the order actor crashes --------------------------

WIDE_LIMITS = RiskLimits(
    max_position_size=D(30),
    max_daily_loss=D(100),
    circuit_breaker_pct=D("0.5"),
    max_concurrent_positions=2,
    min_edge=D("0.03"),
)


@pytest.mark.parametrize("created", [False, True], ids=["never-created", "created-part-filled"])
def test_an_order_of_unknown_outcome_is_resolved_after_an_order_actor_crash(
    created: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Create Order and the lookup after it both fail: the order actor cannot tell whether
    the order exists. It crashes before its reconciliation finds out; the next one must
    still settle the order, or risk keeps its reservation (exposure) forever."""
    with running_pipeline(WIDE_LIMITS) as p:
        faults = p.sim.faults
        if created:
            # Made and partly filled (more than the best level), its answer lost; then the
            # three retries and the four lookups fail. The 5xx are armed on the server loop
            # the moment the answer is lost, so no request can slip in between.
            lose = faults.take_lost_response

            def lose_then_fail() -> bool:
                lost = lose()
                if lost:
                    faults.update(error_5xx_next=3 + 4)
                return lost

            monkeypatch.setattr(faults, "take_lost_response", lose_then_fail)
            faults.update(lost_response_next=1)
            quantity = 40
        else:  # every attempt refused before it reaches the book, and every lookup too
            faults.update(error_5xx_next=4 + 4)
            quantity = 3
        [signal] = p.fire(Fire(p.ticker, quantity=quantity))
        decision = p.decision_for(signal)
        assert decision.approved
        p.quiesce()
        assert p.sim.faults.snapshot().error_5xx_next == 0
        [intent] = [i for i in p.intents() if i.signal_id == signal.signal_id]
        coid = intent.client_order_id
        at_exchange = [o for o in p.exchange_orders() if o.client_order_id == coid]
        assert len(at_exchange) == (1 if created else 0)
        status = p.system.ask("order", GetOrders(), timeout=10)[coid].status
        if created:  # the user_orders stream may already have told the order actor
            assert 0 < at_exchange[0].fill_count < quantity
            assert status in ("unknown", at_exchange[0].status)
        else:
            assert status == "unknown"
            assert p.risk_status().reserved > 0

        crash(p.system, "order")
        p.settle()
        # reconciliation passes of the new incarnation; not found is proof of absence only
        # once no attempt can still arrive (absent_after, 10 s)
        p.advance(10)
        p.quiesce()
        assert p.risk_status().reserved == 0, "risk still reserves for the forgotten order"
        check_books(p)
        assert p.risk_status().exposure == sum(
            (cost for _, cost in p.exchange_positions().values()), D(0)
        )


# -- more fills than one page ------------------------------------------------------------------

BUSY_LIMITS = RiskLimits(
    max_position_size=D(1000),
    max_daily_loss=D(1000),
    circuit_breaker_pct=D("0.9"),
    max_concurrent_positions=2,
    min_edge=D("0.03"),
    max_orders_per_minute=1000,
)


def test_a_restarted_order_actor_reads_every_fill_not_just_the_first_page() -> None:
    """The exchange pages its fills (200 a page here): a restarted order actor must rebuild
    its positions (which price settlements) from all of them."""
    with running_pipeline(BUSY_LIMITS) as p:
        for batch in range(8):  # ~240 one-contract orders that sweep the book, both sides
            side = "yes" if batch % 2 == 0 else "no"
            p.system.tell(
                SIGNAL_SOURCE,
                Fire(p.ticker, quantity=1, times=30, direction=side, price=D("0.99")),
            )
            _wait_decided(p, 30 * (batch + 1))
            p.quiesce()
            p.advance(1)  # the makers requote what was taken
        p.wait_fills_published()
        assert len(p.exchange_fills()) > 200
        check_books(p)

        crash(p.system, "order")
        p.settle()
        check_books(p)


# -- an exchange rejection -----------------------------------------------------------------


def _bad_price(p: Pipeline) -> tuple[D, Callable[[], None]]:
    return D("0.505"), lambda: None  # from 0.10 to 0.90 prices are whole cents


def _no_balance(p: Pipeline) -> tuple[D, Callable[[], None]]:
    user = p.sim.user_id
    balance = p.sim.balance()

    def set_balance(value: D) -> None:
        def change(ex: object) -> None:
            ex.accounts[user].balance = value  # type: ignore[attr-defined]

        p.sim.call(change)

    set_balance(D(0))  # behind the bot's back: risk still counts its cash
    return _ask_price(p), lambda: set_balance(balance)


@pytest.mark.parametrize(
    ("case", "code"),
    [("bad_price", "invalid_price"), ("no_balance", "insufficient_balance")],
)
def test_an_exchange_rejection_is_recorded_with_its_code_and_frees_the_exposure(
    case: str, code: str
) -> None:
    arrange = {"bad_price": _bad_price, "no_balance": _no_balance}[case]
    with running_pipeline(LIMITS) as p:
        price, restore = arrange(p)
        # big enough that, were its reservation kept, the next one could not fit
        quantity = _most_affordable(p, price, LIMITS.max_position_size)
        [signal] = p.fire(Fire(p.ticker, quantity=quantity, price=price))
        decision = p.decision_for(signal)
        assert decision.approved and decision.quantity == quantity
        p.quiesce()
        [intent] = [i for i in p.intents() if i.signal_id == signal.signal_id]
        coid = intent.client_order_id
        [update] = [u for u in p.updates(coid) if u.status == "rejected"]
        assert update.reason == code
        tracked = p.system.ask("order", GetOrders(), timeout=10)[coid]
        assert (tracked.status, tracked.reason) == ("rejected", code)
        assert not [o for o in p.exchange_orders() if o.client_order_id == coid]
        status = p.risk_status()
        assert status.reserved == 0 and status.exposure == 0
        check_books(p)

        restore()
        price = _ask_price(p)
        quantity = _most_affordable(p, price, LIMITS.max_position_size)
        [again] = p.fire(Fire(p.ticker, quantity=quantity, price=price))
        assert p.decision_for(again).quantity == quantity, "the rejected order still holds room"
        check_books(p)


# -- a stream crash, and a halt across a restart of risk ------------------------------------


def test_books_resume_after_a_stream_crash() -> None:
    with running_pipeline(LIMITS) as p:
        crash(p.system, "stream")
        p.settle()
        p.fresh_market_data(timeout=3.0)


def test_a_halt_survives_a_restart_of_risk() -> None:
    """The restarted RiskActor takes the halt (and the day's P&L) back from the ledger."""
    touchy = RiskLimits(
        max_position_size=D(6),
        max_daily_loss=D(100),
        circuit_breaker_pct=D("0.00001"),  # ten cents of $10,000: the fee trips it
        max_concurrent_positions=2,
        min_edge=D("0.03"),
    )
    with running_pipeline(touchy) as p:
        [signal] = p.fire(Fire(p.ticker, quantity=5))
        assert p.decision_for(signal).approved
        p.wait_fills_published()
        status = p.risk_status()
        assert status.trading_state == "halted" and status.circuit_breaker_triggered
        crash(p.system, "risk")
        p.settle()
        status = p.risk_status()
        assert status.trading_state == "halted" and status.circuit_breaker_triggered


# -- intents held up behind a slow create --------------------------------------------------


def test_intents_approved_behind_a_slow_create_are_not_sent_once_too_old() -> None:
    """The order actor sends one order at a time: while one create hangs, intents approved
    meanwhile wait in its mailbox. Older than MAX_INTENT_AGE_SECONDS when their turn comes,
    they are not sent — their prices have moved on — but recorded, their reservation freed."""
    with running_pipeline(LIMITS) as p:
        price = _ask_price(p)
        before = len(_signals(p))
        with exchange_paused(p.sim):
            p.system.tell(SIGNAL_SOURCE, Fire(p.ticker, quantity=1, price=price))
            _wait_intent(p, before + 1)  # the order actor is stuck sending it
            p.system.tell(SIGNAL_SOURCE, Fire(p.ticker, quantity=1, times=2, price=price))
            _wait_intent(p, before + 3)
            assert p.risk_status().reserved > 0
            p.clock.advance(2.5)  # the create hangs on: the two behind it age past 2 s
        p.quiesce()
        first, *late = p.intents()[-3:]
        assert [o.client_order_id for o in p.exchange_orders()] == [first.client_order_id]
        for intent in late:
            [update] = p.updates(intent.client_order_id)
            assert (update.status, update.reason) == ("failed", "stale_intent")
        p.wait_fills_published()
        assert p.risk_status().reserved == 0
        check_books(p)
