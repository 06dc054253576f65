"""The ▶ WebSocket wire format: envelopes and the data each event type carries.

Every outgoing frame is ``{"type": ..., "data": {...}}`` encoded once with
orjson and shared by all clients. Numbers take the one format of
:mod:`messages.formats`: money and prices as fixed-point strings, ratios as numbers.
"""

from __future__ import annotations

from typing import Any

import orjson

from kalshi.tickers import series_of
from messages.base import Message
from messages.formats import dumps, status_text
from messages.formats import wire_fields as fields_of  # ratios as numbers; Decimals as money
from messages.market_data import BookUpdate, MarketInfo, MarketLifecycle, SpotTick
from messages.status import Alert
from messages.system import ActorCrashed, ActorRestarted, ActorStopped, Escalated
from messages.trading import Fill, OrderUpdate, RiskDecision, Signal


def envelope(kind: str, data: object) -> bytes:
    return dumps({"type": kind, "data": data})


def error_frame(code: str, message: str) -> bytes:
    return envelope("error", {"code": code, "message": message})


def plain(msg: Message) -> dict[str, Any]:
    """A message as JSON-ready values (Decimals as strings), without its ``type``."""
    body: dict[str, Any] = orjson.loads(dumps(fields_of(msg)))
    return body


# -- event data ------------------------------------------------------------------------


def signal_data(signal: Signal) -> dict[str, Any]:
    """``trading_signal.data``: every Signal field (the contract's list plus ``signal_id`` etc.)
    and its market's series."""
    return {**fields_of(signal), "series": series_of(signal.ticker)}


def decision_data(decision: RiskDecision) -> dict[str, Any]:
    return {**fields_of(decision), "series": series_of(decision.ticker)}


def fill_execution(fill: Fill, strategy_name: str, status: str) -> dict[str, Any]:
    """``trade_execution.data`` for a fill; ``trade_id`` is the exchange's fill id."""
    return {
        "trade_id": fill.trade_id,
        "client_order_id": fill.client_order_id,
        "ticker": fill.ticker,
        "series": series_of(fill.ticker),
        "side": fill.side,
        "action": fill.action,
        "quantity": fill.count,
        "price": fill.price,
        "fee": fill.fee,
        "status": status,
        "strategy_name": fill.strategy_name or strategy_name,
        "timestamp": fill.timestamp,
        "kind": "fill",
        "order_id": fill.order_id,
        "is_taker": fill.is_taker,
    }


def order_execution(update: OrderUpdate) -> dict[str, Any]:
    """``trade_execution.data`` for an order state change; ``trade_id`` is the order's id."""
    # A finished order reports nothing remaining: its size is its intent's count.
    quantity = max(update.count, update.filled + update.remaining)
    return {
        "trade_id": update.client_order_id,
        "client_order_id": update.client_order_id,
        "ticker": update.ticker,
        "series": series_of(update.ticker),
        "side": update.side,
        "action": update.action,
        "quantity": quantity,
        "price": update.price,
        "fee": update.fees,
        "status": update.status,
        "status_text": status_text(update.status, update.filled, quantity),
        "strategy_name": update.strategy_name,
        "timestamp": update.timestamp,
        "kind": "order",
        "order_id": update.order_id,
        "filled": update.filled,
        "remaining": update.remaining,
        "reason": update.reason,
    }


def alert_data(alert: Alert) -> dict[str, Any]:
    return fields_of(alert)


_ACTOR_EVENTS: dict[type, str] = {
    ActorCrashed: "crashed",
    ActorRestarted: "restarted",
    ActorStopped: "stopped",
    Escalated: "escalated",
}

ActorEvent = ActorCrashed | ActorRestarted | ActorStopped | Escalated


def actor_event_data(event: ActorEvent) -> dict[str, Any]:
    return {"event": _ACTOR_EVENTS[type(event)], **fields_of(event)}


def spot_data(tick: SpotTick, series: list[str] | None = None) -> dict[str, Any]:
    """An index print; ``series``: the series settling on its index (when known)."""
    body = {"kind": "spot", **fields_of(tick)}
    if series is not None:
        body["series"] = series
    return body


def book_data(book: BookUpdate) -> dict[str, Any]:
    """Top of book only: the depth ladders are too heavy to fan out at book rate."""
    return {
        "kind": "book",
        "ticker": book.ticker,
        "series": series_of(book.ticker),
        "seq": book.seq,
        "ts": book.ts,
        "yes_bid": book.yes_bid,
        "yes_ask": book.yes_ask,
        "no_bid": book.no_bid,
        "no_ask": book.no_ask,
        "yes_mid": book.yes_mid,
        "stale": book.stale,
    }


def market_data(info: MarketInfo) -> dict[str, Any]:
    body = {"kind": "market", **fields_of(info), "tradeable": info.tradeable}
    body["series"] = info.series or series_of(info.ticker)
    return body


def lifecycle_data(event: MarketLifecycle) -> dict[str, Any]:
    return {"kind": "lifecycle", **fields_of(event), "series": series_of(event.ticker)}


__all__ = [
    "ActorEvent",
    "actor_event_data",
    "alert_data",
    "book_data",
    "decision_data",
    "dumps",
    "envelope",
    "error_frame",
    "fields_of",
    "fill_execution",
    "lifecycle_data",
    "market_data",
    "order_execution",
    "plain",
    "signal_data",
    "spot_data",
    "status_text",
]
