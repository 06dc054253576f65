"""WebSocket client against a scripted local server: auth, seq gaps, reconnects, events."""

from __future__ import annotations

import asyncio
import queue
import random
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass
from decimal import Decimal as D
from typing import Any

import pytest
from loguru import logger

from kalshi.auth import KEY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, Signer, verify_signature
from kalshi.backoff import Backoff
from kalshi.errors import AuthError
from kalshi.orderbook import OrderBook, PriceLevel
from kalshi.ws import KalshiWebSocket, WebSocketThread, WsCommandError
from kalshi.ws_events import (
    BookInvalidated,
    Connected,
    Disconnected,
    FillEvent,
    IndexValueEvent,
    LifecycleEvent,
    OrderbookDeltaEvent,
    OrderbookSnapshotEvent,
    OrderGroupEvent,
    OrderUpdateEvent,
    PositionEvent,
    SequenceGap,
    Subscribed,
    SubscriptionFailed,
    TickerEvent,
    TradeEvent,
)
from tests.kalshi.kalshi_fakes import KEY_ID
from tests.kalshi.kalshi_spec import asyncapi_problems
from tests.kalshi.kalshi_ws_fake import (
    Events,
    FakeWsServer,
    fill_message,
    index_5hz,
    order_group_update,
    user_order_message,
)

TICKER = "KXSOL15M-26MAY300015-15"
OTHER = "KXSOL15M-26MAY300030-30"


def run(coro: Coroutine[Any, Any, None], timeout: float = 20.0) -> None:
    asyncio.run(asyncio.wait_for(coro, timeout))


@dataclass
class Harness:
    server: FakeWsServer
    client: KalshiWebSocket
    events: Events
    task: asyncio.Task[None]


class RecordingBackoff(Backoff):
    """A fast, seeded backoff that remembers which attempts asked for a delay."""

    def __init__(self) -> None:
        super().__init__(base=0.01, maximum=0.05, rng=random.Random(5))
        self.attempts: list[int] = []

    def delay(self, attempt: int) -> float:
        self.attempts.append(attempt)
        return super().delay(attempt)


@asynccontextmanager
async def harness(
    signer: Signer | None,
    wrap: Callable[[Events], Callable[[Any], None]] | None = None,
    **options: Any,
) -> AsyncIterator[Harness]:
    server = FakeWsServer()
    url = await server.start()
    events = Events()
    options.setdefault("backoff", RecordingBackoff())
    options.setdefault("snapshot_timeout", 0.2)
    options.setdefault("command_timeout", 2.0)
    client = KalshiWebSocket(url, signer, wrap(events) if wrap else events, **options)
    task = asyncio.create_task(client.run())
    try:
        yield Harness(server, client, events, task)
    finally:
        await client.stop()
        await asyncio.wait_for(task, 5)
        await server.stop()


async def subscribed_book(h: Harness, tickers: list[str]) -> int:
    await h.events.wait_count(Connected, 1)
    await h.client.subscribe(["orderbook_delta"], market_tickers=tickers)
    await h.events.wait_count(OrderbookSnapshotEvent, len(tickers))
    return h.events.of(Subscribed)[-1].sid


def test_handshake_is_signed_over_get_and_ws_path(signer: Signer) -> None:
    async def scenario() -> None:
        async with harness(signer) as h:
            await h.events.wait_count(Connected, 1)
            headers = h.server.handshakes[0]
            assert headers[KEY_HEADER] == KEY_ID
            assert verify_signature(
                signer.private_key.public_key(),
                headers[TIMESTAMP_HEADER],
                "GET",
                "/trade-api/ws/v2",
                headers[SIGNATURE_HEADER],
            )
            assert h.events.of(Connected)[0].reconnect is False

    run(scenario())


def test_handshake_refusal_raises_auth_error_naming_the_environment(signer: Signer) -> None:
    async def scenario() -> None:
        server = FakeWsServer()
        server.reject = [401]
        url = await server.start()
        client = KalshiWebSocket(url, signer, Events(), backoff=RecordingBackoff())
        with pytest.raises(AuthError, match="custom") as info:
            await client.run()
        assert "demo and production" in str(info.value)
        assert KEY_ID not in str(info.value)
        await server.stop()

    run(scenario())


