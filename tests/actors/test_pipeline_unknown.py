"""Unknown means unknown: an order whose create's outcome the bot cannot learn, end to end
against the simulator's fault knobs. It is never taken for ``rejected`` or ``failed`` while
the exchange may hold it; it keeps its reservation and blocks its market, reconciliation
resolves it by ``client_order_id``, and one that turns out to rest is cancelled before its
market closes.

The ``user_orders`` and ``fill`` streams are off here (``private_channels=False``), as when
they are down: they would otherwise tell the order actor what its answers did not.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal as D

import pytest

from execution.tracker import TrackedOrder
from kalshi.auth import Signer
from kalshi.connection import ExchangeConnection
from kalshi.rest import KalshiRestClient
from messages.market_data import BookUpdate, MarketInfo
from messages.queries import GetOrders
from messages.vocabulary import OrderStatus
from runtime.faults import crash
from simulator.orders import OrderSnapshot
from simulator.testing import SimHandle
from tests.actors.pipeline_rig import Fire, Pipeline, running_pipeline
from tests.actors.test_pipeline_faults import WIDE_LIMITS, check_books

S = OrderStatus
NEVER = 10_000.0  # a reconciliation interval that does not come within a test


def _coid(p: Pipeline, signal_id: str) -> str:
    [intent] = [i for i in p.intents() if i.signal_id == signal_id]
    return intent.client_order_id


def _statuses(p: Pipeline, coid: str) -> list[str]:
    return [u.status for u in p.updates(coid)]


def _tracked(p: Pipeline, coid: str) -> TrackedOrder:
    tracked: TrackedOrder = p.system.ask("order", GetOrders(), timeout=10)[coid]
    return tracked


def _at_exchange(p: Pipeline, coid: str) -> list[OrderSnapshot]:
    return [o for o in p.exchange_orders() if o.client_order_id == coid]


def test_a_409_whose_lookup_finds_nothing_stays_unknown_until_found() -> None:
    """The create's answer is lost; its retry hears 409 "already exists", and the lookup
    that follows (and the next three) find nothing. The exchange said it exists: it stays
    unknown — not ``rejected``, not ``failed`` — until a lookup finds it. (Immediate or
    cancel, below the book: it ends at once, unfilled, so no fill names it meanwhile.)"""
    with running_pipeline(WIDE_LIMITS, private_channels=False) as p:
        p.sim.faults.update(lost_response_next=1, lost_response_mode="close", hide_orders_next=4)
        [signal] = p.fire(Fire(p.ticker, quantity=3, price=_below_the_book(p)))
        assert p.decision_for(signal).approved
        p.quiesce()
        coid = _coid(p, signal.signal_id)
        [created] = _at_exchange(p, coid)
        assert (created.status, created.fill_count) == ("canceled", 0)
        [unknown] = p.updates(coid)
        assert (unknown.status, unknown.reason) == (S.UNKNOWN, "exists_not_found")
        assert p.risk_status().reserved > 0  # its reservation is kept
        for _ in range(3):  # reconciliations that still cannot see it prove nothing
            p.advance(5)
            p.quiesce()
            assert _tracked(p, coid).status is S.UNKNOWN
            assert p.risk_status().reserved > 0
        assert p.sim.faults.snapshot().hide_orders_next == 0
        p.advance(5)  # now the lookup finds it
        p.quiesce()
        tracked = _tracked(p, coid)
        assert (tracked.status, tracked.order_id) == (S.CANCELED, created.order_id)
        assert _statuses(p, coid) == [S.UNKNOWN, S.CANCELED]
        check_books(p)


def test_a_fill_of_an_order_of_unknown_outcome_resolves_it_by_its_exchange_id() -> None:
    """Not found by lookup, but it traded: the fill the reconciliation reads names its
    exchange id, and the order is read by that id — never marked ``failed`` on the way."""
    with running_pipeline(WIDE_LIMITS, private_channels=False) as p:
        p.sim.faults.update(lost_response_next=1, lost_response_mode="close", hide_orders_next=9)
        [signal] = p.fire(Fire(p.ticker, quantity=3))
        assert p.decision_for(signal).approved
        p.quiesce()
        coid = _coid(p, signal.signal_id)
        [created] = _at_exchange(p, coid)
        assert created.status == "executed"
        p.advance(5)  # the reconciliation reads the fills: one names the order
        p.quiesce()
        tracked = _tracked(p, coid)
        assert (tracked.status, tracked.order_id) == (S.EXECUTED, created.order_id)
        assert _statuses(p, coid) == [S.UNKNOWN, S.EXECUTED]
        check_books(p)


def _below_the_book(p: Pipeline) -> D:
    books = [u for u in p.log.of(BookUpdate) if u.ticker == p.ticker and u.yes_bid]
    bid = books[-1].yes_bid
    assert bid is not None
    return bid - D("0.05")


@dataclass(frozen=True)
class _Impatient(ExchangeConnection):
    """The order actor's client gives each request 0.3 s and a create 1.5 s in all."""

    def rest(
        self, *, presign_orders: bool = False, timeout: float = 5.0, max_attempts: int = 4
    ) -> KalshiRestClient:
        if not presign_orders:
            return super().rest(timeout=timeout, max_attempts=max_attempts)
        return KalshiRestClient(
            self.api_base,
            self.signer,
            rate_limit=False,
            presign_orders=True,
            timeout=0.3,
            create_deadline=1.5,
        )


