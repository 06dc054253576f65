"""The RiskActor's limits at the actor level: random signal bursts from two strategies,
the circuit breaker and every rejection reason, with a fake order actor that answers
intents the way the exchange would (fills at the limit price, Kalshi's taker fee)."""

from __future__ import annotations

import itertools
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal as D
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from actors.risk import RiskActor
from kalshi.fees import taker_fee
from messages.control import CancelAllOrders, ResetCircuitBreaker, StartTrading, StopTrading
from messages.market_data import BookUpdate, ExchangeState, MarketInfo, SpotTick
from messages.queries import GetStatus
from messages.status import Alert, RiskStatus
from messages.trading import Fill, OrderIntent, OrderUpdate, RiskDecision, Signal
from messages.vocabulary import OrderStatus
from risk.engine import RATE_WINDOW_SECONDS, Reason
from risk.exposure import order_cost, other_side
from risk.limits import RiskLimits
from runtime.actor import ActorContext, SupervisedActor
from runtime.bus import ALERTS, FILLS, ORDERS, SIGNALS, STATUS
from runtime.clock import SimClock
from runtime.quiescence import quiesce
from runtime.restart_policy import Backoff, Strategy
from runtime.supervisor import ChildSpec, SupervisorSpec
from runtime.system import ActorSystem
from tests.actors.probe import Probe, ProbeLog

START = 1_780_000_200.0
T1 = "KXSOL15M-26MAY281645-45"
T2 = "KXSOL15M-26MAY281700-00"
T3 = "KXSOL15M-26MAY281715-15"
TICKERS = (T1, T2, T3)
STRATEGIES = ("kelly_volatility", "mean_reversion")
REASONS = {
    value
    for name, value in vars(Reason).items()
    if not name.startswith("_") and isinstance(value, str)
}
NO_BACKOFF = Backoff(initial=0.0, maximum=0.0, jitter=0.0)


# -- the fake order actor --------------------------------------------------------------------


@dataclass
class FakeOrder:
    intent: OrderIntent
    status: str = "pending"
    filled: int = 0
    remaining: int = 0


@dataclass
class Desk:
    """What the fake order actor did, shared with the test thread (survives restarts).

    ``plan`` says, per signal id, how the "exchange" answers its order:
    ``fill`` (all, fill before the update), ``fill_late`` (the update first),
    ``partial`` (about half, the rest of the IOC cancelled), ``rest`` (it rests),
    ``reject`` (refused, with Kalshi's code).
    """

    plan: dict[str, str] = field(default_factory=dict)
    orders: dict[str, FakeOrder] = field(default_factory=dict)
    fills: list[Fill] = field(default_factory=list)
    positions: dict[str, int] = field(default_factory=dict)  # signed: YES > 0
    cancels: list[CancelAllOrders] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def resting(self) -> list[FakeOrder]:
        with self.lock:
            return [o for o in self.orders.values() if o.status == "resting"]


@dataclass(frozen=True, slots=True)
class FillResting:
    """Test message: every resting order trades in full now."""


