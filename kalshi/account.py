"""The account's rate-limit budget as Kalshi reports it (``/account/limits``, ``/account/endpoint_costs``).

Read at start instead of guessing a tier: the token buckets and the endpoints whose cost
differs from the default size our client-side limiter (:mod:`kalshi.rate_limit`).
"""

from __future__ import annotations

from dataclasses import dataclass

from loguru import logger

from kalshi.errors import ParseError
from kalshi.fields import Fields


def _positive(f: Fields, key: str) -> int:
    value = f.integer(key)
    if value <= 0:
        raise f.fail(key, f"must be positive, got {value}")
    return value


@dataclass(frozen=True, slots=True)
class BucketLimit:
    """One token bucket: ``refill_rate`` tokens per second up to ``bucket_capacity``."""

    refill_rate: int
    bucket_capacity: int

    @classmethod
    def from_wire(cls, data: object, model: str = "BucketLimit") -> BucketLimit:
        f = Fields(model, data)
        return cls(_positive(f, "refill_rate"), _positive(f, "bucket_capacity"))


@dataclass(frozen=True, slots=True)
class AccountLimits:
    usage_tier: str
    read: BucketLimit
    write: BucketLimit

    @classmethod
    def from_wire(cls, data: object) -> AccountLimits:
        f = Fields("GetAccountApiLimitsResponse", data)
        return cls(
            f.text("usage_tier"),
            BucketLimit.from_wire(f.value("read", True), "GetAccountApiLimitsResponse.read"),
            BucketLimit.from_wire(f.value("write", True), "GetAccountApiLimitsResponse.write"),
        )


@dataclass(frozen=True, slots=True)
class EndpointCost:
    method: str  # upper case
    path: str  # a route such as /portfolio/events/orders/{order_id}
    cost: int

    @classmethod
    def from_wire(cls, data: object) -> EndpointCost:
        f = Fields("EndpointTokenCost", data)
        cost = f.integer("cost")
        if cost < 0:
            raise f.fail("cost", f"must not be negative, got {cost}")
        return cls(f.text("method").upper(), f.text("path"), cost)


@dataclass(frozen=True, slots=True)
class EndpointCosts:
    """The default cost and every endpoint that costs something else."""

    default_cost: int
    costs: tuple[EndpointCost, ...]

    @classmethod
    def from_wire(cls, data: object) -> EndpointCosts:
        f = Fields("GetAccountEndpointCostsResponse", data)
        default = _positive(f, "default_cost")
        raw = f.value("endpoint_costs", True)
        if not isinstance(raw, list):
            raise f.fail("endpoint_costs", "expected a list")
        costs = []
        for entry in raw:
            try:
                costs.append(EndpointCost.from_wire(entry))
            except ParseError as exc:
                logger.warning("kalshi endpoint_costs: skipping malformed entry: {}", exc)
        return cls(default, tuple(costs))
