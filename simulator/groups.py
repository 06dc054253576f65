"""Order groups: an exchange-side cap on contracts matched over a rolling 15 seconds.

A group counts the contracts its orders match in the last ``WINDOW_SECONDS``
(simulated time). The cap is a maximum: a fill is cut so the count never passes
the limit, and once the count reaches it the group is *triggered* — its resting
orders are canceled and orders naming it are refused until it is reset. That is
what makes a group a kill switch a bot can rely on when it is no longer there to
stop itself. Pure state; the matching engine does the canceling.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from decimal import Decimal

from kalshi.units import ZERO
from simulator import errors

WINDOW_SECONDS = 15
MAX_CONTRACTS_LIMIT = Decimal(1_000_000)  # Kalshi accepts limits of 1 to 1,000,000

ORDER_GROUP_NOT_FOUND = "order_group_not_found"
ORDER_GROUP_TRIGGERED = "order_group_triggered"


@dataclass(slots=True)
class OrderGroup:
    """One user's group: its limit, what it matched recently, and its orders."""

    group_id: str
    user_id: str
    limit: Decimal
    triggered: bool = False
    order_ids: list[str] = field(default_factory=list)
    _matched: deque[tuple[float, Decimal]] = field(default_factory=deque)

    def matched(self, now: float) -> Decimal:
        """Contracts matched in ``(now - WINDOW_SECONDS, now]``."""
        while self._matched and self._matched[0][0] <= now - WINDOW_SECONDS:
            self._matched.popleft()
        return sum((count for _, count in self._matched), ZERO)

    def room(self, now: float) -> Decimal:
        """Contracts the group may still match now."""
        return max(self.limit - self.matched(now), ZERO)

    def record(self, count: Decimal, now: float) -> None:
        self._matched.append((now, count))

    def exhausted(self, now: float) -> bool:
        return self.matched(now) >= self.limit

    def reset(self) -> None:
        self._matched.clear()
        self.triggered = False


class OrderGroups:
    """Every group of every user, by id."""

    def __init__(self) -> None:
        self._groups: dict[str, OrderGroup] = {}

    def add(self, group: OrderGroup) -> None:
        self._groups[group.group_id] = group

    def remove(self, group: OrderGroup) -> None:
        self._groups.pop(group.group_id, None)

    def of_user(self, user_id: str) -> list[OrderGroup]:
        return [g for g in self._groups.values() if g.user_id == user_id]

    def find(self, group_id: str | None) -> OrderGroup | None:
        return None if group_id is None else self._groups.get(group_id)

    def get(self, user_id: str, group_id: str) -> OrderGroup:
        """The user's group; 404 when there is none (another user's is none too)."""
        group = self._groups.get(group_id)
        if group is None or group.user_id != user_id:
            raise errors.not_found("order group not found", f"order_group_id={group_id}")
        return group

    def for_order(self, user_id: str, group_id: str) -> OrderGroup:
        """The group a new order names: 400 when unknown or triggered."""
        group = self._groups.get(group_id)
        if group is None or group.user_id != user_id:
            raise errors.ExchangeError(
                400,
                ORDER_GROUP_NOT_FOUND,
                "the order group does not exist",
                f"order_group_id={group_id}",
            )
        if group.triggered:
            raise errors.ExchangeError(
                400,
                ORDER_GROUP_TRIGGERED,
                "the order group was triggered: no new orders until it is reset",
                f"order_group_id={group_id}",
            )
        return group


def check_limit(limit: Decimal) -> Decimal:
    """A contracts limit: whole contracts from 1 to 1,000,000."""
    if limit != limit.to_integral_value() or not 1 <= limit <= MAX_CONTRACTS_LIMIT:
        raise errors.invalid(
            "contracts_limit must be a whole number of contracts from 1 to 1000000",
            f"contracts_limit={limit}",
        )
    return limit