def test_snapshot_then_deltas_build_the_book(signer: Signer) -> None:
    async def scenario() -> None:
        async with harness(signer) as h:
            h.server.books[TICKER] = {
                "yes_dollars_fp": [["0.0800", "300.00"], ["0.2200", "333.00"]],
                "no_dollars_fp": [["0.5400", "20.00"], ["0.5600", "146.00"]],
            }
            sid = await subscribed_book(h, [TICKER])
            await h.server.delta(sid, TICKER, "0.2200", "-33.00")
            await h.server.delta(sid, TICKER, "0.5700", "5.00", side="no")
            deltas = await h.events.wait_count(OrderbookDeltaEvent, 2)
            snapshot = h.events.of(OrderbookSnapshotEvent)[0]
            book = OrderBook(TICKER, snapshot.yes, snapshot.no)
            for delta in deltas:
                book.apply_delta(delta.side, delta.price, delta.delta)
            assert book.best_yes_bid() == PriceLevel(D("0.22"), D(300))
            assert book.best_yes_ask() == PriceLevel(D("0.43"), D(5))
            command = h.server.commands[0]
            assert command["cmd"] == "subscribe"
            assert command["params"] == {
                "channels": ["orderbook_delta"],
                "market_tickers": [TICKER],
                "use_yes_price": False,
            }

    run(scenario())


def test_seq_gap_drops_book_and_gets_a_fresh_snapshot(signer: Signer) -> None:
    async def scenario() -> None:
        async with harness(signer) as h:
            sid = await subscribed_book(h, [TICKER, OTHER])
            await h.server.delta(sid, TICKER, "0.4000", "1.00")  # seq 3
            await h.events.wait_count(OrderbookDeltaEvent, 1)
            h.server.auto_snapshot = False
            await h.server.delta(sid, TICKER, "0.4000", "1.00", skip=1)  # seq 5: 4 was lost
            await h.events.wait_count(SequenceGap, 1)
            gap = h.events.of(SequenceGap)[0]
            assert (gap.sid, gap.expected, gap.received) == (sid, 4, 5)
            invalidated = {e.market_ticker for e in h.events.of(BookInvalidated)}
            assert invalidated == {TICKER, OTHER}  # every book on that sid is suspect
            await h.server.wait(
                lambda: any(c["cmd"] == "update_subscription" for c in h.server.commands)
            )
            request = next(c for c in h.server.commands if c["cmd"] == "update_subscription")
            assert request["params"]["action"] == "get_snapshot"
            assert request["params"]["sids"] == [sid]
            assert sorted(request["params"]["market_tickers"]) == sorted([TICKER, OTHER])
            # Deltas that arrive before the fresh snapshot are not delivered.
            await h.server.delta(sid, TICKER, "0.4000", "7.00")
            await h.server.send(h.server.snapshot(sid, TICKER, request["id"]))
            await h.server.send(h.server.snapshot(sid, OTHER, request["id"]))
            await h.events.wait_count(OrderbookSnapshotEvent, 4)
            await h.server.delta(sid, OTHER, "0.4100", "2.00")
            deltas = await h.events.wait_count(OrderbookDeltaEvent, 2)
            assert [d.delta for d in deltas] == [D(1), D(2)]  # the 7.00 was dropped
            assert deltas[-1].market_ticker == OTHER

    run(scenario())


def test_missing_fresh_snapshot_falls_back_to_resubscribe(signer: Signer) -> None:
    async def scenario() -> None:
        async with harness(signer) as h:
            sid = await subscribed_book(h, [TICKER])
            h.server.auto_snapshot = False  # get_snapshot is never answered
            await h.server.delta(sid, TICKER, "0.4000", "1.00", skip=3)
            await h.events.wait_count(Subscribed, 2, timeout=5)
            new_sid = h.events.of(Subscribed)[-1].sid
            assert new_sid != sid
            cmds = [c["cmd"] for c in h.server.commands]
            assert cmds.count("update_subscription") == 2  # asked twice, then re-created
            assert "unsubscribe" in cmds
            await h.events.wait_count(OrderbookSnapshotEvent, 2)
            await h.server.delta(new_sid, TICKER, "0.4000", "1.00")
            await h.server.delta(sid, TICKER, "0.4000", "9.00")  # stale sid: ignored
            await h.events.wait_count(OrderbookDeltaEvent, 1)
            assert h.events.of(OrderbookDeltaEvent)[0].sid == new_sid
            await h.server.delta(new_sid, TICKER, "0.4000", "2.00")
            deltas = await h.events.wait_count(OrderbookDeltaEvent, 2)
            assert [d.delta for d in deltas] == [D(1), D(2)]

    run(scenario())


