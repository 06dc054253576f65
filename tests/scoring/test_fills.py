"""Fills kept with the book each one met and judged at settlement, by hand."""

from __future__ import annotations

from decimal import Decimal as D

from messages.market_data import MarketLifecycle
from messages.trading import Fill
from messages.vocabulary import Side
from scoring.fills import FillBook
from tests.strategies.strategy_builders import book, market

A, B, Q = "KXSOL15M-A", "KXSOL15M-B", "KXSOL15M-Q"


def _fill(ticker: str, side: Side, count: int, price: str, fee: str, ts: float) -> Fill:
    return Fill(
        f"t-{ticker}-{ts}", "o", "c", ticker, side, "buy", count, D(price), D(fee), True, ts
    )


def test_a_fill_is_judged_with_the_book_it_met_when_its_market_settles() -> None:
    fills = FillBook()
    for ticker in (A, B, Q):  # 300-s markets, as the simulator lists them
        fills.on_market(market(ticker, strike=D(100), open_time=0.0, close_time=300.0))
    fills.on_book(book(59.0, [("0.38", 5)], [("0.40", 5)], ticker=A))
    fills.on_fill(_fill(A, "yes", 10, "0.40", "0.1680", 60.0))  # 240 of 300 s left
    fills.on_fill(_fill(A, "yes", 10, "0.40", "0.1680", 60.0))  # told again: booked once
    fills.on_book(book(59.0, [("0.30", 5)], [("0.50", 5)], ticker=A))  # after the fill
    fills.on_fill(_fill(B, "no", 1, "0.50", "0.0175", 200.0))  # no book seen: no floor
    fills.on_lifecycle(MarketLifecycle(A, "settled", 302.0, "yes", D("100.1")))
    fills.on_lifecycle(MarketLifecycle(A, "settled", 303.0, "yes", D("100.1")))  # once only
    fills.on_lifecycle(MarketLifecycle(Q, "settled", 302.0, "no", D("99.9")))
    judged = fills.judged()
    [entry] = judged.entries
    assert (entry.window, entry.count, entry.won) == (A, 10, True)
    assert entry.minutes_left == 12.0  # 240 s of a 300-s market = 12 minutes of 15
    assert entry.floor == D("0.01") + D("0.07") * D("0.40") * D("0.60")  # the book it met
    assert entry.pnl == D("5.832")
    assert (judged.unsettled, judged.quiet, judged.window_seconds) == (1, (Q,), 300.0)
