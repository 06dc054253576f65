"""A fake Kalshi REST client for the execution tests: a tiny in-memory exchange with the
V2 write methods of ``kalshi.order_api.OrderApi``, the order reads, and failure injection.

It answers with the wire layer's real classes, built the way the real client builds them:
each answer is first written as the JSON Kalshi sends (3.31.0: ``outcome_side``/``book_side``,
fixed-point strings, ``exchange_index``; no deprecated ``side``/``action`` on REST) and then
read through its model's ``from_wire``; errors come from ``kalshi.errors.error_from_response``.
So the fake cannot drift from what Kalshi sends without these tests noticing.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal as D
from typing import Any

from kalshi import errors
from kalshi.models import CanceledOrder, CreatedOrder, Fill, Order, OrderGroup, OrderRequestV2, Page
from kalshi.units import format_count, format_dollars

ONE = D(1)
ZERO = D(0)
ENVIRONMENT = "demo"
USER_ID = "u-fake"


def _time(ms: int) -> str:
    """RFC 3339, as Kalshi writes its timestamps."""
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat().replace("+00:00", "Z")


def answer_error(status: int, code: str, message: str, **where: bool) -> errors.KalshiError:
    """The typed error the real client raises for this HTTP answer."""
    body = {"error": {"code": code, "message": message}}
    return errors.error_from_response(status, body, environment=ENVIRONMENT, **where)


def rest_fill(
    trade_id: str,
    order_id: str,
    ticker: str,
    book_side: str,
    count: D,
    yes_price: D,
    *,
    fee: D = ZERO,
    is_taker: bool = True,
    ts_ms: int | None = None,
    exchange_index: int = 0,
) -> dict[str, Any]:
    """A ``Fill`` as ``GET /portfolio/fills`` lists it (no client_order_id, no legacy side)."""
    row: dict[str, Any] = {
        "fill_id": trade_id,
        "trade_id": trade_id,
        "order_id": order_id,
        "ticker": ticker,
        "market_ticker": ticker,
        "outcome_side": "yes" if book_side == "bid" else "no",
        "book_side": book_side,
        "count_fp": format_count(count),
        "yes_price_dollars": format_dollars(yes_price),
        "no_price_dollars": format_dollars(ONE - yes_price),
        "is_taker": is_taker,
        "fee_cost": format_dollars(fee),
        "exchange_index": exchange_index,
    }
    if ts_ms is not None:
        row.update(ts=ts_ms // 1000, created_time=_time(ts_ms))
    return row


@dataclass
class ExchangeOrder:
    """The exchange's own record of an order (its book-keeping, not a wire shape)."""

    order_id: str
    client_order_id: str
    ticker: str
    book_side: str
    yes_price: D
    initial_count: D
    time_in_force: str
    created_ms: int
    status: str = "resting"
    fill_count: D = ZERO
    remaining_count: D = ZERO
    taker_fees: D = ZERO
    maker_fees: D = ZERO
    taker_cost: D = ZERO
    maker_cost: D = ZERO
    order_group_id: str | None = None
    self_trade_prevention_type: str = "taker_at_cross"
    updated_ms: int = 0
    exchange_index: int = 0

    @property
    def own_price(self) -> D:
        """What one contract costs the order's owner: YES for a bid, NO for an ask."""
        return self.yes_price if self.book_side == "bid" else ONE - self.yes_price

    def to_wire(self) -> dict[str, Any]:
        """The ``Order`` of ``GET /portfolio/orders`` (3.31.0)."""
        row: dict[str, Any] = {
            "order_id": self.order_id,
            "user_id": USER_ID,
            "client_order_id": self.client_order_id,
            "ticker": self.ticker,
            "outcome_side": "yes" if self.book_side == "bid" else "no",
            "book_side": self.book_side,
            "type": "limit",
            "status": self.status,
            "yes_price_dollars": format_dollars(self.yes_price),
            "no_price_dollars": format_dollars(ONE - self.yes_price),
            "fill_count_fp": format_count(self.fill_count),
            "remaining_count_fp": format_count(self.remaining_count),
            "initial_count_fp": format_count(self.initial_count),
            "taker_fees_dollars": format_dollars(self.taker_fees),
            "maker_fees_dollars": format_dollars(self.maker_fees),
            "taker_fill_cost_dollars": format_dollars(self.taker_cost),
            "maker_fill_cost_dollars": format_dollars(self.maker_cost),
            "self_trade_prevention_type": self.self_trade_prevention_type,
            "created_time": _time(self.created_ms),
            "last_update_time": _time(self.updated_ms or self.created_ms),
            "exchange_index": self.exchange_index,
        }
        if self.order_group_id is not None:
            row["order_group_id"] = self.order_group_id
        return row


