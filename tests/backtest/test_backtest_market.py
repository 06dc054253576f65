"""The market model quotes exactly as the simulator's MakerDesk would, and takes our fills like a book."""

from __future__ import annotations

import random
from decimal import Decimal

import numpy as np
import pytest

from backtest.market import (
    MICRO,
    MarketModel,
    MarketParams,
    PriceGrid,
    WindowBook,
    fair_values,
    quote_top,
    variance_units_table,
)
from backtest.windows import find_windows
from kalshi.units import PriceLevels
from simulator.config import MarketCalibration
from simulator.pricing import settlement_probability
from simulator.ticks import max_price, min_price, round_up, step_down, step_up
from simulator.traders import MakerDesk, nearest
from tests.backtest.backtest_builders import START

LEVELS = PriceLevels()


def desk_top(fair: int, spread: int) -> tuple[int, int]:
    """``MakerDesk.step``'s bid and ask, with the simulator's own Decimal functions."""
    fair_d, spread_d = Decimal(fair).scaleb(-6), Decimal(spread).scaleb(-6)
    bid = nearest(LEVELS, fair_d - spread_d / 2)
    ask = round_up(LEVELS, bid + spread_d)
    bid = max(bid, min_price(LEVELS))
    if ask <= bid:
        ask = step_up(LEVELS, bid)
    if ask > max_price(LEVELS):
        ask = max_price(LEVELS)
        bid = min(bid, step_down(LEVELS, ask))
    return int(bid * MICRO), int(ask * MICRO)


def test_vectorized_quotes_equal_the_desks_for_every_fair_value_and_spread() -> None:
    rng = random.Random(3)
    fairs = list(range(0, MICRO + 1, 997)) + [rng.randrange(MICRO + 1) for _ in range(3000)]
    spreads = [rng.choice((20_000, 10_000, 8_000, 5_000, 12_500, 7_001, 1)) for _ in fairs]
    bid, ask = quote_top(PriceGrid(LEVELS), np.array(fairs), np.array(spreads))
    expected = [desk_top(f, s) for f, s in zip(fairs, spreads, strict=True)]
    assert list(zip(bid.tolist(), ask.tolist(), strict=True)) == expected


def test_vectorized_fair_values_equal_settlement_probability() -> None:
    rng = np.random.default_rng(5)
    prices = 100.0 + np.cumsum(rng.normal(0, 0.03, 1000))
    close = 990
    seen = np.arange(0, close)
    got = fair_values(prices, seen, close, 100.4, 8e-5, variance_units_table(1000))
    for s, value in zip(seen.tolist(), got.tolist(), strict=True):
        known = [float(p) for p in prices[max(close - 59, 0) : s + 1]] if s > close - 60 else []
        want = settlement_probability(
            spot=float(prices[s]),
            strike=100.4,
            now=s,
            close=close,
            known_window_prints=known,
            sigma_per_second=8e-5,
        )
        assert value == pytest.approx(want, abs=1e-12)


def test_ladders_equal_the_desks() -> None:
    model = MarketModel(MarketParams(), seed=0)
    desk = MakerDesk(
        None,  # type: ignore[arg-type]  # the ladder needs no engine
        None,  # type: ignore[arg-type]
        index=None,  # type: ignore[arg-type]
        calibration=MarketCalibration(),
        levels=LEVELS,
        window_seconds=900,
        seed=0,
    )
    grid = model.grid
    for bid in (1_000, 5_000, 95_000, 100_000, 420_000, 890_000, 905_000, 998_000):
        for ask in (bid + 1_000, bid + 10_000, bid + 20_000):
            if ask >= MICRO or int(ask) not in grid.decimal or bid not in grid.decimal:
                continue
            want = desk._ladder(grid.decimal[bid], grid.decimal[ask])
            got = model.ladder((bid, ask))
            flat = {(side, grid.decimal[m]): best for side, m, best in got.targets()}
            assert flat == want


def window_book(seed: int = 1) -> tuple[MarketModel, WindowBook]:
    ts = np.arange(START - 120, START + 1000, dtype=np.int64)
    q = np.full(ts.size, 1_500_000, dtype=np.int64)  # flat at $150
    windows, _ = find_windows(ts, q, lead=60)
    model = MarketModel(MarketParams(noise=0.0, sigma=0.8), seed)
    return model, model.book(windows[0], q / 10_000)


def test_the_book_is_published_best_first_with_asks_from_the_other_side() -> None:
    _, book = window_book()
    update = book.requote(0, float(START))
    assert update is not None
    assert update.yes_bids[0][0] == update.yes_bid and update.no_bids[0][0] == update.no_bid
    assert update.yes_ask == 1 - update.no_bid
    assert [p for p, _ in update.yes_bids] == sorted((p for p, _ in update.yes_bids), reverse=True)
    assert len(update.yes_bids) == len(update.no_bids) == 6
    assert all(8 <= s <= 14 for _, s in (update.yes_bids[0], update.no_bids[0]))
    assert all(10 <= s <= 40 for _, s in update.yes_bids[1:] + update.no_bids[1:])
    assert book.requote(1, float(START + 1)) is None  # nothing moved: nothing published


def test_our_fills_take_depth_and_the_desk_refills_as_the_simulator_does() -> None:
    _, book = window_book()
    first = book.requote(0, float(START))
    assert first is not None
    ask, size = first.yes_ask_levels[0]
    # buying YES at the ask takes the best NO bid
    assert book.consume("yes", ask, int(size), "buy")
    after = book.snapshot(float(START))
    assert after.no_bids[0][0] != first.no_bids[0][0]  # the level is gone
    refilled = book.requote(1, float(START + 1))  # an emptied level is replaced at once
    assert refilled is not None and refilled.no_bids[0][0] == first.no_bids[0][0]
    # a level that lost more than half waits for a refresh (requote_probability or a move)
    price, size = refilled.no_bids[0]
    book.consume("yes", 1 - price, int(size) // 2 + 1, "buy")
    draws = book.refresh_draw
    second = next(i for i in range(2, 900) if draws[i] >= 0.15)
    refresh = next(i for i in range(second, 900) if draws[i] < 0.15)
    for i in range(2, refresh):
        update = book.requote(i, float(START + i))
        assert update is None
    replaced = book.requote(refresh, float(START + refresh))
    assert replaced is not None and replaced.no_bids[0][1] >= 8
