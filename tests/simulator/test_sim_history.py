"""The simulator's own history: 1-minute candles of the sampled book, the trade tape, the archive."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from simulator.errors import ExchangeError
from simulator.exchange import Exchange
from simulator.history import Candle
from simulator.rest_history import archived, cutoff_of, live_markets
from simulator.wire_history import candle_json, synthetic_before, trade_json
from tests.simulator.helpers import START, order, quiet_exchange

D = Decimal
S = int(START)


@pytest.fixture
def ex() -> Exchange:
    """Two trades in a quiet market: YES bought at 0.45 (second 30), NO at 0.60 (second 90)."""
    ex = quiet_exchange()
    alice, carol, bob, dave = (ex.create_user(n) for n in ("alice", "carol", "bob", "dave"))
    ex.advance(START + 10)
    order(ex, alice, "yes", "buy", "0.40", 5)  # YES bid 0.40
    order(ex, carol, "no", "buy", "0.55", 4)  # YES ask 0.45
    ex.advance(START + 30)
    order(ex, bob, "yes", "buy", "0.45", 3)  # takes 3 of carol's 4
    ex.advance(START + 90)
    order(ex, dave, "no", "buy", "0.60", 2)  # hits 2 of alice's 5
    ex.advance(START + 150)
    return ex


def _candles(ex: Exchange, period: int = 1) -> list[Candle]:
    market = ex.current_market()
    assert market is not None
    return ex.history.candles_of(market.ticker, 0, 2**40, period)


def test_candles_are_the_book_sampled_each_second_and_the_trades_of_each_minute(
    ex: Exchange,
) -> None:
    first, minute, second = _candles(ex)[:3]
    assert first.end_ts == S  # the open: one sample, an empty book (bid 0, ask 1)
    assert first.yes_bid is not None and first.yes_bid.close == D(0)
    assert first.yes_ask is not None and first.yes_ask.close == D(1)
    assert minute.end_ts == S + 60
    assert minute.yes_bid is not None and minute.yes_ask is not None
    bid, ask = minute.yes_bid, minute.yes_ask
    # seconds 1..10 empty (the orders came at second 10, after its sample), then 0.40 / 0.45
    assert (bid.open, bid.low, bid.high, bid.close) == (D(0), D(0), D("0.40"), D("0.40"))
    assert (ask.open, ask.low, ask.high, ask.close) == (D(1), D("0.45"), D(1), D("0.45"))
    assert minute.trades is not None and minute.trades.close == D("0.45")
    assert (minute.volume, minute.mean, minute.previous) == (D(3), D("0.45"), None)
    assert minute.open_interest == D(3)
    assert second.end_ts == S + 120
    assert second.trades is not None and second.trades.open == D("0.40")
    assert (second.volume, second.previous, second.open_interest) == (D(2), D("0.45"), D(5))
    assert second.yes_bid is not None and second.yes_bid.close == D("0.40")  # 3 left


def test_longer_periods_are_built_from_the_minutes(ex: Exchange) -> None:
    minutes = _candles(ex)
    (hour,) = _candles(ex, 60)
    assert hour.end_ts == -(-minutes[-1].end_ts // 3600) * 3600
    assert hour.volume == sum(c.volume for c in minutes) == D(5)
    assert hour.mean == (D(3) * D("0.45") + D(2) * D("0.40")) / 5
    assert hour.yes_bid is not None and hour.yes_bid.open == D(0)
    assert hour.yes_bid.close == minutes[-1].yes_bid.close  # type: ignore[union-attr]


def test_the_two_wire_shapes_and_the_tape(ex: Exchange) -> None:
    minute = _candles(ex)[1]
    live = candle_json(minute)
    assert live["yes_ask"]["close_dollars"] == "0.4500"
    assert live["price"] == {
        "open_dollars": "0.4500",
        "low_dollars": "0.4500",
        "high_dollars": "0.4500",
        "close_dollars": "0.4500",
        "mean_dollars": "0.4500",
    }  # no trade before it: no previous price (left out, not null)
    assert (live["volume_fp"], live["open_interest_fp"]) == ("3.00", "3.00")
    archive = candle_json(minute, historical=True)
    assert archive["yes_bid"]["close"] == "0.4000" and archive["price"]["previous"] is None
    assert (archive["volume"], archive["open_interest"]) == ("3.00", "3.00")
    carried = synthetic_before(minute, S + 300)
    assert carried.trades is None and carried.previous == D("0.45") and carried.volume == 0
    tape = [trade_json(e.trade) for e in ex.history.tape]
    assert [(t["yes_price_dollars"], t["count_fp"], t["taker_outcome_side"]) for t in tape] == [
        ("0.4500", "3.00", "yes"),
        ("0.4000", "2.00", "no"),
    ]
    assert [t["taker_book_side"] for t in tape] == ["bid", "ask"]
    assert tape[1]["created_time"] == "2026-05-28T20:31:30Z"


def test_settled_markets_move_to_the_archive_at_the_cutoff() -> None:
    ex = quiet_exchange(window_seconds=300)
    ex.config = replace(ex.config, historical_after_seconds=600)
    ex.advance(START + 1500)
    cutoff = cutoff_of(ex)
    assert cutoff == S + 900
    settled = [m for m in ex.all_markets() if m.settled_ts is not None]
    old = [m for m in settled if archived(m, cutoff)]
    assert old and all(m.settled_ts is not None and m.settled_ts < cutoff for m in old)
    shown = live_markets(ex, ex.all_markets(), {"min_settled_ts": str(S)})
    assert {m.ticker for m in shown} == {m.ticker for m in settled} - {m.ticker for m in old}
    with pytest.raises(ExchangeError):
        live_markets(ex, ex.all_markets(), {"min_settled_ts": "0", "status": "open"})