def test_terminal_error_resubscribes(signer: Signer) -> None:
    async def scenario() -> None:
        async with harness(signer) as h:
            sid = await subscribed_book(h, [TICKER])
            await h.server.send(
                {"type": "error", "sid": sid, "msg": {"code": 25, "msg": "buffer overflow"}}
            )
            failed = await h.events.wait_count(SubscriptionFailed, 1)
            assert failed[0].terminal and failed[0].code == 25
            await h.events.wait_count(Subscribed, 2)
            await h.events.wait_count(OrderbookSnapshotEvent, 2)
            assert h.events.of(BookInvalidated)[0].market_ticker == TICKER
            # A non-terminal error does not.
            await h.server.send(
                {
                    "type": "error",
                    "sid": h.events.of(Subscribed)[-1].sid,
                    "msg": {"code": 11, "msg": "x"},
                }
            )
            await h.events.wait_count(SubscriptionFailed, 2)
            assert not h.events.of(SubscriptionFailed)[-1].terminal
            assert len(h.events.of(Subscribed)) == 2

    run(scenario())


def test_reconnect_after_drop_resubscribes_with_fresh_snapshots(signer: Signer) -> None:
    async def scenario() -> None:
        async with harness(signer) as h:
            await subscribed_book(h, [TICKER])
            await h.client.subscribe(["fill"])
            await h.events.wait_count(Subscribed, 2)
            h.server.drop()
            await h.events.wait_count(Connected, 2)
            assert h.events.of(Connected)[1].reconnect
            assert any(e.reason != "stopped" for e in h.events.of(Disconnected))
            assert any(e.reason == "connection lost" for e in h.events.of(BookInvalidated))
            await h.events.wait_count(Subscribed, 4)
            await h.events.wait_count(OrderbookSnapshotEvent, 2)
            channels = sorted(e.channel for e in h.events.of(Subscribed)[2:])
            assert channels == ["fill", "orderbook_delta"]
            assert len(h.server.handshakes) == 2
            assert h.client.connections == 2

    run(scenario())


def test_reconnect_backoff_grows_while_the_server_refuses(signer: Signer) -> None:
    async def scenario() -> None:
        backoff = RecordingBackoff()
        async with harness(signer, backoff=backoff) as h:
            await h.events.wait_count(Connected, 1)
            h.server.reject = [503, 503, 503]
            h.server.drop()
            await h.events.wait_count(Connected, 2)
            # First retry after a good connection starts at 0; refusals count up.
            assert backoff.attempts == [0, 1, 2, 3]
            assert len(h.server.handshakes) == 5

    run(scenario())


def test_heartbeat_ping_is_answered(signer: Signer) -> None:
    async def scenario() -> None:
        async with harness(signer, heartbeat=None) as h:
            await h.events.wait_count(Connected, 1)
            await h.server.ws.ping(b"heartbeat")
            await h.server.wait(lambda: h.server.pongs == [b"heartbeat"])

    run(scenario())


def test_malformed_messages_are_skipped(signer: Signer) -> None:
    async def scenario() -> None:
        lines: list[str] = []
        sink = logger.add(lines.append, format="{message}", level="WARNING")
        try:
            async with harness(signer) as h:
                sid = await subscribed_book(h, [TICKER])
                await h.server.send("{not json")
                await h.server.send("[1, 2, 3]")
                await h.server.send({"type": "brand_new_type", "msg": {}})
                await h.server.send(
                    {
                        "type": "orderbook_delta",
                        "sid": sid,
                        "seq": h.server.next_seq(sid),
                        "msg": {
                            "market_ticker": TICKER,
                            "price_dollars": "lots",
                            "delta_fp": "1.00",
                            "side": "yes",
                        },
                    }
                )
                await h.server.send({"type": "ticker", "msg": {}})  # no sid
                # The malformed delta was a real update: the book is dropped and refreshed.
                await h.events.wait_count(BookInvalidated, 1)
                assert h.events.of(BookInvalidated)[0].reason == "malformed delta"
                await h.events.wait_count(OrderbookSnapshotEvent, 2)
                await h.server.delta(sid, TICKER, "0.4000", "1.00")
                await h.events.wait_count(OrderbookDeltaEvent, 1)
                assert h.client.skipped == 4
                assert not h.task.done()
        finally:
            logger.remove(sink)
        assert any("price_dollars" in line for line in lines)
        assert not any(KEY_ID in line for line in lines)

    run(scenario())