def test_a_create_whose_every_attempt_times_out_after_an_uncertain_one_is_unknown_then_found(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The first attempt makes the order and its answer is lost; every later attempt and
    the lookup time out (the exchange slows down at that moment). The order exists: the
    bot says ``unknown`` until reconciliation finds it, and never sends a second one."""

    def impatient(sim: SimHandle, signer: Signer) -> ExchangeConnection:
        return _Impatient(sim.api_base, sim.ws_url, signer, rate_limited=False)

    with running_pipeline(WIDE_LIMITS, private_channels=False, make_connection=impatient) as p:
        faults = p.sim.faults
        lose = faults.take_lost_response

        def lose_then_stall() -> bool:
            lost = lose()
            if lost:  # armed on the server's loop: no request slips in between
                faults.update(latency_ms=600)
            return lost

        monkeypatch.setattr(faults, "take_lost_response", lose_then_stall)
        faults.update(lost_response_next=1, lost_response_mode="close")
        [signal] = p.fire(Fire(p.ticker, quantity=2))
        assert p.decision_for(signal).approved
        p.quiesce()
        coid = _coid(p, signal.signal_id)
        [unknown] = p.updates(coid)
        assert (unknown.status, unknown.reason) == (S.UNKNOWN, "order_outcome_unknown")
        assert p.risk_status().reserved > 0
        faults.update(latency_ms=0)
        p.advance(5)
        p.quiesce()
        [created] = _at_exchange(p, coid)  # exactly one order, whatever the retries did
        assert _tracked(p, coid).status == created.status == "executed"
        assert _statuses(p, coid) == [S.UNKNOWN, S.EXECUTED]
        check_books(p)


def test_an_unknown_order_that_rests_is_cancelled_before_its_market_closes() -> None:
    """A resting order whose answer was lost (and whose lookup missed it) must not be left
    on the book into the close: the close watch looks it up and cancels it."""
    with running_pipeline(
        WIDE_LIMITS,
        private_channels=False,
        time_in_force="good_till_canceled",
        reconcile_interval=NEVER,
    ) as p:
        p.sim.faults.update(lost_response_next=1, lost_response_mode="close", hide_orders_next=1)
        [signal] = p.fire(Fire(p.ticker, quantity=2, price=_below_the_book(p)))
        assert p.decision_for(signal).approved
        p.quiesce()
        coid = _coid(p, signal.signal_id)
        [resting] = _at_exchange(p, coid)
        assert resting.status == "resting"
        assert _tracked(p, coid).status is S.UNKNOWN
        info = [m for m in p.log.of(MarketInfo) if m.ticker == p.ticker][-1]
        p.advance(info.close_time - p.clock.now() - 8)  # inside the 10 s before the close
        p.quiesce()
        [order] = _at_exchange(p, coid)
        assert p.sim.now() < info.close_time
        assert order.status == "canceled", "left resting into the close"
        assert _tracked(p, coid).status is S.CANCELED
        assert _statuses(p, coid) == [S.UNKNOWN, S.RESTING, S.CANCELED]
        assert p.risk_status().reserved == 0


def test_an_order_of_unknown_outcome_keeps_its_reservation_across_a_restart_of_risk() -> None:
    """Risk rebuilds its reservations from the exchange's resting orders: one the exchange
    cannot show yet would be forgotten, and its cost could be spent twice."""
    with running_pipeline(WIDE_LIMITS, private_channels=False) as p:
        # hidden from the create's lookup, the restarts' reads and a few reconciliations
        p.sim.faults.update(lost_response_next=1, lost_response_mode="close", hide_orders_next=7)
        [signal] = p.fire(Fire(p.ticker, quantity=3, price=_below_the_book(p)))
        assert p.decision_for(signal).approved
        p.quiesce()
        coid = _coid(p, signal.signal_id)
        held = p.risk_status().reserved
        assert held > 0
        crash(p.system, "risk")  # rest_for_one: the order actor restarts after it
        p.settle()
        for _ in range(5):
            if _tracked(p, coid).status is not S.UNKNOWN:
                break
            assert p.risk_status().reserved == held
            p.advance(5)
            p.quiesce()
        assert p.sim.faults.snapshot().hide_orders_next == 0
        assert _tracked(p, coid).status is S.CANCELED
        assert p.risk_status().reserved == 0  # found: it ended unfilled, and its reservation
        check_books(p)