class FakeOrderActor(SupervisedActor):
    """Stands in for the OrderActor at "order": a SupervisedActor, no mocks."""

    def __init__(self, context: ActorContext, desk: Desk) -> None:
        super().__init__(context)
        self.desk = desk
        self._trades = itertools.count(1)

    def handle(self, message: Any) -> Any:
        if isinstance(message, OrderIntent):
            self._on_intent(message)
        elif isinstance(message, CancelAllOrders):
            with self.desk.lock:
                self.desk.cancels.append(message)
            for order in self.desk.resting():
                order.status = "canceled"
                self._update(order)
        elif isinstance(message, FillResting):
            for order in self.desk.resting():
                self._trade(order, order.remaining)
                order.status = "executed"
                self._update(order)
        else:
            return super().handle(message)
        return None

    def _on_intent(self, intent: OrderIntent) -> None:
        order = FakeOrder(intent, remaining=intent.count)
        with self.desk.lock:
            assert intent.client_order_id not in self.desk.orders, "an intent arrived twice"
            self.desk.orders[intent.client_order_id] = order
            behaviour = self.desk.plan.get(intent.signal_id, "fill")
        if behaviour == "reject":
            order.status = "rejected"
            self._update(order, reason="insufficient_balance")
            return
        if behaviour == "rest":
            order.status = "resting"
            self._update(order)
            return
        count = intent.count
        if intent.reduce_only:  # as the exchange does: a reduce-only sell closes what is held
            held = self.desk.positions.get(intent.ticker, 0)
            held = max(held, 0) if intent.side == "yes" else max(-held, 0)
            count = min(count, held)
        if behaviour == "partial":
            count = count // 2
        if behaviour == "fill_late":
            order.status = "executed" if count == intent.count else "canceled"
            order.filled, order.remaining = count, 0
            self._update(order)
            self._fill(order, count)
            return
        self._trade(order, count)
        order.status = "executed" if order.filled == intent.count else "canceled"
        self._update(order)

    def _trade(self, order: FakeOrder, count: int) -> None:
        order.filled += count
        order.remaining -= count
        self._fill(order, count)

    def _fill(self, order: FakeOrder, count: int) -> None:
        if count <= 0:
            return
        intent = order.intent
        fill = Fill(
            trade_id=f"trade-{self.context.incarnation}-{next(self._trades)}",
            order_id=f"ex-{intent.client_order_id}",
            client_order_id=intent.client_order_id,
            ticker=intent.ticker,
            side=intent.side,
            action=intent.action,
            count=count,
            price=intent.price,
            fee=taker_fee(intent.price, D(count)),
            is_taker=True,
            timestamp=self.clock.now(),
            strategy_name=intent.strategy_name,
        )
        adds = (intent.side == "yes") == (intent.action == "buy")
        with self.desk.lock:
            self.desk.fills.append(fill)
            self.desk.positions[intent.ticker] = self.desk.positions.get(intent.ticker, 0) + (
                count if adds else -count
            )
        self.publish(FILLS, fill)

    def _update(self, order: FakeOrder, reason: str = "") -> None:
        intent = order.intent
        terminal = order.status in ("executed", "canceled", "rejected")
        self.publish(
            ORDERS,
            OrderUpdate(
                client_order_id=intent.client_order_id,
                order_id=f"ex-{intent.client_order_id}",
                ticker=intent.ticker,
                side=intent.side,
                action=intent.action,
                status=OrderStatus(order.status),
                filled=order.filled,
                remaining=0 if terminal else order.remaining,
                price=intent.price,
                strategy_name=intent.strategy_name,
                timestamp=self.clock.now(),
                reason=reason,
            ),
        )


# -- the rig -----------------------------------------------------------------------------------


