"""The ▶ WebSocket wire format: envelopes and the data each event type carries.

Every outgoing frame is ``{"type": ..., "data": {...}}`` encoded once with
orjson and shared by all clients. Decimals stay exact strings, as everywhere
else in sol15 (``messages.base``).
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from enum import Enum
from typing import Any

import orjson

from messages.base import Message
from messages.market_data import BookUpdate, MarketInfo, MarketLifecycle, SpotTick
from messages.status import Alert
from messages.system import ActorCrashed, ActorRestarted, ActorStopped, Escalated
from messages.trading import Fill, OrderUpdate, RiskDecision, Signal


def _default(value: object) -> object:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, frozenset | set):
        return sorted(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return fields_of(value)
    raise TypeError(f"cannot serialize {type(value).__name__}")


def dumps(value: object) -> bytes:
    return orjson.dumps(value, default=_default, option=orjson.OPT_NON_STR_KEYS)


def fields_of(msg: object) -> dict[str, Any]:
    """A dataclass's fields (not its ``type``), values left as they are for orjson."""
    return {f.name: getattr(msg, f.name) for f in dataclasses.fields(msg)}  # type: ignore[arg-type]


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
    """``trading_signal.data``: every Signal field (the contract's list plus ``signal_id`` etc.)."""
    return fields_of(signal)


def decision_data(decision: RiskDecision) -> dict[str, Any]:
    return fields_of(decision)


def fill_execution(fill: Fill, strategy_name: str, status: str) -> dict[str, Any]:
    """``trade_execution.data`` for a fill; ``trade_id`` is the exchange's fill id."""
    return {
        "trade_id": fill.trade_id,
        "client_order_id": fill.client_order_id,
        "ticker": fill.ticker,
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
    return {
        "trade_id": update.client_order_id,
        "client_order_id": update.client_order_id,
        "ticker": update.ticker,
        "side": update.side,
        "action": update.action,
        "quantity": update.filled + update.remaining,
        "price": update.price,
        "fee": update.fees,
        "status": update.status,
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


def spot_data(tick: SpotTick) -> dict[str, Any]:
    return {"kind": "spot", **fields_of(tick)}


def book_data(book: BookUpdate) -> dict[str, Any]:
    """Top of book only: the depth ladders are too heavy to fan out at book rate."""
    return {
        "kind": "book",
        "ticker": book.ticker,
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
    return {"kind": "market", **fields_of(info), "tradeable": info.tradeable}


def lifecycle_data(event: MarketLifecycle) -> dict[str, Any]:
    return {"kind": "lifecycle", **fields_of(event)}
