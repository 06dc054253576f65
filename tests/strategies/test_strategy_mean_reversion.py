"""mean_reversion: entries against z-score extremes, exits on reversion and before close."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from execution.updates import order_update
from kalshi.fees import taker_fee_per_contract
from messages.trading import Fill, RiskDecision, Signal
from messages.vocabulary import OrderStatus as S
from strategies import create_strategy
from strategies.mean_reversion import MeanReversion
from tests.execution.builders import intent
from tests.strategies.strategy_builders import CLOSE, OPEN, TICKER, fill, market, quote

START = OPEN + 100.0


def make(**params: object) -> MeanReversion:
    defaults: dict[str, object] = {"window": 20, "min_periods": 10, "contracts": 3, "min_edge": "0"}
    defaults.update(params)
    strategy = create_strategy("mean_reversion", **defaults)
    assert isinstance(strategy, MeanReversion)
    strategy.on_market(market())
    return strategy


def warm(strategy: MeanReversion, start: float = START, n: int = 20) -> float:
    """Mids alternating 0.50 / 0.52 (mean 0.51, std 0.01); returns the next time."""
    for i in range(n):
        mid = D("0.50") if i % 2 == 0 else D("0.52")
        assert strategy.on_book(quote(start + i, str(mid - D("0.01")), str(mid + D("0.01")))) == []
    return start + n


def test_buys_no_when_the_mid_spikes_up() -> None:
    strategy = make()
    t = warm(strategy)
    [s] = strategy.on_book(quote(t, "0.55", "0.57"))  # mid 0.56: z = 5
    assert (s.direction, s.action, s.quantity) == ("no", "buy", 3)
    assert s.market_price == D("0.45")  # NO ask = 1 − YES bid
    assert s.model_prob == D("0.510000")  # the rolling mean stands in for P(YES)
    assert s.fee == taker_fee_per_contract(D("0.45"))
    assert s.edge == D("0.49") - D("0.45") - s.fee
    assert s.zscore == pytest.approx(5.0)
    assert s.strategy_name == "mean_reversion" and s.timestamp == t


def test_buys_yes_when_the_mid_drops() -> None:
    strategy = make()
    t = warm(strategy)
    [s] = strategy.on_book(quote(t, "0.45", "0.47"))  # mid 0.46: z = −5
    assert (s.direction, s.action, s.market_price) == ("yes", "buy", D("0.47"))
    assert s.edge == D("0.51") - D("0.47") - taker_fee_per_contract(D("0.47"))


def test_small_moves_do_nothing() -> None:
    strategy = make()
    t = warm(strategy)
    assert strategy.on_book(quote(t, "0.51", "0.53")) == []  # z = 1


def enter_no(strategy: MeanReversion) -> tuple[Signal, float]:
    t = warm(strategy)
    [entry] = strategy.on_book(quote(t, "0.55", "0.57"))
    return entry, t + 1


def test_one_entry_at_a_time() -> None:
    strategy = make()
    entry, t = enter_no(strategy)
    assert strategy.on_book(quote(t, "0.57", "0.59")) == []  # still in flight
    assert strategy.stats.skips["pending"] == 1
    strategy.on_decision(
        RiskDecision(entry.signal_id, entry.strategy_name, TICKER, False, "halted", 0, t)
    )
    assert strategy.on_book(quote(t + 1, "0.59", "0.61"))  # rejected: free to try again


def test_exits_when_the_move_reverts() -> None:
    strategy = make()
    _, t = enter_no(strategy)
    strategy.on_fill(fill("no", 3, "0.45", ts=t))
    assert strategy.on_book(quote(t, "0.55", "0.57")) == []  # still stretched: hold
    [exit_] = strategy.on_book(quote(t + 1, "0.50", "0.52"))  # back to the mean
    assert (exit_.direction, exit_.action, exit_.quantity) == ("no", "sell", 3)
    assert exit_.market_price == D("0.48")  # NO bid = 1 − YES ask
    assert exit_.reason.startswith("exit reverted")
    assert exit_.zscore is not None and exit_.zscore <= 0.5
    # no duplicate exit while it is in flight, and flat once it fills
    assert strategy.on_book(quote(t + 2, "0.50", "0.52")) == []
    strategy.on_fill(fill("no", 3, "0.48", action="sell", ts=t + 2))
    assert strategy.positions.holding(TICKER) is None
    assert strategy.positions.realized_pnl == D(3) * D("0.03")


def test_exits_before_close() -> None:
    # on a book update inside the exit window, however stretched the mid still is
    strategy = make(exit_before_close_seconds=60, no_entry_seconds=120)
    _, t = enter_no(strategy)
    strategy.on_fill(fill("no", 3, "0.45", ts=t))
    assert strategy.on_book(quote(CLOSE - 61, "0.58", "0.60")) == []
    [exit_] = strategy.on_book(quote(CLOSE - 59.5, "0.58", "0.60"))
    assert (exit_.action, exit_.direction, exit_.quantity) == ("sell", "no", 3)
    assert exit_.reason.startswith("exit before_close")
    # on the timer when no book update comes
    strategy = make(exit_before_close_seconds=60, no_entry_seconds=120)
    _, t = enter_no(strategy)
    strategy.on_fill(fill("no", 3, "0.45", ts=t))
    strategy.on_book(quote(CLOSE - 62, "0.58", "0.60"))
    assert strategy.on_timer(CLOSE - 61) == []
    [exit_] = strategy.on_timer(CLOSE - 58)
    assert (exit_.action, exit_.direction, exit_.market_price) == ("sell", "no", D("0.40"))
    assert strategy.on_timer(CLOSE - 57) == []  # in flight: not again
    # but not from a book too old to price the exit
    stale = make(exit_before_close_seconds=60, no_entry_seconds=120)
    _, t = enter_no(stale)
    stale.on_fill(fill("no", 3, "0.45", ts=t))
    stale.on_book(quote(CLOSE - 90, "0.58", "0.60"))
    assert stale.on_timer(CLOSE - 58) == []
    assert stale.stats.skips["stale_book"] == 1


def test_no_entries_near_close_or_on_bad_books() -> None:
    strategy = make(no_entry_seconds=120)
    t = warm(strategy, start=CLOSE - 140)
    assert strategy.on_book(quote(t, "0.55", "0.57")) == []
    assert strategy.stats.skips["no_entry_window"] == 1

    wide = make(max_spread="0.05")
    t = warm(wide)
    assert wide.on_book(quote(t, "0.52", "0.60")) == []  # mid 0.56 but a 8¢ spread
    assert wide.stats.skips["wide_spread"] == 1

    stale = make()
    t = warm(stale)
    assert stale.on_book(quote(t, "0.55", "0.57", stale=True)) == []
    assert stale.stats.skips["stale_book"] == 1

    closed = make()
    t = warm(closed)
    closed.on_market(market(status="closed"))
    assert closed.on_book(quote(t, "0.55", "0.57")) == []


def test_time_window_forgets_old_mids() -> None:
    strategy = make(window=30, window_unit="seconds", min_periods=5)
    for i in range(20):  # mids around 0.30, long ago
        strategy.on_book(quote(START + i, "0.29" if i % 2 else "0.27", "0.31" if i % 2 else "0.29"))
    t = warm(strategy, start=START + 100, n=20)  # only these are within 30 s
    assert strategy.on_book(quote(t, "0.51", "0.53")) == []  # z = 1 against 0.51, not vs 0.30
    assert len(strategy._tickers[TICKER].stats) <= 31


def test_flat_mid_gives_no_zscore() -> None:
    strategy = make()
    for i in range(30):
        strategy.on_book(quote(START + i, "0.50", "0.52"))
    assert strategy.on_book(quote(START + 30, "0.53", "0.55")) == []  # std 0 < min_std
    assert strategy.metrics()["markets"][TICKER]["zscore"] is None


def test_a_no_position_rejection_forgets_a_position_netted_away_by_another_strategy() -> None:
    strategy = make()
    strategy.positions.apply_fill(
        Fill(
            "t1",
            "o1",
            "c1",
            TICKER,
            "yes",
            "buy",
            3,
            D("0.40"),
            D("0.02"),
            True,
            START,
            strategy.name,
        )
    )
    assert strategy.positions.held(TICKER, "yes") == 3
    strategy.on_decision(RiskDecision("s1", strategy.name, TICKER, False, "no_position", 0, START))
    assert strategy.positions.held(TICKER, "yes") == 0
    other = RiskDecision("s2", "kelly_volatility", TICKER, False, "no_position", 0, START)
    strategy.positions.apply_fill(
        Fill(
            "t2",
            "o2",
            "c2",
            TICKER,
            "yes",
            "buy",
            1,
            D("0.40"),
            D("0.01"),
            True,
            START,
            strategy.name,
        )
    )
    strategy.on_decision(other)  # another strategy's rejection says nothing about ours
    assert strategy.positions.held(TICKER, "yes") == 1


def test_a_restarted_instance_knows_its_position_and_its_order_on_the_way() -> None:
    """Restored with what it held, it exits it; restored with an open entry, it waits."""
    holding = make()
    t = warm(holding)
    holding.restore([fill("no", 3, "0.45", ts=t)], [], t)
    [exit_] = holding.on_book(quote(t + 1, "0.50", "0.52"))  # back at the mean: it exits
    assert (exit_.direction, exit_.action, exit_.quantity) == ("no", "sell", 3)

    waiting = make()
    t = warm(waiting)
    entry = order_update(intent("c-1", ticker=TICKER, side="no", count=3), S.RESTING, t)
    waiting.restore([], [entry], t)
    assert waiting.on_book(quote(t, "0.55", "0.57")) == []  # z = 5, but an entry is open
    assert waiting.stats.skips["pending"] == 1
