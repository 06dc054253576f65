"""Fake trading actors for the hub tests: real actors at the real addresses, with tiny behaviour.

Each records the controls it receives (in a shared ``Controls`` log) and
publishes what the real one would (RiskStatus, OrderUpdate, StrategyStatus), so
the hub is tested through the bus and addresses exactly as in production.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from messages.control import (
    CancelOrder,
    ResetCircuitBreaker,
    SetStrategyEnabled,
    StartTrading,
    StopTrading,
)
from messages.market_data import BookUpdate, MarketInfo, SpotTick
from messages.status import Position, RiskStatus, StrategyStatus
from messages.trading import Fill, OrderUpdate, RiskDecision, Signal
from messages.vocabulary import OrderStatus
from runtime.actor import ActorContext, SupervisedActor
from runtime.bus import ORDERS, STATUS

TICKER = "KXSOL15M-26JAN010015-15"
D = Decimal


class Controls:
    """What the fakes were asked to do, in order; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.items: list[tuple[str, Any]] = []

    def add(self, actor: str, message: Any) -> None:
        with self._lock:
            self.items.append((actor, message))

    def of(self, kind: type) -> list[Any]:
        with self._lock:
            return [m for _, m in self.items if isinstance(m, kind)]


@dataclass(frozen=True, slots=True)
class Publish:
    """Make a fake publish ``message`` on ``topic`` (as the real actor would)."""

    topic: str
    message: object


class FakeActor(SupervisedActor):
    def __init__(self, context: ActorContext, controls: Controls) -> None:
        super().__init__(context)
        self.controls = controls

    def handle(self, message: Any) -> Any:
        if isinstance(message, Publish):
            self.publish(message.topic, message.message)
            return None
        return super().handle(message)


def risk_status(
    state: str = "running", pnl: str = "12.50", breaker: bool = False, now: float | None = None
) -> RiskStatus:
    position = Position(
        ticker=TICKER,
        side="yes",
        contracts=10,
        average_price=D("0.55"),
        cost=D("5.57"),
        market_value=D("6.10"),
        unrealized_pnl=D("0.53"),
        realized_pnl=D("0"),
    )
    return RiskStatus(
        trading_state=state,
        daily_pnl=D(pnl),
        realized_pnl=D("11.97"),
        unrealized_pnl=D("0.53"),
        fees_paid=D("0.42"),
        exposure=D("5.57"),
        reserved=D("0"),
        open_positions=1,
        bankroll=D("1012.50"),
        starting_bankroll=D("1000"),
        circuit_breaker_triggered=breaker,
        halt_reason="daily loss limit" if breaker else "",
        positions=(position,),
        timestamp=time.time() if now is None else now,
    )


class FakeRisk(FakeActor):
    """Owns the trading state; answers controls with the new RiskStatus after publishing it."""

    def setup(self) -> None:
        self.status = risk_status("running", now=self.clock.now())
        self.publish(STATUS, self.status)

    def handle(self, message: Any) -> Any:
        if isinstance(message, StartTrading | StopTrading | ResetCircuitBreaker):
            self.controls.add(self.name, message)
            if isinstance(message, StartTrading):
                state = "running" if not self.status.circuit_breaker_triggered else "halted"
                self.status = replace(self.status, trading_state=state)
            elif isinstance(message, StopTrading):
                self.status = replace(self.status, trading_state="stopped")
            else:
                self.status = replace(
                    self.status,
                    circuit_breaker_triggered=False,
                    halt_reason="",
                    trading_state="stopped",
                )
            self.status = replace(self.status, timestamp=self.clock.now())
            self.publish(STATUS, self.status)
            return self.status
        return super().handle(message)


@dataclass(frozen=True, slots=True)
class Rest:
    """Tell the fake order actor about an order it placed (it publishes the update)."""

    update: OrderUpdate


class FakeOrder(FakeActor):
    def setup(self) -> None:
        self.resting: dict[str, OrderUpdate] = {}

    def handle(self, message: Any) -> Any:
        if isinstance(message, Rest):
            self.resting[message.update.client_order_id] = message.update
            self.publish(ORDERS, message.update)
            return None
        if isinstance(message, CancelOrder):
            self.controls.add(self.name, message)
            order = self.resting.pop(message.order_id, None)
            if order is None:
                raise KeyError(f"no resting order {message.order_id}")
            self.publish(
                ORDERS,
                replace(
                    order, status=OrderStatus.CANCELED, remaining=0, timestamp=self.clock.now()
                ),
            )
            return None
        return super().handle(message)