def test_callback_errors_do_not_stop_the_loop(signer: Signer) -> None:
    def flaky(events: Events) -> Callable[[Any], None]:
        def callback(event: Any) -> None:
            events(event)
            if isinstance(event, OrderbookSnapshotEvent | Connected):
                raise RuntimeError("consumer bug")

        return callback

    async def scenario() -> None:
        async with harness(signer, wrap=flaky) as h:
            sid = await subscribed_book(h, [TICKER])
            await h.server.delta(sid, TICKER, "0.4000", "1.00")
            await h.events.wait_count(OrderbookDeltaEvent, 1)
            assert not h.task.done()

    run(scenario())


def test_every_channel_becomes_a_typed_event(signer: Signer) -> None:
    async def scenario() -> None:
        async with harness(signer) as h:
            await h.events.wait_count(Connected, 1)
            subs = await h.client.subscribe(
                [
                    "ticker",
                    "trade",
                    "fill",
                    "user_orders",
                    "market_positions",
                    "market_lifecycle_v2",
                ]
            )
            index = await h.client.subscribe(["cfbenchmarks_value"], index_ids=["SOLUSD_RTI"])
            assert h.server.commands[-1]["params"]["index_ids"] == ["SOLUSD_RTI"]
            sid = {s.channel: s.sid for s in subs + index}
            send = h.server.send
            await send(
                {
                    "type": "ticker",
                    "sid": sid["ticker"],
                    "msg": {
                        "market_id": "m",
                        "market_ticker": TICKER,
                        "price_dollars": "0.4800",
                        "yes_bid_dollars": "0.4500",
                        "yes_ask_dollars": "0.5300",
                        "volume_fp": "33896.00",
                        "open_interest_fp": "20422.00",
                        "dollar_volume": 1,
                        "dollar_open_interest": 1,
                        "yes_bid_size_fp": "300.00",
                        "yes_ask_size_fp": "150.00",
                        "last_trade_size_fp": "25.00",
                        "ts": 1669149841,
                        "ts_ms": 1669149841000,
                        "time": "2022-11-22T20:44:01Z",
                    },
                }
            )
            await send(
                {
                    "type": "trade",
                    "sid": sid["trade"],
                    "seq": 1,
                    "msg": {
                        "trade_id": "t",
                        "market_ticker": TICKER,
                        "yes_price_dollars": "0.3600",
                        "no_price_dollars": "0.6400",
                        "count_fp": "136.00",
                        "taker_side": "no",
                        "taker_outcome_side": "no",
                        "taker_book_side": "ask",
                        "is_block_trade": False,
                        "ts": 1,
                        "ts_ms": 1000,
                    },
                }
            )
            await send(
                {
                    "type": "fill",
                    "sid": sid["fill"],
                    "msg": {
                        "trade_id": "t",
                        "order_id": "o",
                        "client_order_id": "c",
                        "market_ticker": TICKER,
                        "exchange_index": 2,
                        "is_taker": True,
                        "side": "yes",
                        "yes_price_dollars": "0.7500",
                        "count_fp": "278.00",
                        "fee_cost": "0.010000",
                        "action": "buy",
                        "ts": 1,
                        "ts_ms": 1000,
                        "post_position_fp": "500.00",
                        "purchased_side": "yes",
                        "outcome_side": "yes",
                        "book_side": "bid",
                    },
                }
            )
            await send(
                {
                    "type": "user_order",
                    "sid": sid["user_orders"],
                    "msg": {
                        "order_id": "o",
                        "user_id": "u",
                        "ticker": TICKER,
                        "exchange_index": 2,
                        "status": "resting",
                        "side": "yes",
                        "is_yes": True,
                        "outcome_side": "yes",
                        "book_side": "bid",
                        "yes_price_dollars": "0.3500",
                        "fill_count_fp": "0.00",
                        "remaining_count_fp": "10.00",
                        "initial_count_fp": "10.00",
                        "taker_fill_cost_dollars": "0.000000",
                        "maker_fill_cost_dollars": "0.000000",
                        "taker_fees_dollars": "0.000000",
                        "maker_fees_dollars": "0.000000",
                        "client_order_id": "my-order-1",
                        "created_time": "2024-12-01T10:00:00Z",
                        "created_ts_ms": 1733047200000,
                    },
                }
            )
            await send(
                {
                    "type": "market_position",
                    "sid": sid["market_positions"],
                    "msg": {
                        "user_id": "u",
                        "market_ticker": TICKER,
                        "position_fp": "-100.00",
                        "position_cost_dollars": "50.0000",
                        "realized_pnl_dollars": "10.0000",
                        "fees_paid_dollars": "1.0000",
                        "volume_fp": "15.00",
                    },
                }
            )
            await send(
                {
                    "type": "market_lifecycle_v2",
                    "sid": sid["market_lifecycle_v2"],
                    "seq": 1,
                    "msg": {
                        "market_ticker": TICKER,
                        "event_type": "created",
                        "open_ts": 1,
                        "close_ts": 901,
                        "additional_metadata": {
                            "event_ticker": "KXSOL15M-26MAY300015",
                            "strike_type": "greater_or_equal",
                            "floor_strike": 75.1234,
                        },
                        "price_level_structure": "tapered_deci_cent",
                        "price_ranges": [{"start": "0.0000", "end": "1.0000", "step": "0.0010"}],
                    },
                }
            )
            await send(
                {
                    "type": "market_lifecycle_v2",
                    "sid": sid["market_lifecycle_v2"],
                    "seq": 2,
                    "msg": {
                        "market_ticker": TICKER,
                        "event_type": "determined",
                        "result": "yes",
                        "settlement_value": "1.0000",
                        "determination_ts": 902,
                    },
                }
            )
            await send(
                {
                    "type": "cfbenchmarks_value",
                    "sid": sid["cfbenchmarks_value"],
                    "seq": 1,
                    "msg": {
                        "index_id": "SOLUSD_RTI",
                        "received_at": 1710000000123,
                        "data": '{"type":"value","id":"SOLUSD_RTI","time":1710000000100,"value":"75.1234"}',
                        "avg_60s_data": {
                            "value": "75.12000000",
                            "window_size": 59,
                            "window_start_ts_ms": 1,
                            "window_end_ts_exclusive": 2,
                        },
                        "last_60s_windowed_average_15min": {
                            "value": "75.13000000",
                            "window_size": 14,
                            "window_start_ts_ms": 3,
                            "window_end_ts_exclusive": 4,
                        },
                    },
                }
            )
            await h.events.wait_count(IndexValueEvent, 1)
            ticker = h.events.of(TickerEvent)[0]
            assert (ticker.yes_bid, ticker.yes_ask, ticker.ts_ms) == (
                D("0.45"),
                D("0.53"),
                1669149841000,
            )
            trade = h.events.of(TradeEvent)[0]
            assert (trade.taker_side, trade.count, trade.no_price) == ("no", D(136), D("0.64"))
            fill = h.events.of(FillEvent)[0].fill
            assert (fill.client_order_id, fill.count, fill.fee, fill.no_price) == (
                "c",
                D(278),
                D("0.01"),
                D("0.25"),
            )
            order = h.events.of(OrderUpdateEvent)[0]
            assert (order.client_order_id, order.remaining_count, order.status) == (
                "my-order-1",
                D(10),
                "resting",
            )
            assert h.events.of(PositionEvent)[0].position == D(-100)
            created, determined = h.events.of(LifecycleEvent)
            assert created.floor_strike == D("75.1234") and created.price_levels is not None
            assert created.price_levels.tick_at(D("0.5")) == D("0.001")
            assert (determined.result, determined.settlement_value) == ("yes", D(1))
            value = h.events.of(IndexValueEvent)[0]
            assert (value.value, value.source_ts_ms) == (D("75.1234"), 1710000000100)
            assert value.avg_60s is not None
            assert value.avg_60s.value == D("75.12")
            assert value.final_minute_avg is not None and value.final_minute_avg.window_size == 14
            assert h.events.of(SequenceGap) == []

    run(scenario())


