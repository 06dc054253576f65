"""Order writes through Kalshi's V2 endpoints, and the order reads that remain.

Writes go to ``/portfolio/events/orders`` only; the V1 write paths answer 410 since
June 2026 and no code here names them. What a create may leave behind is never guessed:

- A create is retried only with its own ``client_order_id``, so the exchange's duplicate
  check makes a retry harmless; a duplicate answer is resolved by looking the order up.
  The create, its retries and that lookup end by ``create_deadline`` (the order actor
  sends nothing else meanwhile).
- When the last attempt failed after one that may have arrived (a timeout, a 5xx), the
  order is looked up: found, it is the answer; otherwise :class:`OrderOutcomeUnknown` —
  never a plain error a caller could read as "rejected".
- A 2xx we cannot read is :class:`MalformedOrderAnswer` (logged with the raw body).
- A 410 or ``deprecated_*`` answer is :class:`DeprecatedEndpoint`, sent once.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from loguru import logger

from kalshi.errors import (
    DeprecatedEndpoint,
    DuplicateOrder,
    KalshiError,
    MalformedOrderAnswer,
    NotFound,
    OrderOutcomeUnknown,
    OrderRejected,
    ParseError,
    TransportError,
    error_from_item,
)
from kalshi.fields import Fields
from kalshi.models import Order, Page
from kalshi.orders import (
    AmendedOrder,
    BatchCancelEntry,
    BatchCreateEntry,
    CanceledOrder,
    CreatedOrder,
    DecreasedOrder,
    OrderGroup,
    OrderRequestV2,
    check_count,
    check_price,
)
from kalshi.rest_core import CREATE_ORDER_PATH, Answer, RestCore, params_of, segment
from kalshi.units import ZERO, format_count, format_dollars
from messages.vocabulary import BOOK_SIDES, BookSide

ORDERS_PATH = "/portfolio/orders"  # reads only
EVENT_ORDERS_PATH = CREATE_ORDER_PATH
BATCH_PATH = EVENT_ORDERS_PATH + "/batched"
ORDER_GROUPS_PATH = "/portfolio/order_groups"
RAW_LIMIT = 2000  # characters of a malformed answer kept for the log and the error


def _stamp_ms(order: Order) -> int:
    """When the exchange last spoke of ``order``; our clock if it never said."""
    moment = order.last_update_time or order.created_time
    return int(moment.timestamp() * 1000) if moment is not None else int(time.time() * 1000)


def _malformed(
    endpoint: str, answer: Answer | None, coid: str, problem: str
) -> MalformedOrderAnswer:
    raw = None if answer is None else answer.text[:RAW_LIMIT]
    status = None if answer is None else answer.status
    logger.error(
        "kalshi {}: unusable answer (HTTP {}) for client_order_id {}: {}; body: {}",
        endpoint,
        status,
        coid,
        problem,
        raw,
    )
    return MalformedOrderAnswer(
        f"{endpoint}: HTTP {status} answer unusable ({problem})",
        client_order_id=coid,
        raw=raw,
        status=status,
    )


class OrderApi(RestCore):
    """V2 order writes, order groups and order lookups."""

    # -- create --------------------------------------------------------------------------

    def create_order(self, request: OrderRequestV2) -> CreatedOrder:
        """``POST /portfolio/events/orders``; the flat answer is the order's first state."""
        body = request.to_wire()
        coid = request.client_order_id
        deadline = self.deadline_in(self.create_deadline)

        def send(attempt: int) -> CreatedOrder:
            answer = self._send(
                "POST",
                EVENT_ORDERS_PATH,
                endpoint="create_order",
                attempt=attempt,
                body=body,
                order_write=True,
                create=True,
                presigned=self._order_headers,
                deadline=deadline,
            )
            try:
                return CreatedOrder.from_wire(answer.data)
            except ParseError as exc:
                raise _malformed("create_order", answer, coid, exc.message) from None

        def resolve(error: KalshiError, uncertain: bool) -> CreatedOrder | None:
            if isinstance(error, OrderOutcomeUnknown | DeprecatedEndpoint):
                return None
            if isinstance(error, DuplicateOrder) or uncertain:
                return self._recover(request, error, deadline)
            return None

        return self._with_retries("create_order", send, resolve, deadline=deadline)

    def _recover(
        self, request: OrderRequestV2, error: KalshiError, deadline: float | None
    ) -> CreatedOrder:
        """The order a create may have made, found by its ``client_order_id``, or unknown."""
        coid = request.client_order_id
        try:
            found = self._find_orders({coid}, ticker=request.ticker, deadline=deadline).get(coid)
        except KalshiError as lookup_error:
            raise OrderOutcomeUnknown(
                f"create_order failed ({error}) and the lookup failed ({lookup_error})",
                client_order_id=coid,
                cause=error,
            ) from error
        if found is None:
            raise OrderOutcomeUnknown(
                f"create_order failed ({error}) and no order has this client_order_id yet",
                client_order_id=coid,
                cause=error,
                claimed=isinstance(error, DuplicateOrder),
            ) from error
        self._check_same(request, found, error)
        logger.info("kalshi create_order: {} resolved by lookup after {!r}", coid, error)
        return CreatedOrder.from_order(found, _stamp_ms(found))

    @staticmethod
    def _check_same(request: OrderRequestV2, found: Order, error: KalshiError) -> None:
        """A found order must be ours: the id was not reused for something else."""
        if (found.ticker, found.book_side) != (request.ticker, request.side):
            raise DuplicateOrder(
                f"client_order_id {request.client_order_id} belongs to a different order "
                f"({found.ticker} {found.book_side})",
                status=error.status,
                code=error.code,
            )

    # -- cancel, amend, decrease ---------------------------------------------------------

    def cancel_order(
        self,
        order_id: str,
        *,
        market_ticker: str | None = None,
        exchange_index: int | None = None,
        subaccount: int | None = None,
    ) -> CanceledOrder:
        """Cancel the rest of an order. A 404 means unknown or already done (a fill won)."""
        path = f"{EVENT_ORDERS_PATH}/{segment(order_id)}"
        params = params_of(
            subaccount=subaccount, exchange_index=exchange_index, market_ticker=market_ticker
        )

        def send(attempt: int) -> CanceledOrder:
            data = self._attempt(
                "DELETE",
                path,
                endpoint="cancel_order",
                attempt=attempt,
                params=params,
                order_write=True,
            )
            return CanceledOrder.from_wire(data)

        def resolve(error: KalshiError, uncertain: bool) -> CanceledOrder | None:
            # An earlier attempt may have cancelled it; then the retry sees 404 or a refusal.
            if uncertain and isinstance(error, NotFound | OrderRejected):
                order = self.get_order(order_id)
                if order.status != "resting":
                    return CanceledOrder(order.order_id, order.client_order_id, None, None)
            return None

        return self._with_retries("cancel_order", send, resolve)

    def amend_order(
        self,
        order_id: str,
        *,
        ticker: str,
        side: BookSide,
        price: Decimal,
        count: Decimal,
        client_order_id: str | None = None,
        updated_client_order_id: str | None = None,
        expiration_time: int | None = None,
        exchange_index: int | None = None,
    ) -> AmendedOrder:
        """New YES price and/or total fillable ``count`` (filled + wanted resting).

        Not repeated after an attempt that may have arrived: the caller reads the order.
        """
        if side not in BOOK_SIDES:
            raise ValueError(f"side must be bid or ask, not {side!r}")
        if expiration_time is not None and expiration_time < 0:
            raise ValueError("expiration_time must be 0 (none) or a Unix time in seconds")
        body: dict[str, Any] = {
            "ticker": ticker,
            "side": side,
            "price": format_dollars(check_price(price)),
            "count": format_count(check_count(count)),
        }
        optional = {
            "client_order_id": client_order_id,
            "updated_client_order_id": updated_client_order_id,
            "expiration_time": expiration_time,
            "exchange_index": exchange_index,
        }
        body.update((key, value) for key, value in optional.items() if value is not None)
        path = f"{EVENT_ORDERS_PATH}/{segment(order_id)}/amend"
        return self._with_retries(
            "amend_order",
            lambda attempt: AmendedOrder.from_wire(
                self._attempt(
                    "POST",
                    path,
                    endpoint="amend_order",
                    attempt=attempt,
                    body=body,
                    order_write=True,
                )
            ),
            retry_uncertain=False,
        )

    def decrease_order(
        self,
        order_id: str,
        *,
        reduce_by: Decimal | None = None,
        reduce_to: Decimal | None = None,
        market_ticker: str | None = None,
        exchange_index: int | None = None,
    ) -> DecreasedOrder:
        """Shrink a resting order by ``reduce_by`` or to ``reduce_to`` (exactly one).

        Not repeated after an attempt that may have arrived (a second ``reduce_by`` would
        shrink it twice): the caller reads the order.
        """
        if (reduce_by is None) == (reduce_to is None):
            raise ValueError("give exactly one of reduce_by and reduce_to")
        body: dict[str, Any] = {}
        if reduce_by is not None:
            body["reduce_by"] = format_count(check_count(reduce_by, "reduce_by"))
        if reduce_to is not None:
            if reduce_to != ZERO:
                check_count(reduce_to, "reduce_to")
            body["reduce_to"] = format_count(reduce_to)
        if market_ticker is not None:
            body["market_ticker"] = market_ticker
        if exchange_index is not None:
            body["exchange_index"] = exchange_index
        path = f"{EVENT_ORDERS_PATH}/{segment(order_id)}/decrease"
        return self._with_retries(
            "decrease_order",
            lambda attempt: DecreasedOrder.from_wire(
                self._attempt(
                    "POST",
                    path,
                    endpoint="decrease_order",
                    attempt=attempt,
                    body=body,
                    order_write=True,
                )
            ),
            retry_uncertain=False,
        )

    def cancel_all_orders(self, *, subaccount: int | None = None) -> None:
        """``DELETE /portfolio/events/orders``: every resting order, every shard (204)."""
        params = params_of(subaccount=subaccount)
        self._with_retries(
            "cancel_all_orders",
            lambda attempt: self._send(
                "DELETE",
                EVENT_ORDERS_PATH,
                endpoint="cancel_all_orders",
                attempt=attempt,
                params=params,
                order_write=True,
            ),
        )

    # -- batches -------------------------------------------------------------------------

    def batch_create_orders(self, requests: Sequence[OrderRequestV2]) -> list[BatchCreateEntry]:
        """Create several orders in one request; one entry per request, in its order.

        Retried like a single create (same ``client_order_id``s). Entries the exchange
        calls duplicates, or a batch whose answer was lost, are resolved by lookup: each
        order is then found or :class:`OrderOutcomeUnknown`.
        """
        if not requests:
            return []
        coids = [r.client_order_id for r in requests]
        if len(set(coids)) != len(coids):
            raise ValueError("client_order_id repeated within one batch")
        body = {"orders": [r.to_wire() for r in requests]}

        def send(attempt: int) -> list[BatchCreateEntry]:
            answer = self._send(
                "POST",
                BATCH_PATH,
                endpoint="batch_create_orders",
                attempt=attempt,
                body=body,
                order_write=True,
                create=True,
                items=len(requests),
            )
            return _batch_created(answer, requests)

        def resolve(error: KalshiError, uncertain: bool) -> list[BatchCreateEntry] | None:
            if uncertain and not isinstance(error, DeprecatedEndpoint):
                return self._recover_all(requests, error)
            return None

        entries = self._with_retries("batch_create_orders", send, resolve)
        duplicates = [
            r for r, e in zip(requests, entries, strict=True) if isinstance(e.error, DuplicateOrder)
        ]
        if not duplicates:
            return entries
        recovered = {e.client_order_id: e for e in self._recover_all(duplicates, None)}
        return [recovered.get(e.client_order_id, e) for e in entries]

    def _recover_all(
        self, requests: Sequence[OrderRequestV2], error: KalshiError | None
    ) -> list[BatchCreateEntry]:
        """Each request's order found by ``client_order_id``, or an unknown outcome."""
        cause = f" after {error}" if error is not None else ""
        found: dict[str, Order] = {}
        failure: KalshiError | None = None
        for ticker in dict.fromkeys(r.ticker for r in requests):
            wanted = {r.client_order_id for r in requests if r.ticker == ticker}
            try:
                found.update(self._find_orders(wanted, ticker=ticker))
            except KalshiError as exc:
                failure = exc
        entries = []
        for request in requests:
            coid = request.client_order_id
            order = found.get(coid)
            if order is not None and (order.ticker, order.book_side) == (
                request.ticker,
                request.side,
            ):
                result = CreatedOrder.from_order(order, _stamp_ms(order))
                entries.append(BatchCreateEntry(result, None, coid))
                continue
            if order is not None:
                problem: KalshiError = DuplicateOrder(
                    f"client_order_id {coid} belongs to a different order"
                )
            else:
                reason = f"lookup failed ({failure})" if failure else "not found"
                problem = OrderOutcomeUnknown(
                    f"batch create{cause}: {reason}", client_order_id=coid, cause=error
                )
            entries.append(BatchCreateEntry(None, problem, coid))
        return entries

    def batch_cancel_orders(
        self, orders: Sequence[tuple[str, str | None]]
    ) -> list[BatchCancelEntry]:
        """Cancel several orders, each ``(order_id, market_ticker)``; entries in that order.

        An entry's :class:`NotFound` means the order is not resting (done, or already
        cancelled — also by an earlier attempt of this call whose answer was lost).
        """
        if not orders:
            return []
        body = {
            "orders": [
                {"order_id": oid, **({"market_ticker": ticker} if ticker else {})}
                for oid, ticker in orders
            ]
        }

        def send(attempt: int) -> list[BatchCancelEntry]:
            data = self._attempt(
                "DELETE",
                BATCH_PATH,
                endpoint="batch_cancel_orders",
                attempt=attempt,
                body=body,
                order_write=True,
                items=len(orders),
            )
            return _batch_canceled(data, [oid for oid, _ in orders])

        return self._with_retries("batch_cancel_orders", send)

    # -- order groups --------------------------------------------------------------------

    def create_order_group(self, contracts_limit: int) -> OrderGroup:
        """A group capping contracts matched over a rolling 15 s (``contracts_limit`` ≥ 1).

        Retried like a read: a group made by a lost attempt holds no orders and is harmless.
        """
        _check_limit(contracts_limit)
        body = {"contracts_limit": contracts_limit}
        data = self._with_retries(
            "create_order_group",
            lambda attempt: self._attempt(
                "POST",
                ORDER_GROUPS_PATH + "/create",
                endpoint="create_order_group",
                attempt=attempt,
                body=body,
            ),
        )
        return OrderGroup.from_created(data, contracts_limit)

    def get_order_group(self, order_group_id: str) -> OrderGroup:
        data = self._get(f"{ORDER_GROUPS_PATH}/{segment(order_group_id)}", "get_order_group")
        return OrderGroup.from_detail(order_group_id, data)

    def get_order_groups(self) -> list[OrderGroup]:
        data = self._get(ORDER_GROUPS_PATH, "get_order_groups")
        raw = Fields("GetOrderGroupsResponse", data).raw("order_groups") or []
        if not isinstance(raw, list):
            raise ParseError("get_order_groups: 'order_groups' is not a list")
        groups = []
        for entry in raw:
            try:
                groups.append(OrderGroup.from_wire(entry))
            except ParseError as exc:
                logger.warning("kalshi get_order_groups: skipping malformed entry: {}", exc)
        return groups

    def trigger_order_group(self, order_group_id: str) -> None:
        """Cancel every order of the group and refuse new ones until it is reset."""
        self._group_write("PUT", order_group_id, "/trigger", "trigger_order_group", {})

    def reset_order_group(self, order_group_id: str) -> None:
        self._group_write("PUT", order_group_id, "/reset", "reset_order_group", {})

    def delete_order_group(self, order_group_id: str) -> None:
        self._group_write("DELETE", order_group_id, "", "delete_order_group", None)

    def update_order_group_limit(self, order_group_id: str, contracts_limit: int) -> None:
        _check_limit(contracts_limit)
        body = {"contracts_limit": contracts_limit}
        self._group_write("PUT", order_group_id, "/limit", "update_order_group_limit", body)

    def _group_write(
        self,
        method: str,
        order_group_id: str,
        suffix: str,
        endpoint: str,
        body: dict[str, Any] | None,
    ) -> None:
        """A group write answered with an empty object; each is safe to repeat."""
        path = f"{ORDER_GROUPS_PATH}/{segment(order_group_id)}{suffix}"

        def resolve(error: KalshiError, uncertain: bool) -> bool | None:
            # A delete whose first answer was lost finds the group gone on its retry.
            return (
                True if uncertain and method == "DELETE" and isinstance(error, NotFound) else None
            )

        def send(attempt: int) -> bool:
            self._send(method, path, endpoint=endpoint, attempt=attempt, body=body)
            return True

        self._with_retries(endpoint, send, resolve)

    # -- order reads ---------------------------------------------------------------------

    def get_order(self, order_id: str) -> Order:
        data = self._get(f"{ORDERS_PATH}/{segment(order_id)}", "get_order")
        return Order.from_wire(self._field(data, "order", "get_order"))

    def get_orders(
        self,
        *,
        ticker: str | None = None,
        event_ticker: str | None = None,
        status: str | None = None,
        min_ts: int | None = None,
        max_ts: int | None = None,
        limit: int | None = None,
        cursor: str | None = None,
        subaccount: int | None = None,
        exchange_index: int | None = None,
    ) -> Page[Order]:
        params = params_of(
            ticker=ticker,
            event_ticker=event_ticker,
            status=status,
            min_ts=min_ts,
            max_ts=max_ts,
            limit=limit,
            cursor=cursor,
            subaccount=subaccount,
            exchange_index=exchange_index,
        )
        return self._orders_page(params)

    def _orders_page(self, params: dict[str, str], deadline: float | None = None) -> Page[Order]:
        data = self._get(ORDERS_PATH, "get_orders", params, deadline=deadline)
        return self._page(data, "orders", Order.from_wire, "get_orders")

    def find_order_by_client_order_id(
        self, client_order_id: str, *, ticker: str | None = None, max_pages: int | None = None
    ) -> Order | None:
        """Scan ``GET /portfolio/orders`` (the spec has no client_order_id filter)."""
        return self._find_orders({client_order_id}, ticker=ticker, max_pages=max_pages).get(
            client_order_id
        )

    def _find_orders(
        self,
        client_order_ids: Iterable[str],
        *,
        ticker: str | None,
        max_pages: int | None = None,
        deadline: float | None = None,
    ) -> dict[str, Order]:
        """One scan of the order list for several ``client_order_id``s; a scan that reaches
        ``deadline`` before its end raises :class:`TransportError` (not found ≠ not read)."""
        wanted = set(client_order_ids)
        found: dict[str, Order] = {}
        cursor: str | None = None
        for pages in range(max_pages or self._lookup_pages):
            if pages and deadline is not None and self._perf() >= deadline:
                raise TransportError(f"order lookup stopped at its deadline after {pages} pages")
            params = params_of(ticker=ticker, cursor=cursor, limit=200)
            page = self._orders_page(params, deadline)
            for order in page.items:
                if order.client_order_id in wanted:
                    found[order.client_order_id] = order
            if len(found) == len(wanted) or page.cursor is None or page.cursor == cursor:
                break
            cursor = page.cursor
        return found


