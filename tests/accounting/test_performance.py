"""The P&L figures, replayed from fills and settlements, against a hand computation."""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

import pytest

from accounting.performance import compute, report
from messages.trading import Fill
from tests.accounting import seeded


def check_report(body: dict[str, Any]) -> None:
    """The seeded session's report, figure by figure (shared with the API test)."""
    for key, value in seeded.EXPECTED.items():
        assert body[key] == value, key
    assert body["max_drawdown_pct"] == pytest.approx(3.01 / 1005.83)
    record = body["record"]
    for key, value in seeded.EXPECTED_RECORD.items():
        assert record[key] == value, key
    assert record["win_rate"] == pytest.approx(1 / 3)
    markets = {m["ticker"]: m for m in body["markets"]}
    assert set(markets) == set(seeded.EXPECTED_MARKETS)
    for ticker, (
        pnl,
        fees,
        entry,
        exit_,
        settled,
        (wins, losses),
    ) in seeded.EXPECTED_MARKETS.items():
        row = markets[ticker]
        assert (row["pnl"], row["fees"], row["entry_price"]) == (pnl, fees, entry), ticker
        assert (row["exit_price"], row["settlement"]) == (exit_, settled), ticker
        assert (row["wins"], row["losses"]) == (wins, losses), ticker
    curve = body["equity_curve"]
    assert [(p["start"], p["equity"], p["pnl"]) for p in curve["hourly"]] == seeded.EXPECTED_HOURLY
    assert [(p["start"], p["equity"], p["pnl"]) for p in curve["daily"]] == seeded.EXPECTED_DAILY
    trades = {t["ticker"]: t for t in body["trades"]}
    assert trades["KXA"]["result"] == "win" and trades["KXA"]["settled"] == 10
    assert trades["KXB"]["exited"] == 5 and trades["KXB"]["realized_edge"] == "-0.1380"
    assert trades["KXD"]["result"] == "open" and trades["KXD"]["closed_at"] is None
    assert trades["KXC"]["expected_edge"] == "0.0600"


def test_the_seeded_session_matches_the_hand_computation_to_the_cent() -> None:
    _, fills, settlements = seeded.fills_and_settlements()
    edges = {"cA": D("0.05"), "cB": D("0.04"), "cBx": D(0), "cC": D("0.06"), "cD": D("0.03")}
    perf = compute(
        fills, settlements, starting_balance=D(1000), edges=edges, values={"KXD": D("1.80")}
    )
    check_report(report(perf))


def test_the_order_events_arrive_in_does_not_change_the_figures() -> None:
    _, fills, settlements = seeded.fills_and_settlements()
    forward = report(compute(fills, settlements, starting_balance=D(1000)))
    backward = report(compute(fills[::-1], settlements[::-1], starting_balance=D(1000)))
    assert forward == backward


def test_a_fill_that_flips_a_position_closes_one_trade_and_opens_the_next() -> None:
    buy = Fill("t1", "o1", "c1", "KX", "yes", "buy", 2, D("0.40"), D("0.02"), True, 10.0, "s")
    # buying 5 NO at 0.70 closes the 2 YES (each pair pays $1: 2 × (1 − 0.70 − 0.40) = −0.20)
    # and opens 3 NO; the fill's whole fee goes with the closing part
    flip = Fill("t2", "o2", "c2", "KX", "no", "buy", 5, D("0.70"), D("0.05"), True, 20.0, "s")
    perf = compute([buy, flip], [], starting_balance=D(100))
    first, second = perf.trips
    assert (first.result, first.pnl, first.fees) == ("loss", D("-0.27"), D("0.07"))
    assert (second.side, second.bought, second.fees, second.result) == ("no", 3, D(0), "open")
    assert perf.fees == D("0.07")
    assert perf.realized_pnl == D("-0.27")


def test_no_trades_is_an_empty_record_not_an_error() -> None:
    body = report(compute([], [], starting_balance=D(1000)))
    assert body["equity"] == body["balance"] == "1000.0000"
    assert body["record"]["win_rate"] is None
    assert body["record"]["avg_realized_edge"] is None
    assert body["equity_curve"] == {"hourly": [], "daily": []}
    assert body["max_drawdown"] == "0.0000"