@dataclass
class FakeRest:
    """An exchange in memory. ``liquidity[ticker]`` contracts can be taken at once (then
    the rest rests, for GTC, or is cancelled); every fill costs ``fee`` per contract."""

    liquidity: dict[str, int] = field(default_factory=dict)
    fee: D = D("0.0168")
    page_size: int = 2  # small pages, so every reader has to page
    now_ms: int = 1_000_000
    orders: dict[str, ExchangeOrder] = field(default_factory=dict)
    rest_fills: list[dict[str, Any]] = field(default_factory=list)  # as GET /portfolio/fills
    fill_messages: list[dict[str, Any]] = field(default_factory=list)  # the `fill` channel's
    created: list[OrderRequestV2] = field(default_factory=list)  # every create that arrived
    calls: list[str] = field(default_factory=list)
    groups: dict[str, bool] = field(default_factory=dict)  # id → triggered
    positions: dict[str, D] = field(default_factory=dict)  # ticker → YES contracts held
    # failure injection
    deprecated: bool = False  # every V2 write answers 410 (as if the path were retired)
    lose_answers: int = 0  # the next creates are made, but their answers are lost
    lose_requests: int = 0  # the next creates never arrive, and the client cannot tell
    # the next creates never arrive, yet their retry hears 409 "already exists" and the
    # lookup after it finds nothing
    claim_unfound: int = 0
    malformed_answers: int = 0  # the next creates are made, their answers have no order_id
    refuse_next: errors.KalshiError | None = None  # the next create is refused with this
    failing_reads: int = 0  # the next reads fail with a 503
    refuse_groups: bool = False  # order groups are not available to this account
    closed: bool = False
    _ids: Any = field(default_factory=lambda: itertools.count(1))

    @property
    def fills(self) -> list[Fill]:
        """Every fill so far, oldest first, as the REST client reads them."""
        return [Fill.from_wire(row) for row in self.rest_fills]

    # -- writes ------------------------------------------------------------------------

    def create_order(self, request: OrderRequestV2) -> CreatedOrder:
        self.calls.append("create_order")
        coid = request.client_order_id
        self._admit(request)
        if self.claim_unfound:
            self.claim_unfound -= 1
            raise errors.OrderOutcomeUnknown(
                "create_order failed (409 already exists) and no order has this "
                "client_order_id yet",
                client_order_id=coid,
                cause=answer_error(409, "order_already_exists", "exists", create_order=True),
                claimed=True,
            )
        if self.lose_requests:
            self.lose_requests -= 1
            raise errors.OrderOutcomeUnknown(
                "create_order failed (timed out) and no order has this client_order_id yet",
                client_order_id=coid,
                cause=errors.TransportError("create_order timed out"),
            )
        self.created.append(request)
        existing = self._by_client_order_id(coid)
        if existing is not None:  # the duplicate check: the client finds the first one
            return CreatedOrder.from_order(Order.from_wire(existing.to_wire()), self.now_ms)
        order = self._make(request.to_wire())
        answer = self._created_answer(order)
        if self.lose_answers:
            self.lose_answers -= 1
            lost = answer_error(503, "service_unavailable", "unavailable")
            raise errors.OrderOutcomeUnknown(
                f"create_order failed ({lost}) and the lookup failed ({lost})",
                client_order_id=coid,
                cause=lost,
            )
        if self.malformed_answers:
            self.malformed_answers -= 1
            del answer["order_id"]
        try:
            return CreatedOrder.from_wire(answer)
        except errors.ParseError as exc:  # what the real client makes of it
            raise errors.MalformedOrderAnswer(
                f"create_order: HTTP 201 answer unusable ({exc.message})",
                client_order_id=coid,
                raw=json.dumps(answer),
                status=201,
            ) from None

    def _admit(self, request: OrderRequestV2) -> None:
        """Refuse a create as Kalshi would, before it makes anything."""
        if self.deprecated:
            raise self._retired(create=True)
        if self.refuse_next is not None:
            error, self.refuse_next = self.refuse_next, None
            raise error
        if request.order_group_id is not None and self.groups.get(request.order_group_id):
            raise answer_error(
                400,
                "order_group_triggered",
                "order group triggered",
                order_endpoint=True,
                create_order=True,
            )

    def _retired(self, *, create: bool = False) -> errors.KalshiError:
        return answer_error(
            410,
            "deprecated_v1_order_endpoint",
            "V1 order endpoints were retired",
            order_endpoint=True,
            create_order=create,
        )

    def _make(self, body: dict[str, Any]) -> ExchangeOrder:
        """Match what the body asks against the liquidity; rest the remainder of a GTC."""
        count, price = D(body["count"]), D(body["price"])
        order = ExchangeOrder(
            order_id=f"o-{next(self._ids)}",
            client_order_id=body["client_order_id"],
            ticker=body["ticker"],
            book_side=body["side"],
            yes_price=price,
            initial_count=count,
            time_in_force=body["time_in_force"],
            created_ms=self.now_ms,
            order_group_id=body.get("order_group_id"),
            self_trade_prevention_type=body["self_trade_prevention_type"],
        )
        available = self.liquidity.get(order.ticker, 1_000_000)
        take = min(count, D(available))
        self.liquidity[order.ticker] = available - int(take)
        order.remaining_count = count - take
        self.orders[order.order_id] = order
        if take:
            self._fill(order, take, is_taker=True)
        if order.remaining_count and order.time_in_force != "good_till_canceled":
            order.remaining_count = ZERO  # what an IOC could not take is cancelled
        order.status = (
            "resting" if order.remaining_count else ("executed" if take == count else "canceled")
        )
        return order

    def _created_answer(self, order: ExchangeOrder) -> dict[str, Any]:
        """A ``CreateOrderV2Response``; the averages only when something filled."""
        answer: dict[str, Any] = {
            "order_id": order.order_id,
            "client_order_id": order.client_order_id,
            "fill_count": format_count(order.fill_count),
            "remaining_count": format_count(order.remaining_count),
            "ts_ms": self.now_ms,
        }
        if order.fill_count:
            answer["average_fill_price"] = format_dollars(order.yes_price)
            answer["average_fee_paid"] = format_dollars(order.taker_fees / order.fill_count)
        return answer

    def trade(self, order: ExchangeOrder, count: int) -> Fill:
        """A later fill of a resting ``order`` (someone took it: ours is the maker side)."""
        fill = self._fill(order, D(count), is_taker=False)
        order.remaining_count -= count
        if order.remaining_count <= 0:
            order.status = "executed"
        return fill

    def _fill(self, order: ExchangeOrder, count: D, *, is_taker: bool) -> Fill:
        self.now_ms += 1000
        fee, cost = self.fee * count, order.own_price * count
        order.fill_count += count
        order.updated_ms = self.now_ms
        if is_taker:
            order.taker_fees += fee
            order.taker_cost += cost
        else:
            order.maker_fees += fee
            order.maker_cost += cost
        held = self.positions.get(order.ticker, ZERO) + (
            count if order.book_side == "bid" else -count
        )
        self.positions[order.ticker] = held
        trade_id = f"tr-{len(self.rest_fills) + 1}"
        row = rest_fill(
            trade_id,
            order.order_id,
            order.ticker,
            order.book_side,
            count,
            order.yes_price,
            fee=fee,
            is_taker=is_taker,
            ts_ms=self.now_ms,
            exchange_index=order.exchange_index,
        )
        self.rest_fills.append(row)
        self.fill_messages.append(self._fill_message(order, row, held))
        return Fill.from_wire(row)

    def _fill_message(self, order: ExchangeOrder, row: dict[str, Any], held: D) -> dict[str, Any]:
        """The same fill on the ``fill`` channel: it names the client_order_id, and still
        carries the deprecated direction fields (here as the buy of the exposed side)."""
        outcome = row["outcome_side"]
        message = {k: v for k, v in row.items() if k not in ("ticker", "fill_id", "created_time")}
        message.pop("no_price_dollars")
        message.update(
            client_order_id=order.client_order_id,
            side=outcome,
            action="buy",
            purchased_side=outcome,
            ts_ms=self.now_ms,
            post_position_fp=format_count(held),
        )
        return message

    def cancel_order(
        self,
        order_id: str,
        *,
        market_ticker: str | None = None,
        exchange_index: int | None = None,
        subaccount: int | None = None,
    ) -> CanceledOrder:
        self.calls.append("cancel_order")
        if self.deprecated:
            raise self._retired()
        order = self.orders.get(order_id)
        if order is None or order.status != "resting":
            raise answer_error(404, "not_found", "no such resting order", order_endpoint=True)
        reduced = order.remaining_count
        order.status, order.remaining_count, order.updated_ms = "canceled", ZERO, self.now_ms
        return CanceledOrder.from_wire(
            {
                "order_id": order_id,
                "client_order_id": order.client_order_id,
                "reduced_by": format_count(reduced),
                "ts_ms": self.now_ms,
            }
        )

    def cancel_all_orders(self, *, subaccount: int | None = None) -> None:
        """Every resting order of the account — a person's manual orders too."""
        self.calls.append("cancel_all_orders")
        for order in self.orders.values():
            if order.status == "resting":
                order.status, order.remaining_count = "canceled", ZERO

    def create_order_group(self, contracts_limit: int) -> OrderGroup:
        self.calls.append(f"create_order_group:{contracts_limit}")
        if self.refuse_groups:
            raise answer_error(400, "bad_request", "order groups unavailable")
        group_id = f"g-{len(self.groups) + 1}"
        self.groups[group_id] = False
        answer = {"order_group_id": group_id, "subaccount": 0, "exchange_index": 0}
        return OrderGroup.from_created(answer, contracts_limit)

    def trigger_order_group(self, order_group_id: str) -> None:
        self.calls.append("trigger_order_group")
        self.groups[order_group_id] = True
        for order in self.orders.values():
            if order.order_group_id == order_group_id and order.status == "resting":
                order.status, order.remaining_count = "canceled", ZERO

    def reset_order_group(self, order_group_id: str) -> None:
        self.calls.append("reset_order_group")
        self.groups[order_group_id] = False

    # -- reads -------------------------------------------------------------------------

    def _read(self, name: str) -> None:
        self.calls.append(name)
        if self.failing_reads:
            self.failing_reads -= 1
            raise answer_error(503, "service_unavailable", "unavailable")

    def _by_client_order_id(self, client_order_id: str) -> ExchangeOrder | None:
        return next((o for o in self.orders.values() if o.client_order_id == client_order_id), None)

    def get_order(self, order_id: str) -> Order:
        self._read("get_order")
        order = self.orders.get(order_id)
        if order is None:
            raise answer_error(404, "not_found", "no such order")
        return Order.from_wire(order.to_wire())

    def find_order_by_client_order_id(
        self, client_order_id: str, *, ticker: str | None = None, max_pages: int | None = None
    ) -> Order | None:
        self._read("find_order_by_client_order_id")
        order = self._by_client_order_id(client_order_id)
        return None if order is None else Order.from_wire(order.to_wire())

    def _page(
        self, rows: list[dict[str, Any]], cursor: str | None, limit: int | None
    ) -> tuple[list[dict[str, Any]], str | None]:
        """One page of ``rows`` and the cursor of the next (None after the last)."""
        start = int(cursor or 0)
        end = start + min(limit or self.page_size, self.page_size)
        return rows[start:end], (str(end) if end < len(rows) else None)

    def get_orders(
        self,
        *,
        ticker: str | None = None,
        status: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
        **_: Any,
    ) -> Page[Order]:
        self._read("get_orders")
        rows = [
            o.to_wire()
            for o in self.orders.values()
            if (status is None or o.status == status) and (ticker is None or o.ticker == ticker)
        ]
        page, after = self._page(rows, cursor, limit)
        return Page(tuple(Order.from_wire(row) for row in page), after)

    def get_fills(
        self,
        *,
        min_ts: int | None = None,
        max_ts: int | None = None,
        limit: int | None = None,
        cursor: str | None = None,
        **_: Any,
    ) -> Page[Fill]:
        self._read("get_fills")
        rows = [
            row
            for row in reversed(self.rest_fills)  # newest first, as Kalshi lists them
            if (min_ts is None or row["ts"] >= min_ts) and (max_ts is None or row["ts"] <= max_ts)
        ]
        page, after = self._page(rows, cursor, limit)
        return Page(tuple(Fill.from_wire(row) for row in page), after)

    def refresh_presigned(self) -> None:
        self.calls.append("refresh_presigned")

    def close(self) -> None:
        self.closed = True