def _check_limit(contracts_limit: int) -> None:
    if isinstance(contracts_limit, bool) or not isinstance(contracts_limit, int):
        raise ValueError("contracts_limit must be a whole number of contracts")
    if contracts_limit < 1:
        raise ValueError(f"contracts_limit must be at least 1, not {contracts_limit}")


def _entries(data: Any, model: str) -> list[Any]:
    orders = Fields(model, data).value("orders", True)
    if not isinstance(orders, list):
        raise ParseError(f"{model}.orders: expected a list")
    return orders


def _batch_created(answer: Answer, requests: Sequence[OrderRequestV2]) -> list[BatchCreateEntry]:
    """Match the answer's entries to our requests: by ``client_order_id``, else by position."""
    try:
        raw = _entries(answer.data, "BatchCreateOrdersV2Response")
    except ParseError as exc:
        return [_created_entry(None, answer, r.client_order_id, exc.message) for r in requests]
    by_coid = {
        e["client_order_id"]: e for e in raw if isinstance(e, dict) and e.get("client_order_id")
    }
    anonymous = [None if isinstance(e, dict) and e.get("client_order_id") else e for e in raw]
    entries = []
    for position, request in enumerate(requests):
        coid = request.client_order_id
        item = by_coid.get(coid)
        if item is None and position < len(anonymous):
            item = anonymous[position]
        entries.append(_created_entry(item, answer, coid, "no entry for this order"))
    return entries


