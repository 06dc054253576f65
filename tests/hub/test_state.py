"""The hub's in-memory pieces on their own: chart series, bounded history, the loop bridge."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from hub.events import Outgoing
from hub.fanout import Broadcaster
from hub.feed import ClientFeed
from hub.history import MemoryHistory
from hub.state import MAX_MARKETS, LiveState, Series, decode_text, model_points
from messages.status import StrategyStatus
from storage.history_api import TradeQuery
from tests.hub import fakes


def test_series_keeps_one_point_per_step_and_the_newest() -> None:
    series = Series(1.0)
    for ts in (0.0, 0.1, 0.2, 1.0, 1.1, 1.9, 2.5):
        series.add(ts, ts)
    assert [t for t, _ in series.points] == [0.0, 0.2, 1.1, 1.9, 2.5]


def test_series_puts_late_points_in_order_and_stays_bounded() -> None:
    series = Series(0.0, maxlen=5)
    for ts in (1, 2, 5, 3, 4, 0.5, 6, 3.5):
        series.add(ts, ts)
    assert [t for t, _ in series.points] == [3, 3.5, 4, 5, 6]


def test_history_forgets_the_oldest_finished_orders_but_never_active_ones() -> None:
    history = MemoryHistory(limit=3)
    history.record_update(fakes.order_update(1, "a", "resting"))
    for n, coid in enumerate(("b", "c", "d", "e"), start=2):
        history.record_update(fakes.order_update(n, coid, "canceled"))
    kept = [t["trade_id"] for t in history.trades(TradeQuery(limit=10))]
    assert kept == ["e", "d", "a"]
    counts = history.counts()
    assert (counts.active, counts.canceled, counts.total) == (1, 2, 3)
    assert history.find_order("ex-a") is not None
    assert history.find_order("ex-b") is None


def test_a_duplicate_fill_is_counted_once() -> None:
    history = MemoryHistory()
    history.record_update(fakes.order_update(1, "c-1", "resting"))
    history.record_fill(fakes.fill(2, "c-1", "t-1", count=4))
    history.record_fill(fakes.fill(2, "c-1", "t-1", count=4))
    order = history.find_order("c-1")
    assert order is not None
    assert (order["filled"], len(order["fills"]), order["quantity"]) == (4, 1, 10)


def test_live_state_stays_bounded_as_tickers_come_and_go() -> None:
    state = LiveState()
    for n in range(200):
        book = fakes.book(float(n))
        state.set_book(type(book)(**{**_fields(book), "ticker": f"T-{n}"}))
    assert len(state.books) <= 2 * MAX_MARKETS
    assert len(state.mid_series) <= 2 * MAX_MARKETS
    assert "T-199" in state.books


def _fields(message: object) -> dict[str, Any]:
    return {name: getattr(message, name) for name in message.__slots__}  # type: ignore[attr-defined]


@pytest.mark.anyio
async def test_the_bridge_resyncs_everyone_when_the_loop_falls_behind() -> None:
    loop = asyncio.get_running_loop()
    broadcaster = Broadcaster(loop, max_pending=10, send_timeout=5.0)
    sent: list[bytes] = []
    drained = asyncio.Event()

    async def send(frame: bytes) -> None:
        sent.append(frame)
        if frame == b"STATUS":
            drained.set()

    feed = ClientFeed(send, lambda: b"STATUS", dict, limit=100, interval=0.0, on_drop=print)
    broadcaster.add(feed)
    task = asyncio.create_task(feed.run())
    await asyncio.wait_for(drained.wait(), 5)  # the initial status
    drained.clear()
    sent.clear()

    def flood() -> None:  # another thread, as the hub actor is
        broadcaster.post(Outgoing(f"e{n}".encode()) for n in range(25))

    thread = threading.Thread(target=flood)
    thread.start()
    thread.join()
    await asyncio.wait_for(drained.wait(), 5)
    assert broadcaster.overflows == 1
    assert sent == [b"STATUS"]  # the flood was replaced by a fresh status
    assert feed.resyncs == 1
    task.cancel()
    broadcaster.stop()


def test_series_reports_of_the_same_moment_replace_each_other() -> None:
    series = Series(1.0)
    for value in (0.1, 0.2, 0.3):
        series.add(5.0, value)
    assert list(series.points) == [(5.0, 0.3)]


def test_the_model_line_comes_from_the_strategy_status_as_published() -> None:
    """kelly_volatility's per-market figures arrive as JSON text inside the metrics."""
    state = LiveState()
    state.set_strategy(fakes.strategy_status("kelly_volatility", True, 100.0, prob=0.62))
    state.set_strategy(fakes.strategy_status("kelly_volatility", True, 100.0, prob=0.63))
    state.set_strategy(fakes.strategy_status("kelly_volatility", True, 103.0, prob=0.70))
    assert list(state.model_series[fakes.TICKER].points) == [(99.0, 0.63), (102.0, 0.70)]

    [listed] = state.strategy_list()
    assert listed["metrics"]["signals"] == "3"  # scalars stay exact text
    assert listed["metrics"]["skips"] == {"edge_below_minimum": 12, "cooldown": 2}
    assert listed["metrics"]["markets"][fakes.TICKER]["model_prob"] == 0.70
    assert listed["params"] == {"min_edge": "0.03", "kelly_fraction": 0.25, "initial_sigma": None}


def test_model_points_ignore_what_is_not_a_probability() -> None:
    status = StrategyStatus(
        "mean_reversion",
        True,
        (),
        (("markets", '{"T-1":{"zscore":1.2,"mean":0.5}}'), ("note", "{not json")),
        1.0,
    )
    assert list(model_points(status)) == []
    assert decode_text("{not json") == "{not json"
    bad = StrategyStatus("x", True, (), (("markets", '{"T-1":{"model_prob":7,"ts":1}}'),), 1.0)
    assert list(model_points(bad)) == []


def test_approved_signals_are_marked_whichever_arrives_first() -> None:
    state = LiveState()
    now = 1_000.0
    state.add_signal(fakes.signal(now, "a"))  # signal, then its approval
    state.add_decision(fakes.decision(now, "a", approved=True))
    state.add_decision(fakes.decision(now + 1, "b", approved=True))  # approval first
    state.add_signal(fakes.signal(now + 1, "b"))
    state.add_signal(fakes.signal(now + 2, "c"))  # rejected: no mark
    state.add_decision(fakes.decision(now + 2, "c", approved=False))
    marks = list(state.signal_marks[fakes.TICKER])
    assert marks == [[now, 0.652, "yes"], [now + 1, 0.652, "yes"]]
    assert state.model_series == {}  # signals of any strategy do not draw the model line