def test_gap_on_other_sequenced_channels_is_reported(signer: Signer) -> None:
    async def scenario() -> None:
        async with harness(signer) as h:
            await h.events.wait_count(Connected, 1)
            (sub,) = await h.client.subscribe(["trade"])
            msg = {
                "trade_id": "t",
                "market_ticker": TICKER,
                "yes_price_dollars": "0.36",
                "no_price_dollars": "0.64",
                "count_fp": "1.00",
                "taker_side": "no",
                "ts": 1,
            }
            await h.server.send({"type": "trade", "sid": sub.sid, "seq": 1, "msg": msg})
            await h.server.send({"type": "trade", "sid": sub.sid, "seq": 3, "msg": msg})
            await h.events.wait_count(TradeEvent, 2)  # both delivered: trades are facts
            gap = h.events.of(SequenceGap)[0]
            assert (gap.channel, gap.expected, gap.received) == ("trade", 2, 3)

    run(scenario())


def test_index_5hz_ticks_are_index_values_and_sequence_checked(signer: Signer) -> None:
    first = index_5hz(1, 1, "86.12345678", 1710000000323)
    assert asyncapi_problems("cfbenchmarksValue5HzPayload", first) == []

    async def scenario() -> None:
        async with harness(signer) as h:
            await h.events.wait_count(Connected, 1)
            (sub,) = await h.client.subscribe(["cfbenchmarks_value_5hz"], index_ids=["SOLUSD_RTI"])
            assert h.server.commands[-1]["params"] == {
                "channels": ["cfbenchmarks_value_5hz"],
                "index_ids": ["SOLUSD_RTI"],
            }
            sid = sub.sid
            assert sid is not None
            await h.server.send(index_5hz(sid, 1, "86.12345678", 1710000000323))
            await h.server.send(index_5hz(sid, 2, "86.12000000", 1710000000523))
            bad = index_5hz(sid, 3, "86.1", 1710000000723)
            bad["msg"]["value_usd"] = "eighty-six"
            await h.server.send(bad)
            await h.server.send(index_5hz(sid, 5, "86.13000000", 1710000000923))
            values = await h.events.wait_count(IndexValueEvent, 3)
            assert [v.value for v in values] == [D("86.12345678"), D("86.12"), D("86.13")]
            tick = values[0]
            assert (tick.channel, tick.index_id, tick.source_ts_ms, tick.received_at_ms) == (
                "cfbenchmarks_value_5hz",
                "SOLUSD_RTI",
                1710000000323,
                1710000000341,
            )
            assert tick.avg_60s is None and tick.final_minute_avg is None
            assert (tick.sid, tick.seq) == (sid, 1)
            assert h.client.skipped == 1  # the malformed tick, logged and dropped
            (gap,) = h.events.of(SequenceGap)  # the malformed one still counted: 4 is missing
            assert (gap.channel, gap.expected, gap.received) == ("cfbenchmarks_value_5hz", 4, 5)

    run(scenario())