@dataclass
class Rig:
    system: ActorSystem
    clock: SimClock
    desk: Desk
    log: ProbeLog
    limits: RiskLimits
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    # market data, as the market-data actors would publish it
    def market(self, ticker: str, *, status: str = "active", close_in: float = 600.0) -> None:
        now = self.clock.now()
        self.system.tell(
            "risk",
            MarketInfo(
                ticker=ticker,
                event_ticker=ticker.rsplit("-", 1)[0],
                status=status,
                open_time=now - 60,
                close_time=now + close_in,
                floor_strike=D("75"),
                fee_type="quadratic",
                fee_multiplier=D(1),
            ),
        )

    def book(self, ticker: str, yes_bid: str, yes_ask: str, *, stale: bool = False) -> None:
        bid, ask = D(yes_bid), D(yes_ask)
        self.system.tell(
            "risk",
            BookUpdate(
                ticker=ticker,
                seq=next(self._ids),
                ts=self.clock.now(),
                yes_bid=bid,
                yes_ask=ask,
                no_bid=1 - ask,
                no_ask=1 - bid,
                yes_bids=((bid, D(100)),),
                no_bids=((1 - ask, D(100)),),
                stale=stale,
            ),
        )

    def spot(self, *, stale: bool = False) -> None:
        self.system.tell("risk", SpotTick("SOLUSD_RTI", D("75.1"), self.clock.now(), stale=stale))

    def signal(
        self,
        ticker: str = T1,
        *,
        quantity: int = 10,
        price: str = "0.50",
        direction: str = "yes",
        action: str = "buy",
        edge: str = "0.10",
        strategy: str = "kelly_volatility",
        behaviour: str = "fill",
    ) -> Signal:
        signal = Signal(
            signal_id=f"sig-{next(self._ids)}",
            strategy_name=strategy,
            ticker=ticker,
            direction=direction,
            edge=D(edge),
            model_prob=D("0.6"),
            market_price=D(price),
            quantity=quantity,
            timestamp=self.clock.now(),
            action=action,
        )
        with self.desk.lock:
            self.desk.plan[signal.signal_id] = behaviour
        self.system.tell("risk", signal)
        return signal

    def decide(self, **kwargs: Any) -> RiskDecision:
        """Signal, wait for everything it caused, and return its decision."""
        signal = self.signal(**kwargs)
        quiesce(self.system)
        return self.decision(signal)

    def decision(self, signal: Signal) -> RiskDecision:
        found = [d for d in self.log.of(RiskDecision) if d.signal_id == signal.signal_id]
        assert len(found) == 1, f"{len(found)} decisions for {signal.signal_id}"
        return found[0]

    def status(self) -> RiskStatus:
        status: RiskStatus = self.system.ask("risk", GetStatus())
        return status

    def advance(self, seconds: float) -> None:
        self.clock.advance(seconds)

    def intents(self) -> list[OrderIntent]:
        return self.log.of(OrderIntent)


@contextmanager
def risk_rig(limits: RiskLimits, bankroll: str = "1000") -> Iterator[Rig]:
    clock = SimClock(start=START)
    system = ActorSystem(clock=clock, seed=3)
    desk = Desk()
    log = ProbeLog()
    trading = SupervisorSpec(
        "trading",
        (
            ChildSpec.of("risk", RiskActor, limits, None, D(bankroll)),
            ChildSpec.of("order", FakeOrderActor, desk),
        ),
        strategy=Strategy.REST_FOR_ONE,
        backoff=NO_BACKOFF,
    )
    probe = ChildSpec.of("probe", Probe, (SIGNALS, ORDERS, FILLS, ALERTS, STATUS), log)
    system.start(SupervisorSpec("root", (probe, trading), backoff=NO_BACKOFF))
    try:
        yield Rig(system, clock, desk, log, limits)
    finally:
        system.shutdown()


def live_markets(rig: Rig, tickers: tuple[str, ...] = TICKERS) -> None:
    for ticker in tickers:
        rig.market(ticker)
        rig.book(ticker, "0.49", "0.51")
    rig.spot()
    quiesce(rig.system)


# -- an independent model of the book, from what the "exchange" did ----------------------------


@dataclass
class Held:
    side: str
    contracts: int
    cost: D


def shadow_positions(fills: list[Fill]) -> dict[str, Held]:
    """Positions netted as Kalshi nets them (average cost), from the fills alone."""
    book: dict[str, Held] = {}
    side: str  # the netted side is a plain string, as risk's other_side gives it
    for fill in fills:
        side, price, count = fill.side, fill.price, fill.count
        if fill.action == "sell":
            side, price = other_side(side), 1 - price
        held = book.get(fill.ticker)
        if held is not None and held.side != side:
            closing = min(count, held.contracts)
            avg = held.cost / held.contracts
            held.cost -= avg * closing
            held.contracts -= closing
            count -= closing
            if held.contracts == 0:
                del book[fill.ticker]
                held = None
        if count <= 0:
            continue
        if held is None:
            book[fill.ticker] = Held(side, count, price * count)
        else:
            held.contracts += count
            held.cost += price * count
    return book


