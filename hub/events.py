"""From bus messages to hub state and outgoing WebSocket frames (the hub actor's core).

``EventRouter.apply`` is called on the hub actor's thread for every message it
receives. It updates the store and returns what to fan out: ordered frames
(every client gets each one) and coalesced ones (a client gets the latest per
key, at most every ``coalesce_interval``) for high-rate market data and status.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from hub import wire
from hub.metrics import HubMetrics
from hub.store import HubStore
from messages.base import Message
from messages.formats import normalize
from messages.market_data import BookUpdate, MarketInfo, MarketLifecycle, SpotTick
from messages.scoreboard import ScoreboardReport
from messages.status import Alert, RiskStatus, StrategyStatus
from messages.system import ActorCrashed, ActorRestarted, ActorStopped, Escalated
from messages.trading import Fill, OrderIntent, OrderUpdate, RiskDecision, Settlement, Signal

STATUS_KEY = "status"
SCOREBOARD_KEY = "scoreboard"


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One frame for every client. ``frame`` None (with the status key) = the current status."""

    frame: bytes | None
    key: str | None = None  # coalescing key; None = deliver every one, in order


STATUS = Outgoing(None, STATUS_KEY)


class EventRouter:
    def __init__(self, store: HubStore, metrics: HubMetrics | None = None) -> None:
        self.store = store
        self.metrics = metrics
        self._routes: dict[type, Callable[[Any], list[Outgoing]]] = {
            SpotTick: self._spot,
            BookUpdate: self._book,
            MarketInfo: self._market,
            MarketLifecycle: self._lifecycle,
            Signal: self._signal,
            RiskDecision: self._decision,
            OrderIntent: self._intent,
            OrderUpdate: self._order_update,
            Fill: self._fill,
            Settlement: self._settlement,
            RiskStatus: self._risk,
            StrategyStatus: self._strategy,
            ScoreboardReport: self._scoreboard,
            Alert: self._alert,
            ActorCrashed: self._actor,
            ActorRestarted: self._actor,
            ActorStopped: self._actor,
            Escalated: self._actor,
        }
        # Matched by wire name: these belong to the market-data layer and may evolve with it.
        self._by_name: dict[str, Callable[[Any], list[Outgoing]]] = {
            "exchange_state": self._connectivity,
            "feed_state": self._connectivity,
        }

    def _route(self, message: object) -> Callable[[Any], list[Outgoing]] | None:
        route = self._routes.get(type(message))
        if route is None and isinstance(message, Message):
            route = self._by_name.get(message.type)
        return route

    def handles(self, message: object) -> bool:
        return self._route(message) is not None

    def apply(self, message: object) -> list[Outgoing]:
        route = self._route(message)
        if route is None:
            return []
        if self.metrics is not None:
            self.metrics.events.labels(type(message).__name__).inc()
        return route(message)

    # -- market data: coalesced per key ---------------------------------------------------

    def _spot(self, tick: SpotTick) -> list[Outgoing]:
        turned = self.store.state.set_spot(tick)  # stale or fresh again: the status changes
        data = wire.spot_data(tick, self.store.state.series_on(tick.index))
        frame = Outgoing(wire.envelope("market_update", data), f"spot:{tick.index}")
        return [frame, STATUS] if turned else [frame]

    def _book(self, book: BookUpdate) -> list[Outgoing]:
        self.store.state.set_book(book)
        return [
            Outgoing(wire.envelope("market_update", wire.book_data(book)), f"book:{book.ticker}")
        ]

    def _market(self, info: MarketInfo) -> list[Outgoing]:
        self.store.state.set_market(info)
        frame = wire.envelope("market_update", wire.market_data(info))
        return [Outgoing(frame, f"market:{info.ticker}"), STATUS]

    def _lifecycle(self, event: MarketLifecycle) -> list[Outgoing]:
        self.store.state.set_lifecycle(event)
        return [Outgoing(wire.envelope("market_update", wire.lifecycle_data(event))), STATUS]

    def _connectivity(self, message: Message) -> list[Outgoing]:
        """Exchange up/down and the market-data feed's connection: ordered (rare, important)."""
        data = {"kind": message.type.removesuffix("_state"), **wire.fields_of(message)}
        self.store.state.set_connectivity(message.type, data)
        return [Outgoing(wire.envelope("market_update", data)), STATUS]

    # -- trading: ordered -------------------------------------------------------------------

    def _signal(self, signal: Signal) -> list[Outgoing]:
        self.store.history.record_signal(signal)
        self.store.state.add_signal(signal)
        return [Outgoing(wire.envelope("trading_signal", wire.signal_data(signal)))]

    def _decision(self, decision: RiskDecision) -> list[Outgoing]:
        self.store.history.record_decision(decision)
        self.store.state.add_decision(decision)
        return [Outgoing(wire.envelope("risk_decision", wire.decision_data(decision)))]

    def _intent(self, intent: OrderIntent) -> list[Outgoing]:
        self.store.history.record_intent(intent)
        self.store.order_version += 1
        return [STATUS]

    def _order_update(self, update: OrderUpdate) -> list[Outgoing]:
        latency = self.store.history.record_update(update)
        if latency is not None and self.metrics is not None:
            self.metrics.order_latency.observe(latency)
        self.store.order_version += 1
        return [Outgoing(wire.envelope("trade_execution", wire.order_execution(update))), STATUS]

    def _fill(self, fill: Fill) -> list[Outgoing]:
        strategy, status = self.store.history.record_fill(fill)
        self.store.order_version += 1
        data = wire.fill_execution(fill, strategy, status)
        return [Outgoing(wire.envelope("trade_execution", data)), STATUS]

    def _settlement(self, settlement: Settlement) -> list[Outgoing]:
        held = ", ".join(
            f"{count} {side}"
            for count, side in ((settlement.yes_contracts, "YES"), (settlement.no_contracts, "NO"))
            if count
        )
        alert = Alert(
            alert_type="settlement",
            message=f"{settlement.ticker} settled {settlement.result.upper()}: "
            f"held {held or 'nothing'}, paid ${settlement.payout:.2f}",
            level="info",
            timestamp=settlement.timestamp,
        )
        return self._alert(alert)

    # -- status: coalesced into one status_update ------------------------------------------

    def _risk(self, status: RiskStatus) -> list[Outgoing]:
        self.store.state.set_risk(status)
        self.store.history.record_positions(status.positions)
        return [STATUS]

    def _strategy(self, status: StrategyStatus) -> list[Outgoing]:
        self.store.state.set_strategy(status)
        return [STATUS]

    def _scoreboard(self, report: ScoreboardReport) -> list[Outgoing]:
        """The scoreboard's report: ``/api/scoreboard`` and the panel (numbers in the one
        format: its market mids are prices)."""
        body = wire.dumps(normalize(orjson.loads(report.body)))
        self.store.state.set_scoreboard(body)
        frame = b'{"type":"scoreboard_update","data":' + body + b"}"
        return [Outgoing(frame, SCOREBOARD_KEY)]

    # -- operator events: ordered -------------------------------------------------------------

    def _alert(self, alert: Alert) -> list[Outgoing]:
        self.store.state.add_alert(alert)
        return [Outgoing(wire.envelope("alert", wire.alert_data(alert)))]

    def _actor(self, event: wire.ActorEvent) -> list[Outgoing]:
        data = wire.actor_event_data(event)
        self.store.state.add_actor_event(data)
        return [Outgoing(wire.envelope("actor_event", data))]