def test_order_group_updates_become_events(signer: Signer) -> None:
    created = order_group_update(1, 1, "created", limit="150.00")
    assert asyncapi_problems("orderGroupUpdatesPayload", created) == []

    async def scenario() -> None:
        async with harness(signer) as h:
            await h.events.wait_count(Connected, 1)
            (sub,) = await h.client.subscribe(["order_group_updates"])
            sid = sub.sid
            assert sid is not None
            await h.server.send(order_group_update(sid, 1, "created", limit="150.00"))
            await h.server.send(order_group_update(sid, 2, "exploded"))  # unknown: skipped
            await h.server.send(order_group_update(sid, 4, "triggered"))
            first, second = await h.events.wait_count(OrderGroupEvent, 2)
            assert (first.event_type, first.order_group_id, first.contracts_limit) == (
                "created",
                "og-1",
                D(150),
            )
            assert (first.ts_ms, first.sid, first.seq) == (1733047200000, sid, 1)
            assert (second.event_type, second.contracts_limit) == ("triggered", None)
            (gap,) = h.events.of(SequenceGap)
            assert (gap.channel, gap.expected, gap.received) == ("order_group_updates", 3, 4)

    run(scenario())


def test_fill_and_user_order_prefer_the_new_direction_fields(signer: Signer) -> None:
    assert asyncapi_problems("fillPayload", fill_message(1)) == []
    assert asyncapi_problems("userOrderPayload", user_order_message(1)) == []

    async def scenario() -> None:
        async with harness(signer) as h:
            await h.events.wait_count(Connected, 1)
            fills, orders = await h.client.subscribe(["fill", "user_orders"])
            assert fills.sid is not None and orders.sid is not None
            send = h.server.send
            await send(fill_message(fills.sid))  # a NO sale: bid / outcome yes
            # Legacy fields that contradict the new ones lose: exposure NO -> a NO buy.
            await send(
                fill_message(
                    fills.sid, side="yes", action="buy", outcome_side="no", book_side="ask"
                )
            )
            # New fields that contradict each other: malformed, skipped.
            await send(fill_message(fills.sid, outcome_side="no", book_side="bid"))
            await send(user_order_message(orders.sid))  # a NO buy: ask / outcome no
            legacy = user_order_message(orders.sid, side="yes")
            del legacy["msg"]["outcome_side"], legacy["msg"]["book_side"]
            await send(legacy)
            await send(fill_message(fills.sid, trade_id="last"))
            await h.events.wait_for(lambda: len(h.events.of(FillEvent)) == 3)
            sale, buy, last = (e.fill for e in h.events.of(FillEvent))
            assert (sale.side, sale.action, sale.outcome_side, sale.book_side) == (
                "no",
                "sell",
                "yes",
                "bid",
            )
            assert (sale.price, sale.count, sale.fee) == (D("0.25"), D(4), D("0.0525"))
            assert (sale.exchange_index, sale.post_position) == (2, D(-6))
            assert (buy.side, buy.action, buy.price) == ("no", "buy", D("0.25"))
            assert last.trade_id == "last"
            order, old = h.events.of(OrderUpdateEvent)
            assert (order.side, order.action, order.outcome_side, order.book_side) == (
                "no",
                "buy",
                "no",
                "ask",
            )
            assert (order.price, order.exchange_index, order.order_group_id) == (
                D("0.30"),
                1,
                "og-1",
            )
            assert (old.side, old.action, old.book_side) == ("yes", None, None)  # no guess
            assert h.client.skipped == 1

    run(scenario())