def shadow_reserved(desk: Desk) -> dict[str, D]:
    """Worst-case cost of the buys still resting, per ticker."""
    out: dict[str, D] = {}
    for order in desk.resting():
        intent = order.intent
        if intent.action == "buy":
            out[intent.ticker] = out.get(intent.ticker, D(0)) + order_cost(
                intent.price, order.remaining, D(1)
            )
    return out


def check_invariants(rig: Rig, signals: list[Signal]) -> None:
    limits = rig.limits
    with rig.desk.lock:
        fills = list(rig.desk.fills)
    positions = shadow_positions(fills)
    reserved = shadow_reserved(rig.desk)
    status = rig.status()

    # risk booked every fill exactly once, and holds exactly the resting buys
    mine = {p.ticker: (p.side, p.contracts, p.cost) for p in status.positions}
    assert mine == {t: (h.side, h.contracts, h.cost) for t, h in positions.items()}
    assert status.reserved == sum(reserved.values(), D(0))
    assert status.fees_paid == sum((f.fee for f in fills), D(0))

    # position limit per market: cost of the contracts held plus resting buys
    for ticker in set(positions) | set(reserved):
        held = positions[ticker].cost if ticker in positions else D(0)
        exposure = held + reserved.get(ticker, D(0))
        assert exposure <= limits.max_position_size, (ticker, exposure)
    # concurrent markets: a position or a resting buy
    assert len(set(positions) | set(reserved)) <= limits.max_concurrent_positions

    # one decision per signal; approvals match one intent each; every rejection has a reason
    by_signal = {s.signal_id: s for s in signals}
    decisions = rig.log.of(RiskDecision)
    assert sorted(d.signal_id for d in decisions) == sorted(by_signal)
    intents = {i.signal_id: i for i in rig.intents()}
    assert len(intents) == len(rig.intents())
    approvals = []
    for decision in decisions:
        signal = by_signal[decision.signal_id]
        if decision.approved:
            assert decision.reason == Reason.APPROVED
            assert 1 <= decision.quantity <= signal.quantity
            intent = intents[decision.signal_id]
            assert intent.count == decision.quantity
            assert (intent.ticker, intent.side, intent.action, intent.price) == (
                signal.ticker,
                signal.direction,
                signal.action,
                signal.market_price,
            )
            if signal.action == "buy":
                assert signal.edge >= limits.min_edge, "an entry approved below MIN_EDGE"
            approvals.append(decision.timestamp)
        else:
            assert decision.reason in REASONS - {Reason.APPROVED}, decision.reason
            assert decision.quantity == 0
            assert decision.signal_id not in intents
    assert len(approvals) == len(intents)
    # order rate: at most max_orders_per_minute approvals in any trailing 60 s
    window: deque[float] = deque()
    for at in sorted(approvals):
        window.append(at)
        while window[0] <= at - RATE_WINDOW_SECONDS:
            window.popleft()
        assert len(window) <= limits.max_orders_per_minute


# -- 1. the property: random bursts from two strategies ---------------------------------------

PROPERTY_LIMITS = RiskLimits(
    max_position_size=D(30),
    max_daily_loss=D(20),
    circuit_breaker_pct=D("0.25"),
    max_concurrent_positions=2,
    min_edge=D("0.03"),
    max_orders_per_minute=8,
)
PRICES = ("0.05", "0.099", "0.20", "0.45", "0.50", "0.73", "0.91", "0.995")

signal_items = st.tuples(
    st.just("signal"),
    st.sampled_from(STRATEGIES),
    st.sampled_from(TICKERS),
    st.sampled_from(("yes", "no")),
    st.sampled_from(("buy", "buy", "sell")),
    st.integers(1, 120),
    st.sampled_from(PRICES),
    st.sampled_from(("0.01", "0.03", "0.08")),
    st.sampled_from(("fill", "fill", "fill_late", "partial", "rest", "reject")),
)
mark_items = st.tuples(st.just("mark"), st.sampled_from(TICKERS), st.integers(2, 98))
steps = st.tuples(
    st.lists(st.one_of(signal_items, signal_items, mark_items), min_size=1, max_size=10),
    st.floats(0.0, 20.0),  # then time passes
    st.booleans(),  # and resting orders trade
    st.sampled_from((None, None, None, None, "cancel", "reset", "stop", "start")),  # operator
)