class FakeStrategy(FakeActor):
    def __init__(self, context: ActorContext, controls: Controls, strategy: str) -> None:
        super().__init__(context, controls)
        self.strategy = strategy
        self.enabled = True

    def setup(self) -> None:
        self._announce()

    def handle(self, message: Any) -> Any:
        if isinstance(message, SetStrategyEnabled):
            self.controls.add(self.name, message)
            self.enabled = message.enabled
            self._announce()
            return self.enabled
        return super().handle(message)

    def _announce(self) -> None:
        self.publish(STATUS, strategy_status(self.strategy, self.enabled, self.clock.now()))


def strategy_status(name: str, enabled: bool, now: float, prob: float = 0.62) -> StrategyStatus:
    """As ``StrategyActor`` publishes kelly_volatility's: every value as text, nested ones JSON."""
    markets = {TICKER: {"model_prob": prob, "sigma": 0.82, "yes_edge": 0.041, "ts": now - 1}}
    return StrategyStatus(
        name=name,
        enabled=enabled,
        params=(("min_edge", "0.03"), ("kelly_fraction", "0.25"), ("initial_sigma", "null")),
        metrics=(
            ("signals", "3"),
            ("sigma", "0.82"),
            ("skips", '{"edge_below_minimum":12,"cooldown":2}'),
            ("markets", json.dumps(markets, separators=(",", ":"))),
        ),
        timestamp=now,
    )


# -- sample events ----------------------------------------------------------------------------


def market(now: float) -> MarketInfo:
    return MarketInfo(
        ticker=TICKER,
        event_ticker="KXSOL15M-26JAN010015",
        status="active",
        open_time=now - 300,
        close_time=now + 600,
        floor_strike=D("187.42"),
        fee_type="quadratic",
        fee_multiplier=D("0.07"),
    )


def spot(now: float, price: str = "187.90") -> SpotTick:
    return SpotTick(index="SOLUSD_RTI", price=D(price), ts=now)


def book(now: float, seq: int = 1, bid: str = "0.58") -> BookUpdate:
    return BookUpdate(
        ticker=TICKER,
        seq=seq,
        ts=now,
        yes_bid=D(bid),
        yes_ask=D("0.61"),
        no_bid=D("0.39"),
        no_ask=D(1) - D(bid),
        yes_bids=((D(bid), D(100)),),
        no_bids=((D("0.39"), D(80)),),
    )


def signal(now: float, signal_id: str = "sig-1", strategy: str = "kelly_volatility") -> Signal:
    return Signal(
        signal_id=signal_id,
        strategy_name=strategy,
        ticker=TICKER,
        direction="yes",
        edge=D("0.041"),
        model_prob=D("0.652"),
        market_price=D("0.61"),
        quantity=10,
        timestamp=now,
        spot=D("187.90"),
        strike=D("187.42"),
        sigma=0.82,
        seconds_left=600.0,
        effective_seconds=580.0,
        fee=D("0.0167"),
        kelly_fraction=0.25,
    )


def decision(now: float, signal_id: str = "sig-1", approved: bool = True) -> RiskDecision:
    return RiskDecision(
        signal_id=signal_id,
        strategy_name="kelly_volatility",
        ticker=TICKER,
        approved=approved,
        reason="approved" if approved else "max_concurrent_positions",
        quantity=10 if approved else 0,
        timestamp=now,
    )


def order_update(
    now: float, coid: str = "c-1", status: str = "resting", filled: int = 0
) -> OrderUpdate:
    return OrderUpdate(
        client_order_id=coid,
        order_id=f"ex-{coid}",
        ticker=TICKER,
        side="yes",
        action="buy",
        status=OrderStatus(status),
        filled=filled,
        remaining=10 - filled,
        price=D("0.60"),
        strategy_name="kelly_volatility",
        timestamp=now,
    )


def fill(now: float, coid: str = "c-2", trade_id: str = "t-1", count: int = 10) -> Fill:
    return Fill(
        trade_id=trade_id,
        order_id=f"ex-{coid}",
        client_order_id=coid,
        ticker=TICKER,
        side="yes",
        action="buy",
        count=count,
        price=D("0.60"),
        fee=D("0.17"),
        is_taker=True,
        timestamp=now,
        strategy_name="kelly_volatility",
    )