def test_refused_subscription_raises_and_is_forgotten(signer: Signer) -> None:
    async def scenario() -> None:
        async with harness(signer) as h:
            await h.events.wait_count(Connected, 1)
            with pytest.raises(WsCommandError, match="Unknown channel") as info:
                await h.client.subscribe(["bogus"])
            assert info.value.ws_code == 8
            assert h.client.subscriptions == ()

    run(scenario())


def test_update_subscription_and_unsubscribe(signer: Signer) -> None:
    async def scenario() -> None:
        async with harness(signer) as h:
            await h.events.wait_count(Connected, 1)
            (sub,) = await h.client.subscribe(["orderbook_delta"], market_tickers=[TICKER])
            await h.events.wait_count(OrderbookSnapshotEvent, 1)
            reply = await h.client.update_subscription(sub, "add_markets", [OTHER])
            assert reply["type"] == "ok"
            assert sub.market_tickers == [TICKER, OTHER]
            command = h.server.commands[-1]
            assert command["params"] == {
                "sids": [sub.sid],
                "action": "add_markets",
                "market_tickers": [OTHER],
            }
            await h.events.wait_count(OrderbookSnapshotEvent, 2)
            await h.client.update_subscription(sub, "delete_markets", [TICKER])
            assert sub.market_tickers == [OTHER]
            await h.client.request_snapshot(OTHER)
            await h.events.wait_count(OrderbookSnapshotEvent, 3)
            assert h.events.of(BookInvalidated)[-1].reason == "snapshot requested"
            sid = sub.sid
            await h.client.unsubscribe(sub)
            last = h.server.commands[-1]
            assert (last["cmd"], last["params"]) == ("unsubscribe", {"sids": [sid]})
            assert sub.sid is None
            assert h.client.subscriptions == ()
            with pytest.raises(ValueError, match="no order-book subscription"):
                await h.client.request_snapshot(OTHER)

    run(scenario())


def test_subscribe_before_connect_is_sent_on_connect(signer: Signer) -> None:
    async def scenario() -> None:
        server = FakeWsServer()
        url = await server.start()
        events = Events()
        client = KalshiWebSocket(url, signer, events, backoff=RecordingBackoff())
        with pytest.raises(TimeoutError):  # waiting needs a connection
            await client.subscribe(["ticker"], timeout=0.05)
        await client.subscribe(["orderbook_delta"], market_tickers=[TICKER], wait=False)
        task = asyncio.create_task(client.run())
        await events.wait_count(OrderbookSnapshotEvent, 1)
        await events.wait_count(Subscribed, 2)  # the timed-out one stayed registered
        assert sorted(c["params"]["channels"][0] for c in server.commands) == [
            "orderbook_delta",
            "ticker",
        ]
        await client.stop()
        await asyncio.wait_for(task, 5)
        await server.stop()
        assert events.of(Disconnected)[-1].reason == "stopped"

    run(scenario())