def burst_settings(examples: int) -> settings:
    """Hypothesis settings of the pipeline's burst properties: seeded, no deadline (actors)."""
    return settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        phases=(Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink),
        suppress_health_check=[HealthCheck.too_slow],
    )


@burst_settings(150)
@given(st.lists(steps, min_size=1, max_size=12))
def test_random_signal_bursts_from_two_strategies_never_break_a_limit(
    plan: list[tuple[Any, ...]],
) -> None:
    with risk_rig(PROPERTY_LIMITS, bankroll="100") as rig:
        live_markets(rig)
        mids = dict.fromkeys(TICKERS, 50)  # YES mid per market, in cents
        signals: list[Signal] = []
        for burst, seconds, trade_resting, operator in plan:
            for item in burst:  # told back to back: risk decides them in turn
                if item[0] == "signal":
                    _, strategy, ticker, direction, action, quantity, price, edge, behaviour = item
                    signals.append(
                        rig.signal(
                            ticker,
                            quantity=quantity,
                            price=price,
                            direction=direction,
                            action=action,
                            edge=edge,
                            strategy=strategy,
                            behaviour=behaviour,
                        )
                    )
                else:
                    _, ticker, mids[ticker] = item
                    rig.book(ticker, *_quote(mids[ticker]))
            quiesce(rig.system)
            check_invariants(rig, signals)
            if trade_resting:
                rig.system.tell("order", FillResting())
                quiesce(rig.system)  # its fills reach risk before the operator looks
            if operator == "cancel":
                rig.system.tell("order", CancelAllOrders("test"))
            elif operator == "reset":
                rig.system.ask("risk", ResetCircuitBreaker())
            elif operator == "stop":
                rig.system.ask("risk", StopTrading("test"))
            elif operator == "start" and rig.status().trading_state != "halted":
                rig.system.ask("risk", StartTrading())
            rig.advance(seconds)
            for ticker in TICKERS:  # the market-data actors keep books and the index fresh
                rig.book(ticker, *_quote(mids[ticker]))
            rig.spot()
            quiesce(rig.system)
            check_invariants(rig, signals)


def _quote(cents: int) -> tuple[str, str]:
    return f"{(cents - 1) / 100:.2f}", f"{(cents + 1) / 100:.2f}"


# -- 2. the circuit breaker halts and cancels ---------------------------------------------------

BREAKER_LIMITS = RiskLimits(
    max_position_size=D(60),
    max_daily_loss=D(500),
    circuit_breaker_pct=D("0.20"),
    max_concurrent_positions=5,
    min_edge=D("0.03"),
)