def _created_entry(item: Any, answer: Answer, coid: str, missing: str) -> BatchCreateEntry:
    """One batch entry: the order's first state, its refusal, or a malformed answer."""
    if item is None:
        return BatchCreateEntry(
            None, _malformed("batch_create_orders", answer, coid, missing), coid
        )
    if isinstance(item, dict) and item.get("error") is not None:
        return BatchCreateEntry(None, error_from_item(item["error"]), coid)
    try:
        return BatchCreateEntry(
            CreatedOrder.from_wire(item, "BatchCreateOrdersV2Response.orders"), None, coid
        )
    except ParseError as exc:
        problem = _malformed("batch_create_orders", answer, coid, exc.message)
        return BatchCreateEntry(None, problem, coid)


def _batch_canceled(data: Any, order_ids: Sequence[str]) -> list[BatchCancelEntry]:
    raw = _entries(data, "BatchCancelOrdersV2Response")
    by_id = {e["order_id"]: e for e in raw if isinstance(e, dict) and e.get("order_id")}
    entries = []
    for order_id in order_ids:
        item = by_id.get(order_id)
        if item is None:
            problem = ParseError(f"batch_cancel_orders: no entry for order {order_id}")
            entries.append(BatchCancelEntry(order_id, ZERO, problem))
            continue
        f = Fields("BatchCancelOrdersV2Response.orders", item)
        error = None if item.get("error") is None else error_from_item(item["error"])
        try:
            reduced = f.opt_fixed_count("reduced_by") or ZERO
            entries.append(
                BatchCancelEntry(
                    order_id, reduced, error, f.opt_text("client_order_id"), f.opt_integer("ts_ms")
                )
            )
        except ParseError as exc:
            entries.append(BatchCancelEntry(order_id, ZERO, exc))
    return entries