def test_websocket_thread_runs_and_stops_boundedly(signer: Signer) -> None:
    ready: queue.Queue[str] = queue.Queue()
    loop = asyncio.new_event_loop()
    server = FakeWsServer()

    def serve() -> None:
        asyncio.set_event_loop(loop)
        ready.put(loop.run_until_complete(server.start()))
        loop.run_forever()

    server_thread = threading.Thread(target=serve, daemon=True)
    server_thread.start()
    url = ready.get(timeout=5)
    received: queue.Queue[object] = queue.Queue()
    thread = WebSocketThread(KalshiWebSocket(url, signer, received.put, backoff=RecordingBackoff()))
    thread.start()
    try:
        subs = thread.subscribe(["orderbook_delta"], market_tickers=[TICKER], timeout=5)
        while not isinstance(received.get(timeout=5), OrderbookSnapshotEvent):
            pass
        assert subs[0].sid is not None
        thread.request_snapshot(TICKER, timeout=5)
        while not isinstance(received.get(timeout=5), OrderbookSnapshotEvent):
            pass
    finally:
        assert thread.stop(timeout=5)
    assert not thread.alive and thread.error is None
    asyncio.run_coroutine_threadsafe(
        server.wait(lambda: all(ws.closed for ws in server.sockets)), loop
    ).result(5)
    asyncio.run_coroutine_threadsafe(server.stop(), loop).result(5)
    loop.call_soon_threadsafe(loop.stop)
    server_thread.join(5)


def test_websocket_thread_stop_is_bounded_even_when_connecting_hangs(signer: Signer) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)  # accepts TCP but never answers the HTTP upgrade
    port = listener.getsockname()[1]
    try:
        client = KalshiWebSocket(
            f"ws://127.0.0.1:{port}/trade-api/ws/v2", signer, lambda _e: None, connect_timeout=60
        )
        thread = WebSocketThread(client)
        thread.start()
        started = time.monotonic()
        assert thread.stop(timeout=1.0)
        assert time.monotonic() - started < 2.0
        assert not thread.alive
    finally:
        listener.close()


def test_subscribe_racing_the_reconnect_is_sent_once(signer: Signer) -> None:
    """A subscribe issued as the socket comes up must not also be re-sent by the resubscriber."""
    holder: dict[str, KalshiWebSocket] = {}
    started: list[asyncio.Future[Any]] = []

    def subscribe_on_connect(events: Events) -> Callable[[Any], None]:
        def callback(event: Any) -> None:
            events(event)
            if isinstance(event, Connected) and not event.reconnect:
                started.append(
                    asyncio.ensure_future(holder["client"].subscribe(["fill"], wait=False))
                )

        return callback

    async def scenario() -> None:
        async with harness(signer, wrap=subscribe_on_connect) as h:
            holder["client"] = h.client
            await h.events.wait_count(Subscribed, 1)
            await h.client.subscribe(["ticker"])  # a later command: the socket is idle again
            subscribes = [c for c in h.server.commands if c["cmd"] == "subscribe"]
            assert [c["params"]["channels"] for c in subscribes] == [["fill"], ["ticker"]]
            assert len(h.events.of(Subscribed)) == 2

    run(scenario())


def test_deltas_without_a_snapshot_trigger_a_snapshot_request(signer: Signer) -> None:
    async def scenario() -> None:
        async with harness(signer) as h:
            await h.events.wait_count(Connected, 1)
            h.server.initial_snapshots = False  # the snapshot after subscribing goes missing
            (sub,) = await h.client.subscribe(["orderbook_delta"], market_tickers=[TICKER])
            assert sub.sid is not None
            h.server.seq[sub.sid] = 1  # as if the lost snapshot had used seq 1
            await h.server.delta(sub.sid, TICKER, "0.4000", "1.00")
            await h.events.wait_count(OrderbookSnapshotEvent, 1)  # fetched with get_snapshot
            assert h.events.of(OrderbookDeltaEvent) == []  # the orphan delta was not delivered
            actions = [
                c["params"]["action"]
                for c in h.server.commands
                if c["cmd"] == "update_subscription"
            ]
            assert actions == ["get_snapshot"]
            await h.server.delta(sub.sid, TICKER, "0.4000", "2.00")
            deltas = await h.events.wait_count(OrderbookDeltaEvent, 1)
            assert deltas[0].delta == D(2)

    run(scenario())
