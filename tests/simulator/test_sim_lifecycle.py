"""Index, markets, tickers, lifecycle, settlement and determinism of the core."""

from __future__ import annotations

import itertools
import math
import statistics
import uuid
from decimal import Decimal

import pytest

from kalshi.fees import taker_fee
from kalshi.tickers import parse_market_ticker
from simulator.config import ConfigError, ExchangeConfig, IndexConfig
from simulator.events import FastIndexTick, LifecycleEvent
from simulator.exchange import Exchange
from simulator.index import IndexProcess
from simulator.markets import utc
from tests.simulator.helpers import START, order, quiet_exchange

D = Decimal


def mean(values: list[Decimal]) -> Decimal:
    return (sum(values, D(0)) / len(values)).quantize(D("0.00000001"))


def test_tickers_use_the_close_time_in_new_york() -> None:
    ex = quiet_exchange()
    current = ex.current_market()
    assert current is not None
    # START is 2026-05-28 20:30 UTC = 16:30 EDT; the first window closes at 16:45.
    assert current.ticker == "KXSOL15M-26MAY281645-45"
    assert current.event_ticker == "KXSOL15M-26MAY281645"
    assert (current.open_ts, current.close_ts) == (int(START), int(START) + 900)
    nxt = [m for m in ex.all_markets() if m.status == "initialized"]
    assert [m.ticker for m in nxt] == ["KXSOL15M-26MAY281700-00"]
    assert parse_market_ticker(current.ticker).close_time == utc(current.close_ts)


def test_short_window_ticker_uses_the_close_minute() -> None:
    ex = quiet_exchange(window_seconds=60)
    current = ex.current_market()
    assert current is not None
    assert current.ticker == "KXSOL15M-26MAY281631-31"
    ex.advance(START + 60)
    current = ex.current_market()
    assert current is not None
    assert current.ticker == "KXSOL15M-26MAY281632-32"


@pytest.mark.parametrize("window", [30, 59, 0])
def test_sub_minute_windows_are_refused(window: int) -> None:
    with pytest.raises(ConfigError, match="share a ticker"):
        ExchangeConfig(window_seconds=window).validate()


def test_strike_is_the_60_second_average_before_open() -> None:
    ex = quiet_exchange(window_seconds=120)
    first = ex.current_market()
    assert first is not None
    assert first.floor_strike == mean(ex.index.prints_between(first.open_ts - 60, first.open_ts))
    ex.advance(START + 120)
    second = ex.current_market()
    assert second is not None and second is not first
    expected = mean(ex.index.prints_between(int(START) + 60, int(START) + 120))
    assert second.floor_strike == expected
    assert len(ex.index.prints_between(int(START) + 60, int(START) + 120)) == 60


def test_average_uses_the_prints_available() -> None:
    index = IndexProcess(IndexConfig(), seed=1, first_ts=1000, retain_seconds=3600)
    index.extend_to(1010)
    assert index.settlement_average(1010) == mean(index.prints_between(900, 1010))
    assert len(index.prints_between(900, 1010)) == 11
    assert index.settlement_average(500) == index.value_at(1000)


def test_index_volatility_matches_the_config() -> None:
    config = IndexConfig(volatility=0.5, jumps_per_day=0)
    index = IndexProcess(config, seed=3, first_ts=0, retain_seconds=100_000)
    index.extend_to(40_000)
    values = [float(v) for v in index.prints_between(-1, 40_000)]
    returns = [math.log(b / a) for a, b in itertools.pairwise(values)]
    annualized = statistics.pstdev(returns) * math.sqrt(365 * 86_400)
    assert annualized == pytest.approx(0.5, rel=0.05)


def test_fast_ticks_lead_to_the_next_print_and_change_no_print() -> None:
    """The 5-per-second ticks are drawn before the next print exists, from a generator of
    their own: the once-a-second path is the same with or without them, and the ticks
    are the same whether taken early or recomputed later."""
    plain = IndexProcess(IndexConfig(), seed=4, first_ts=0, retain_seconds=3600)
    plain.extend_to(60)
    peeking = IndexProcess(IndexConfig(), seed=4, first_ts=0, retain_seconds=3600)
    early = {}
    for t in range(60):
        early[t] = peeking.fast_ticks(t)  # print t + 1 does not exist yet
        assert peeking.last_ts == t
        peeking.extend_to(t + 1)
    assert peeking.prints_between(-1, 60) == plain.prints_between(-1, 60)
    sd = plain.sigma_per_second
    for t in range(60):
        assert peeking.fast_ticks(t) == early[t] and len(early[t]) == 4
        low, high = (math.log(v) for v in plain.prints_between(t - 1, t + 1))
        for k, tick in enumerate(early[t], start=1):
            line = low + (high - low) * k / 5
            assert abs(math.log(tick) - line) < 6 * sd  # a bridge, not a jump elsewhere
    with pytest.raises(ValueError, match="no index print"):
        plain.fast_ticks(61)


