"""The bus-fed trade, order, signal and position history, for a bot without a ledger.

``MemoryHistory`` keeps a bounded history from the bus and answers the same
questions as the ledger's reader (``storage.history_api.HistoryReader``, which the
REST handlers see); readers may block (SQL), so the handlers call them off the
event loop.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from decimal import Decimal
from typing import Any

from hub.wire import plain
from kalshi.tickers import series_of
from messages.formats import money, status_text
from messages.status import Position
from messages.trading import Fill, OrderIntent, OrderUpdate, RiskDecision, Signal
from storage.history_api import (
    ACTIVE,
    STATUS_ALIASES,
    OrderCounts,
    SignalQuery,
    TradeQuery,
)
from storage.schema import ALL_MODES, UNKNOWN


class MemoryHistory:
    """The bus-fed history: newest ``limit`` orders and signals; thread-safe."""

    def __init__(self, limit: int = 5_000, mode: str | None = None, env: str | None = None) -> None:
        self.limit = limit
        self.mode = mode  # this session's mode: everything held here is of it
        self._scope = {"mode": mode or UNKNOWN, "env": env or UNKNOWN}  # as the ledger labels rows
        self._lock = threading.Lock()
        self._orders: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._by_exchange_id: dict[str, str] = {}
        self._signals: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._early_decisions: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._positions: list[dict[str, Any]] = []
        self._counts: dict[str, int] = {}

    # -- writing (the hub actor's thread) ------------------------------------------------

    def record_intent(self, intent: OrderIntent) -> None:
        with self._lock:
            record = self._order(intent.client_order_id, intent.created_at)
            if record["status"] is None:
                self._set_status(record, "pending")
            record.update(
                signal_id=intent.signal_id,
                strategy_name=intent.strategy_name,
                ticker=intent.ticker,
                side=intent.side,
                action=intent.action,
                quantity=intent.count,
                remaining=intent.count - record["filled"],
                price=money(intent.price),
                created_at=intent.created_at,
            )

    def record_update(self, update: OrderUpdate) -> float | None:
        """Apply an order update; returns intent → first update seconds when both are known."""
        with self._lock:
            record = self._order(update.client_order_id, update.timestamp)
            first = record["updates"] == 0
            record["updates"] += 1
            if update.order_id:
                record["order_id"] = update.order_id
                self._by_exchange_id[update.order_id] = update.client_order_id
            self._set_status(record, update.status)
            record.update(
                ticker=update.ticker,
                side=update.side,
                action=update.action,
                # A canceled order reports remaining 0: keep what was asked for.
                quantity=max(record["quantity"], update.count, update.filled + update.remaining),
                filled=update.filled,
                remaining=update.remaining,
                price=money(update.price),
                fee=money(update.fees),
                strategy_name=update.strategy_name or record["strategy_name"],
                reason=update.reason,
                updated_at=update.timestamp,
            )
            created: float | None = record["created_at"]
        if first and created:
            return max(0.0, update.timestamp - created)
        return None

    def record_fill(self, fill: Fill) -> tuple[str, str]:
        """Apply a fill; returns the order's strategy name and status after it."""
        with self._lock:
            key = fill.client_order_id or self._by_exchange_id.get(fill.order_id, fill.order_id)
            fresh = key not in self._orders
            record = self._order(key, fill.timestamp)
            record["order_id"] = record["order_id"] or fill.order_id
            self._by_exchange_id[fill.order_id] = key
            fills: list[dict[str, Any]] = record["fills"]
            if any(f["trade_id"] == fill.trade_id for f in fills):
                return record["strategy_name"], record["status"] or "executed"
            fills.append(plain(fill))
            if fresh:  # a fill for an order we never saw: the fill is all we know
                record.update(
                    ticker=fill.ticker,
                    side=fill.side,
                    action=fill.action,
                    quantity=fill.count,
                    price=money(fill.price),
                    strategy_name=fill.strategy_name,
                )
                self._set_status(record, "executed")
            filled = sum(int(f["count"]) for f in fills)
            cost = sum((Decimal(f["price"]) * int(f["count"]) for f in fills), Decimal(0))
            record["filled"] = max(record["filled"], filled)
            record["remaining"] = max(0, record["quantity"] - record["filled"])
            record["avg_fill_price"] = money(cost / filled)
            record["fill_fees"] = money(sum((Decimal(f["fee"]) for f in fills), Decimal(0)))
            record["updated_at"] = max(record["updated_at"] or 0.0, fill.timestamp)
            record["strategy_name"] = record["strategy_name"] or fill.strategy_name
            return record["strategy_name"], record["status"] or "executed"

    def record_signal(self, signal: Signal) -> None:
        with self._lock:
            entry = plain(signal)
            entry["decision"] = self._early_decisions.pop(signal.signal_id, None)
            entry.update(self._scope)
            self._signals[signal.signal_id] = entry
            self._signals.move_to_end(signal.signal_id)
            while len(self._signals) > self.limit:
                self._signals.popitem(last=False)

    def record_decision(self, decision: RiskDecision) -> None:
        with self._lock:
            body = plain(decision)
            entry = self._signals.get(decision.signal_id)
            if entry is not None:
                entry["decision"] = body
                return
            self._early_decisions[decision.signal_id] = body
            while len(self._early_decisions) > self.limit:
                self._early_decisions.popitem(last=False)

    def record_positions(self, positions: tuple[Position, ...]) -> None:
        snapshot = [plain(p) for p in positions]
        with self._lock:
            self._positions = snapshot

    # -- reading (any thread) ------------------------------------------------------------

    def _shows(self, mode: str | None) -> bool:
        """Whether ``?mode=`` asks for this session's mode (all it holds)."""
        return mode in (None, ALL_MODES) or self.mode in (None, mode)

    def trades(self, query: TradeQuery) -> list[dict[str, Any]]:
        wanted = STATUS_ALIASES.get(query.status) if query.status else None
        if not self._shows(query.mode):
            return []
        with self._lock:
            found = [
                _public(r)
                for r in reversed(self._orders.values())
                if (query.ticker is None or r["ticker"] == query.ticker)
                and (query.series is None or series_of(r["ticker"]) == query.series)
                and (query.strategy is None or r["strategy_name"] == query.strategy)
                and (wanted is None or r["status"] in wanted)
                and (query.since is None or (r["created_at"] or r["timestamp"]) >= query.since)
            ]
        return found[query.offset : query.offset + query.limit]

    def active_orders(self) -> list[dict[str, Any]]:
        return self.trades(TradeQuery(status="active", limit=self.limit))

    def find_order(self, order_id: str) -> dict[str, Any] | None:
        with self._lock:
            key = order_id if order_id in self._orders else self._by_exchange_id.get(order_id)
            record = self._orders.get(key) if key is not None else None
            return _public(record) if record is not None else None

    def positions(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._positions)

    def signals(self, query: SignalQuery) -> list[dict[str, Any]]:
        if not self._shows(query.mode):
            return []
        with self._lock:
            found = [
                dict(s)
                for s in reversed(self._signals.values())
                if (query.ticker is None or s["ticker"] == query.ticker)
                and (query.series is None or series_of(s["ticker"]) == query.series)
                and (query.strategy is None or s["strategy_name"] == query.strategy)
                and (query.since is None or s["timestamp"] >= query.since)
                and (query.status is None or _signal_status(s) == query.status)
            ]
        return found[query.offset : query.offset + query.limit]

    def counts(self) -> OrderCounts:
        with self._lock:
            c = self._counts
            return OrderCounts(
                active=c.get("pending", 0) + c.get("resting", 0),
                filled=c.get("executed", 0),
                canceled=c.get("canceled", 0),
                rejected=c.get("rejected", 0) + c.get("failed", 0),
                total=len(self._orders),
            )

    def status_counts(self) -> dict[str, int]:
        with self._lock:
            return {k: v for k, v in self._counts.items() if v}

    # -- internals (lock held) -------------------------------------------------------------

    def _order(self, key: str, at: float) -> dict[str, Any]:
        record = self._orders.get(key)
        if record is None:
            record = {
                "trade_id": key,
                "client_order_id": key,
                "order_id": None,
                "signal_id": None,
                "ticker": "",
                "side": "",
                "action": "",
                "quantity": 0,
                "filled": 0,
                "remaining": 0,
                "price": None,
                "avg_fill_price": None,
                "fee": money(0),
                "fill_fees": money(0),
                "status": None,
                "strategy_name": "",
                "reason": "",
                **self._scope,
                "created_at": None,
                "updated_at": at,
                "timestamp": at,
                "updates": 0,
                "fills": [],
            }
            self._orders[key] = record
            self._evict()
        return record

    def _set_status(self, record: dict[str, Any], status: str) -> None:
        old = record["status"]
        if old == status:
            return
        if old is not None:
            self._counts[old] -= 1
        self._counts[status] = self._counts.get(status, 0) + 1
        record["status"] = status

    def _evict(self) -> None:
        """Forget the oldest finished orders beyond the limit (active ones stay)."""
        excess = len(self._orders) - self.limit
        if excess <= 0:
            return
        for key in list(self._orders)[:-1]:  # never the order being added
            if excess <= 0:
                break
            record = self._orders[key]
            if record["status"] in ACTIVE:
                continue
            del self._orders[key]
            if record["status"] is not None:
                self._counts[record["status"]] -= 1
            if record["order_id"]:
                self._by_exchange_id.pop(record["order_id"], None)
            excess -= 1


def _public(record: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in record.items() if k != "updates"}
    out["fills"] = list(record["fills"])
    out["timestamp"] = record["created_at"] or record["timestamp"]
    out["status"] = record["status"] or "pending"
    out["status_text"] = status_text(out["status"], out["filled"], out["quantity"])
    return out


def _signal_status(entry: dict[str, Any]) -> str:
    decision = entry.get("decision")
    if decision is None:
        return "pending"
    return "approved" if decision["approved"] else "rejected"


__all__ = ["MemoryHistory"]