def test_the_circuit_breaker_halts_cancels_and_waits_for_a_reset() -> None:
    with risk_rig(BREAKER_LIMITS, bankroll="100") as rig:
        live_markets(rig)
        bought = rig.decide(ticker=T1, quantity=100, price="0.50")  # $50 of YES, filled
        resting = rig.decide(ticker=T2, quantity=10, price="0.50", behaviour="rest")
        assert bought.approved and bought.quantity > 0 and resting.approved
        status = rig.status()
        assert status.trading_state == "running" and not status.circuit_breaker_triggered
        assert status.reserved > 0 and rig.desk.cancels == []

        rig.book(T1, "0.10", "0.12")  # marked down: more than 20 % of the day's equity gone
        quiesce(rig.system)
        status = rig.status()
        assert status.trading_state == "halted"
        assert status.circuit_breaker_triggered and status.halt_reason == "circuit_breaker"
        alerts = [a for a in rig.log.of(Alert) if a.alert_type == "circuit_breaker"]
        assert len(alerts) == 1 and alerts[0].level == "critical"
        assert len(rig.desk.cancels) == 1  # the order actor was told to cancel everything
        assert rig.desk.resting() == [] and status.reserved == 0  # and the resting buy is gone

        halted = rig.decide(ticker=T3, quantity=5, price="0.50")
        assert not halted.approved and halted.reason == Reason.HALTED
        exit_ = rig.decide(ticker=T1, quantity=10, price="0.10", action="sell")
        assert exit_.approved  # a halt still lets a position be reduced

        with pytest.raises(ValueError, match="halted"):
            rig.system.ask("risk", StartTrading())
        assert rig.status().trading_state == "halted"

        reset: RiskStatus = rig.system.ask("risk", ResetCircuitBreaker())
        quiesce(rig.system)
        assert reset.trading_state == "running" and not reset.circuit_breaker_triggered
        assert any(a.alert_type == "reset" for a in rig.log.of(Alert))
        resumed = rig.decide(ticker=T3, quantity=5, price="0.50", behaviour="rest")
        assert resumed.approved

        stopped: RiskStatus = rig.system.ask("risk", StopTrading("operator"))
        quiesce(rig.system)
        assert stopped.trading_state == "stopped"
        assert len(rig.desk.cancels) == 2 and rig.desk.resting() == []
        assert rig.status().reserved == 0
        refused = rig.decide(ticker=T3, quantity=5, price="0.50")
        assert not refused.approved and refused.reason == Reason.TRADING_STOPPED
        started: RiskStatus = rig.system.ask("risk", StartTrading())
        assert started.trading_state == "running"
        assert rig.decide(ticker=T3, quantity=5, price="0.50").approved


# -- 3. every rejection reason, reached through messages ----------------------------------------

REASON_LIMITS = RiskLimits(
    max_position_size=D(12),
    max_daily_loss=D(15),
    circuit_breaker_pct=D(1),  # out of the way: the daily-loss rule is tested on its own
    max_concurrent_positions=2,
    min_edge=D("0.03"),
    max_orders_per_minute=5,
)


def _stale_book(rig: Rig) -> dict[str, Any]:
    rig.book(T1, "0.49", "0.51", stale=True)
    return {}


def _old_book(rig: Rig) -> dict[str, Any]:
    rig.advance(REASON_LIMITS.max_book_age_seconds + 1)
    rig.spot()  # the index is fresh; only the book is old
    return {}


def _stale_spot(rig: Rig) -> dict[str, Any]:
    rig.spot(stale=True)
    return {}


def _old_spot(rig: Rig) -> dict[str, Any]:
    rig.advance(REASON_LIMITS.max_spot_age_seconds + 1)
    rig.book(T1, "0.49", "0.51")
    return {}


def _exchange_inactive(rig: Rig) -> dict[str, Any]:
    rig.system.tell("risk", ExchangeState(True, False, rig.clock.now()))
    return {}


def _market_closed(rig: Rig) -> dict[str, Any]:
    rig.market(T1, status="closed")
    return {}


def _past_close(rig: Rig) -> dict[str, Any]:
    rig.market(T1, close_in=5)
    rig.advance(6)
    rig.book(T1, "0.49", "0.51")
    rig.spot()
    return {}


def _daily_loss(rig: Rig) -> dict[str, Any]:
    for ticker in (T2, T3):  # $11.50 of YES in each, then marked at 0.02: $22 down
        assert rig.decide(ticker=ticker, quantity=23, price="0.50").quantity == 23
    for ticker in (T2, T3):
        rig.book(ticker, "0.01", "0.03")
    return {}


def _no_market_data(rig: Rig) -> dict[str, Any]:
    return {"ticker": "KXSOL15M-26MAY289999-99"}


def _stale_signal(rig: Rig) -> dict[str, Any]:
    signal = Signal(
        signal_id="old",
        strategy_name="kelly_volatility",
        ticker=T1,
        direction="yes",
        edge=D("0.10"),
        model_prob=D("0.6"),
        market_price=D("0.50"),
        quantity=5,
        timestamp=rig.clock.now() - REASON_LIMITS.max_signal_age_seconds - 1,
    )
    rig.system.tell("risk", signal)
    return {"signal": signal}