def test_a_moment_just_before_a_whole_second_sends_no_tick_of_that_second() -> None:
    """464.9996 s rounds to 465,000 ms, whose print does not exist yet: the fast feed stops
    at the last tick of the second it is in (this failed requests with a 500 once)."""
    ex = quiet_exchange(record_events=True)
    ex.drain_events()
    for moment in (START + 2.9996, START + 3.9997, START + 4.0):
        ex.advance(moment)
        ticks = [e for e in ex.drain_events() if isinstance(e, FastIndexTick)]
        assert ticks and ticks[-1].ts_ms <= math.floor(moment) * 1000 + 999
        assert all(
            t.value == ex.index.value_at(t.ts_ms // 1000) for t in ticks if t.ts_ms % 1000 == 0
        )


def test_no_fast_ticks_without_listeners() -> None:
    ex = quiet_exchange(record_events=False)
    ex.advance(START + 3.5)
    assert len(ex.outbox) == 0


def test_trailing_averages_for_the_index_feed() -> None:
    index = IndexProcess(IndexConfig(), seed=2, first_ts=0, retain_seconds=3600)
    index.extend_to(200)
    average = index.trailing_average(200)
    assert average.count == 60
    assert average.value == mean(index.prints_between(139, 199))
    assert (average.start_ms, average.end_ms_exclusive) == (140_000, 200_000)
    final = index.final_minute_average(190, 240)
    assert final is not None and final.count == 10
    assert index.final_minute_average(170, 240) is None


def test_lifecycle_and_settlement_maths() -> None:
    ex = quiet_exchange(window_seconds=300)
    market = ex.current_market()
    assert market is not None
    alice, bob = ex.create_user("alice"), ex.create_user("bob")
    order(ex, bob, "no", "buy", "0.48", 10)
    order(ex, alice, "yes", "buy", "0.52", 10)  # alice YES ×10 at 0.52, bob NO ×10 at 0.48
    resting = order(ex, alice, "yes", "buy", "0.10", 5)
    fee = taker_fee(D("0.52"), D(10))
    assert ex.balance(alice) == D(10000) - D("5.20") - fee - D("0.50")
    ex.drain_events()

    close = market.close_ts
    ex.advance(close - 1)
    assert market.status == "active"
    ex.advance(close)
    assert market.status == "closed"
    assert ex.get_order(alice, resting.order_id).last_update_reason == "CloseCancel"
    ex.advance(close + 1)
    assert market.status == "closed"
    ex.advance(close + 2)  # determination_delay_seconds
    assert market.status == "determined"
    expected_value = mean(ex.index.prints_between(close - 60, close))
    assert market.expiration_value == expected_value
    assert market.result == ("yes" if expected_value >= market.floor_strike else "no")
    assert ex.balance(alice) == D(10000) - D("5.20") - fee  # not paid yet
    ex.advance(close + 5)  # + settlement_timer_seconds
    assert market.status == "finalized"
    yes_won = market.result == "yes"
    assert ex.balance(alice) == D(10000) - D("5.20") - fee + (D(10) if yes_won else 0)
    assert ex.balance(bob) == D(10000) - D("4.80") + (0 if yes_won else D(10))
    assert ex.positions(alice)[0].position == 0
    assert ex.positions(alice)[0].realized_pnl == (D("4.80") if yes_won else D("-5.20"))
    record = ex.settlements(alice)[0]
    assert (record.yes_count, record.revenue) == (10, D(10) if yes_won else 0)

    kinds = [(e.ticker, e.event_type) for e in ex.drain_events() if isinstance(e, LifecycleEvent)]
    nxt = ex.current_market()
    assert nxt is not None
    listed = [m.ticker for m in ex.all_markets() if m.status == "initialized"]
    assert kinds == [
        (nxt.ticker, "activated"),
        (nxt.ticker, "metadata_updated"),
        (listed[0], "created"),
        (market.ticker, "determined"),
        (market.ticker, "settled"),
    ]
    # The next window was listed when this one opened, activated at this close, and a
    # new one is listed one window ahead.
    statuses = {m.ticker: m.status for m in ex.all_markets()}
    assert statuses[market.ticker] == "finalized"
    assert statuses[nxt.ticker] == "active"
    assert sorted(statuses.values()).count("initialized") == 1


def test_lifecycle_event_order() -> None:
    ex = quiet_exchange(window_seconds=60)
    first = ex.current_market()
    assert first is not None
    ex.advance(START + 70)
    events = [
        (e.ticker, e.event_type, e.ts) for e in ex.drain_events() if isinstance(e, LifecycleEvent)
    ]
    t0 = int(START)
    second = first.ticker.replace("1631-31", "1632-32")
    third = first.ticker.replace("1631-31", "1633-33")
    assert events == [
        (second, "activated", t0 + 60),
        (second, "metadata_updated", t0 + 60),
        (third, "created", t0 + 60),
        (first.ticker, "determined", t0 + 62),
        (first.ticker, "settled", t0 + 65),
    ]


def money(ex: Exchange) -> Decimal:
    """Cash + cash held by resting orders + fees paid + $1 per open YES/NO pair."""
    accounts = list(ex.accounts.values())
    cash = sum((a.balance for a in accounts), D(0))
    held = sum(
        (o.reserved for a in accounts for o in a.orders.values() if o.status == "resting"), D(0)
    )
    fees = sum((s.fees_paid for a in accounts for s in a.positions.values()), D(0))
    pairs = sum((m.open_interest for m in ex.markets.values()), D(0))
    return cash + held + fees + pairs


def test_money_is_conserved_with_simulated_traders() -> None:
    ex = Exchange(ExchangeConfig(seed=5, window_seconds=120), start=START)
    alice = ex.create_user("alice")
    before = money(ex)
    market = ex.current_market()
    assert market is not None
    order(ex, alice, "yes", "buy", str(ex.top_of_book(market).yes_ask), 3)
    assert money(ex) == before
    ex.advance(START + 400)  # three windows settled, a fourth open
    assert len([m for m in ex.all_markets() if m.status == "finalized"]) >= 2
    assert sum((m.volume for m in ex.markets.values()), D(0)) > 1000
    # Cash moves only between users (fees aside): a bought YES+NO pair holds $1 until
    # it is closed or settled, and settlement pays exactly $1 per pair.
    assert money(ex) == before


def _run(seed: int, id_run: int | None = None) -> tuple[tuple[object, ...], tuple[str, ...]]:
    """What a run's prices and trades were, and the ids it gave out."""
    ex = Exchange(ExchangeConfig(seed=seed, id_run=id_run), start=START)
    alice = ex.create_user("alice")
    placed = []
    for step in range(1, 200, 7):
        ex.advance(START + step)
        market = ex.current_market()
        assert market is not None
        top = ex.top_of_book(market)
        placed.append(order(ex, alice, "yes", "buy", str(top.yes_bid), 2).order_id)
    market = ex.current_market()
    assert market is not None
    fills = ex.fills(alice)
    prices = (
        ex.index.latest(),
        ex.orderbook(market.ticker),
        ex.balance(alice),
        tuple((f.count, f.yes_price) for f in fills),
        market.volume,
    )
    return prices, (*placed, *(f.fill_id for f in fills))


def test_same_seed_same_prices_different_seed_different_prices() -> None:
    (first, _), (again, _), (other, _) = _run(11), _run(11), _run(12)
    assert first == again
    assert first[0] != other[0]
    assert first[1] != other[1]


def test_ids_never_repeat_across_runs_of_the_same_seed() -> None:
    """A second exchange on the same seed (a second ``python run.py``) gives new ids: a
    ledger kept across runs never meets an order or fill id twice."""
    (_, first), (_, again) = _run(11), _run(11)
    assert len(first) > 30 and len(set(first)) == len(first)
    assert not set(first) & set(again)
    assert all(uuid.UUID(i).version == 4 for i in first)
    assert _run(11, id_run=7)[1] == _run(11, id_run=7)[1]  # fixed by hand, they repeat


def test_advance_never_goes_back() -> None:
    ex = quiet_exchange()
    ex.advance(START + 10)
    latest = ex.index.latest()
    ex.advance(START + 5)
    assert ex.index.latest() == latest
    assert ex.now == START + 10


def test_repeated_new_york_hour_does_not_stall_the_series() -> None:
    # 2026-11-01 05:00 UTC is 01:00 EDT; at 06:00 UTC New York repeats 01:00–02:00 (EST).
    ex = Exchange(ExchangeConfig(market_makers=False, noise_traders=False), start=1_793_509_200)
    ex.advance(1_793_509_200 + 3 * 3600)
    tickers = [m.ticker for m in ex.all_markets()]
    assert len(tickers) == len(set(tickers))
    # 14 windows (opens 05:00 … 08:15 UTC). Those closing at 06:15, 06:30 and 06:45 UTC
    # would be named 01:15/01:30/01:45 again (EST this time): they are not listed, and
    # the series carries on after them.
    assert len(tickers) == 14 - 3
    assert "KXSOL15M-26NOV010100-00" in tickers  # 06:00 UTC: the first 01:00 close
    current = ex.current_market()
    assert current is not None and current.close_ts == 1_793_509_200 + 3 * 3600 + 900
