"""StrategyActor: runs one pure strategy object on market data and sends its signals to risk.

The strategy itself (:mod:`strategies`) never sees threads or the clock; the
actor feeds it messages, forwards what it returns, and routes the risk
decisions, order updates and fills of its own signals back to it. A disabled
strategy keeps learning (its volatility estimate stays warm) but sends nothing.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import orjson
import pykka
from loguru import logger

from actors.discovery import known_markets
from messages.control import SetStrategyEnabled
from messages.market_data import BookUpdate, MarketInfo, MarketLifecycle, SpotTick
from messages.status import StrategyStatus
from messages.system import Tick
from messages.trading import Fill, OrderUpdate, RiskDecision, Settlement, Signal
from runtime.actor import ActorContext, SupervisedActor
from runtime.address import ActorUnavailable
from runtime.bus import BOOK, FILLS, MARKETS, ORDERS, SIGNALS, SPOT, STATUS
from strategies.base import Strategy, create_strategy

RISK = "risk"


def strategy_address(name: str) -> str:
    return f"strategy:{name}"


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return orjson.dumps(value, default=str).decode()


class StrategyActor(SupervisedActor):
    def __init__(
        self,
        context: ActorContext,
        strategy_name: str,
        params: dict[str, Any] | None = None,
        enabled: bool = True,
        status_interval: float = 1.0,
    ) -> None:
        super().__init__(context)
        self.strategy_name = strategy_name
        self.params = params or {}
        self.enabled = enabled
        self.status_interval = status_interval
        self.strategy: Strategy = create_strategy(strategy_name, **self.params)
        self.signals = 0
        self.suppressed = 0
        self._risk = self.system.address(RISK)

    def setup(self) -> None:
        self._catch_up()
        self.subscribe(SPOT, BOOK, MARKETS, SIGNALS, ORDERS, FILLS)
        self.every(self.status_interval, "status")
        self._publish_status()

    def _catch_up(self) -> None:
        """After a (re)start: learn the live markets and replay recent index prints."""
        try:
            prints = self.system.ask("spot", "prints", timeout=5)
        except (ActorUnavailable, pykka.Timeout):
            prints = ()  # market data is not up yet: it will arrive on the bus
        markets = known_markets(self.system)
        for info in markets.values():
            self.strategy.on_market(info)
        for ts, price in prints:
            self.strategy.on_spot(
                SpotTick("SOLUSD_RTI", price, ts)
            )  # warms volatility; no trading on replay

    def handle(self, message: Any) -> Any:
        kind = type(message)
        if kind is SpotTick:
            self._send(self.strategy.on_spot(message))
        elif kind is BookUpdate:
            self._send(self.strategy.on_book(message))
        elif kind is Tick:
            self._send(self.strategy.on_timer(self.clock.now()))
            self._publish_status()
        elif kind is MarketInfo:
            self.strategy.on_market(message)
        elif kind is MarketLifecycle:
            self.strategy.on_lifecycle(message)
            if message.event_type == "settled" and message.result in ("yes", "no"):
                # Every strategy hears each market end, traded or not, so it can drop the
                # market's state (the OrderActor reports a Settlement only for held positions).
                self.strategy.on_settlement(
                    Settlement(message.ticker, message.result, 0, 0, Decimal(0), message.ts)
                )
        elif kind is RiskDecision:
            if message.strategy_name == self.strategy_name:
                self.strategy.on_decision(message)
        elif kind is OrderUpdate:
            if message.strategy_name == self.strategy_name:
                self.strategy.on_order_update(message)
        elif kind is Fill:
            if message.strategy_name == self.strategy_name:
                self.strategy.on_fill(message)
        elif kind is Settlement:
            self.strategy.on_settlement(message)
        elif kind is SetStrategyEnabled:
            return self._toggle(message.enabled)
        elif kind is Signal:
            pass  # signals (ours and others') echoed by the bus
        elif message == "describe":
            return self.describe()
        else:
            return super().handle(message)
        return None

    def _send(self, signals: list[Signal]) -> None:
        if not signals:
            return
        if not self.enabled:
            self.suppressed += len(signals)
            for signal in signals:  # tell the strategy nothing will happen, so it does not wait
                self.strategy.on_decision(
                    RiskDecision(
                        signal.signal_id,
                        signal.strategy_name,
                        signal.ticker,
                        False,
                        "strategy_disabled",
                        0,
                        signal.timestamp,
                    )
                )
            return
        for signal in signals:
            self.signals += 1
            self.publish(SIGNALS, signal)  # first, so every subscriber sees it before its decision
            self._risk.tell(signal)

    def _toggle(self, enabled: bool) -> dict[str, Any]:
        if enabled != self.enabled:
            self.enabled = enabled
            logger.info("strategy {} {}", self.strategy_name, "enabled" if enabled else "disabled")
        self._publish_status()
        return self.describe()

    def describe(self) -> dict[str, Any]:
        return {**self.strategy.describe(), "enabled": self.enabled, "signals_sent": self.signals}

    def _publish_status(self) -> None:
        metrics = {
            **self.strategy.metrics(),
            "signals_sent": self.signals,
            "suppressed": self.suppressed,
        }
        params = self.strategy.params.model_dump(mode="json")
        self.publish(
            STATUS,
            StrategyStatus(
                name=self.strategy_name,
                enabled=self.enabled,
                params=tuple((k, _text(v)) for k, v in params.items()),
                metrics=tuple((k, _text(v)) for k, v in metrics.items()),
                timestamp=self.clock.now(),
            ),
        )