def _edge(rig: Rig) -> dict[str, Any]:
    return {"edge": "0.029"}


def _no_position(rig: Rig) -> dict[str, Any]:
    return {"action": "sell"}


def _order_rate(rig: Rig) -> dict[str, Any]:
    for _ in range(REASON_LIMITS.max_orders_per_minute - 1):  # the control was the first
        assert rig.decide(ticker=T1, quantity=1, price="0.50").approved
    return {}


def _concurrent(rig: Rig) -> dict[str, Any]:
    assert rig.decide(ticker=T2, quantity=1, price="0.50").approved
    assert rig.decide(ticker=T3, quantity=1, price="0.50").approved
    return {}


def _position_limit(rig: Rig) -> dict[str, Any]:
    # $11.50 held of the $12: one more contract at $0.50 costs $0.52 with its fee
    assert rig.decide(ticker=T1, quantity=23, price="0.50").quantity == 23
    return {"quantity": 10, "price": "0.50"}


def _insufficient_funds(rig: Rig) -> dict[str, Any]:
    return {"bankroll": True}


def _invalid(rig: Rig) -> dict[str, Any]:
    return {"price": "1.00"}


REJECTIONS = {
    "stale_book": (_stale_book, Reason.STALE_BOOK),
    "old_book": (_old_book, Reason.STALE_BOOK),
    "stale_spot": (_stale_spot, Reason.STALE_SPOT),
    "old_spot": (_old_spot, Reason.STALE_SPOT),
    "exchange_inactive": (_exchange_inactive, Reason.EXCHANGE_INACTIVE),
    "market_closed": (_market_closed, Reason.MARKET_CLOSED),
    "past_close": (_past_close, Reason.MARKET_CLOSED),
    "daily_loss": (_daily_loss, Reason.DAILY_LOSS_LIMIT),
    "no_market_data": (_no_market_data, Reason.NO_MARKET_DATA),
    "stale_signal": (_stale_signal, Reason.STALE_SIGNAL),
    "edge": (_edge, Reason.EDGE_BELOW_MINIMUM),
    "no_position": (_no_position, Reason.NO_POSITION),
    "order_rate": (_order_rate, Reason.ORDER_RATE),
    "concurrent": (_concurrent, Reason.CONCURRENT_POSITIONS),
    "position_limit": (_position_limit, Reason.POSITION_LIMIT),
    "insufficient_funds": (_insufficient_funds, Reason.INSUFFICIENT_FUNDS),
    "invalid": (_invalid, Reason.INVALID_SIGNAL),
}


@pytest.mark.parametrize("case", sorted(REJECTIONS))
def test_each_rejection_reason_is_reached_through_messages(case: str) -> None:
    arrange, reason = REJECTIONS[case]
    bankroll = "0.30" if case == "insufficient_funds" else "1000"
    with risk_rig(REASON_LIMITS, bankroll=bankroll) as rig:
        live_markets(rig)
        control = rig.decide(ticker=T1, quantity=1, price="0.05", behaviour="reject")
        assert control.approved, "the market is tradeable before the fault"
        overrides = arrange(rig)
        quiesce(rig.system)
        intents_before = len(rig.intents())
        signal = overrides.pop("signal", None)
        overrides.pop("bankroll", None)
        if signal is None:
            kwargs: dict[str, Any] = {"ticker": T1, "quantity": 20, "price": "0.50"}
            kwargs.update(overrides)
            signal = rig.signal(**kwargs)
        quiesce(rig.system)
        decision = rig.decision(signal)
        assert not decision.approved
        assert decision.reason == reason
        assert decision.quantity == 0
        assert len(rig.intents()) == intents_before, "a rejected signal reached the order actor"
        if case == "daily_loss":
            assert any(a.alert_type == "daily_loss_limit" for a in rig.log.of(Alert))
