"""Kalshi's JSON for the V2 order writes, order groups and the account's API limits.

The V2 answers are flat acknowledgements (``CreateOrderV2Response`` and its
siblings in ``openapi.yaml``), not Order objects: counts as fixed-point
strings, averages in YES dollars up to 6 decimals, times as Unix milliseconds.
A field that does not apply (an average with nothing filled, the counts of an
amend that changed neither) is left out, as the spec's "only present when"
says; none of them is required.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from kalshi.units import ONE, ZERO, format_count, format_dollars
from messages.vocabulary import Side
from simulator.config import ApiLimitsConfig
from simulator.errors import ExchangeError
from simulator.groups import OrderGroup
from simulator.orders import OrderSnapshot
from simulator.wire import EXCHANGE_INDEX, SUBACCOUNT, ms

JSON = dict[str, Any]


def _averages(count: Decimal, cost: Decimal, fees: Decimal, outcome: Side) -> JSON:
    """Average YES price and fee per contract of ``count`` contracts (empty for none)."""
    if count == ZERO:
        return {}
    own = cost / count
    return {
        "average_fill_price": format_dollars(own if outcome == "yes" else ONE - own),
        "average_fee_paid": format_dollars(fees / count),
    }


def _with_client_id(body: JSON, client_order_id: str) -> JSON:
    if client_order_id:
        body["client_order_id"] = client_order_id
    return body


def created_json(order: OrderSnapshot) -> JSON:
    """``CreateOrderV2Response``: the order's state right after placement."""
    body = _with_client_id({"order_id": order.order_id}, order.client_order_id)
    body["fill_count"] = format_count(order.fill_count)
    body["remaining_count"] = format_count(order.remaining)
    body.update(
        _averages(
            order.fill_count,
            order.taker_fill_cost + order.maker_fill_cost,
            order.taker_fees + order.maker_fees,
            order.outcome,
        )
    )
    body["ts_ms"] = ms(order.created_ts)
    return body


def canceled_json(order: OrderSnapshot, reduced: Decimal) -> JSON:
    body = _with_client_id({"order_id": order.order_id}, order.client_order_id)
    body["reduced_by"] = format_count(reduced)
    body["ts_ms"] = ms(order.last_update_ts)
    return body


def decreased_json(order: OrderSnapshot) -> JSON:
    body = _with_client_id({"order_id": order.order_id}, order.client_order_id)
    body["remaining_count"] = format_count(order.remaining)
    body["ts_ms"] = ms(order.last_update_ts)
    return body


def amended_json(before: OrderSnapshot, after: OrderSnapshot) -> JSON:
    """``AmendOrderV2Response``: counts only when the amend filled or resized the order."""
    filled = after.fill_count - before.fill_count
    body = _with_client_id({"order_id": after.order_id}, after.client_order_id)
    if filled > ZERO or after.remaining != before.remaining:
        body["remaining_count"] = format_count(after.remaining)
        body["fill_count"] = format_count(filled)
    body.update(
        _averages(
            filled,
            after.taker_fill_cost
            + after.maker_fill_cost
            - before.taker_fill_cost
            - before.maker_fill_cost,
            after.taker_fees + after.maker_fees - before.taker_fees - before.maker_fees,
            after.outcome,
        )
    )
    body["ts_ms"] = ms(after.last_update_ts)
    return body


def batch_failed_json(client_order_id: str, error: ExchangeError) -> JSON:
    """A batch item that was refused: its client id, if any, and the error."""
    return _with_client_id({"error": error.body()["error"]}, client_order_id)


def batch_cancel_failed_json(order_id: str, error: ExchangeError) -> JSON:
    return {"order_id": order_id, "reduced_by": format_count(ZERO), "error": error.body()["error"]}


# --- order groups -----------------------------------------------------------------------


def order_group_json(group: OrderGroup) -> JSON:
    """An ``OrderGroup`` in ``GET /portfolio/order_groups``.

    ``is_auto_cancel_enabled``: every simulated group cancels its orders at its limit.
    """
    return {
        "id": group.group_id,
        "contracts_limit_fp": format_count(group.limit),
        "is_auto_cancel_enabled": True,
        "exchange_index": EXCHANGE_INDEX,
    }


def order_group_detail_json(group: OrderGroup) -> JSON:
    """``GetOrderGroupResponse``: the group and the ids of every order placed in it."""
    return {
        "is_auto_cancel_enabled": True,
        "contracts_limit_fp": format_count(group.limit),
        "orders": list(group.order_ids),
        "exchange_index": EXCHANGE_INDEX,
    }


def order_group_created_json(group_id: str) -> JSON:
    return {"order_group_id": group_id, "subaccount": SUBACCOUNT, "exchange_index": EXCHANGE_INDEX}


# --- account ----------------------------------------------------------------------------


def account_limits_json(limits: ApiLimitsConfig) -> JSON:
    """``GetAccountApiLimitsResponse``: the usage tier and its read and write buckets."""
    return {
        "usage_tier": limits.usage_tier,
        "read": {"refill_rate": limits.read_refill_rate, "bucket_capacity": limits.read_capacity},
        "write": {
            "refill_rate": limits.write_refill_rate,
            "bucket_capacity": limits.write_capacity,
        },
        "grants": [
            {"exchange_instance": "event_contract", "level": limits.usage_tier, "source": "manual"}
        ]
        if limits.usage_tier != "basic"
        else [],
    }


def endpoint_costs_json(limits: ApiLimitsConfig) -> JSON:
    """``GetAccountEndpointCostsResponse``: the default cost and every other one."""
    return {
        "default_cost": limits.default_cost,
        "endpoint_costs": [
            {"method": method, "path": path, "cost": cost}
            for method, path, cost in limits.endpoint_costs
        ],
    }
