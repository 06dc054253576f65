"""Order groups as users drive them: create, read, trigger, reset, delete, change the limit.

The cap itself is enforced where contracts match (:mod:`simulator.matching`);
this is the account-facing side, which also reports each change on the
``order_group_updates`` channel. Calls act at the exchange's current time: the
server brings the core up to the clock before each request.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from simulator.events import GroupEventType, OrderGroupEvent
from simulator.groups import OrderGroup, check_limit

if TYPE_CHECKING:
    from simulator.exchange import Exchange


class OrderGroupDesk:
    """One exchange's order groups, by user."""

    def __init__(self, exchange: Exchange) -> None:
        self._exchange = exchange
        self._engine = exchange.engine
        self._groups = exchange.engine.groups

    def _emit(self, group: OrderGroup, kind: GroupEventType, limit: Decimal | None = None) -> None:
        event = OrderGroupEvent(group.user_id, group.group_id, kind, limit, self._exchange.now)
        self._exchange.outbox.emit(event)

    def create(self, user_id: str, limit: Decimal) -> str:
        self._exchange.account(user_id)
        group = OrderGroup(self._exchange.ids.new(), user_id, check_limit(limit))
        self._groups.add(group)
        self._emit(group, "created", group.limit)
        return group.group_id

    def of_user(self, user_id: str) -> list[OrderGroup]:
        self._exchange.account(user_id)
        return self._groups.of_user(user_id)

    def get(self, user_id: str, group_id: str) -> OrderGroup:
        return self._groups.get(user_id, group_id)

    def trigger(self, user_id: str, group_id: str) -> None:
        """Cancel the group's resting orders and refuse new ones until it is reset."""
        self._engine.trigger(self._groups.get(user_id, group_id), self._exchange.now)
        self._exchange.flush_tickers()

    def reset(self, user_id: str, group_id: str) -> None:
        """Forget what the group matched and take orders again."""
        group = self._groups.get(user_id, group_id)
        group.reset()
        self._emit(group, "reset")

    def delete(self, user_id: str, group_id: str) -> None:
        """Cancel the group's resting orders and forget the group."""
        group = self._groups.get(user_id, group_id)
        self._engine.cancel_group_orders(group, self._exchange.now)
        self._groups.remove(group)
        self._emit(group, "deleted")
        self._exchange.flush_tickers()

    def set_limit(self, user_id: str, group_id: str, limit: Decimal) -> None:
        """A new limit; one that what the group matched recently already reaches triggers it."""
        group = self._groups.get(user_id, group_id)
        group.limit = check_limit(limit)
        self._emit(group, "limit_updated", group.limit)
        now = self._exchange.now
        if not group.triggered and group.exhausted(now):
            self._engine.trigger(group, now)
            self._exchange.flush_tickers()
