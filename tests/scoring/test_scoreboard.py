"""The live scoreboard's bookkeeping and scores, by hand: which observation each snapshot
takes at which moment, what a missing or stale book does, fills against the cost floor."""

from __future__ import annotations

import math
from decimal import Decimal as D

import pytest

from messages.market_data import BookUpdate, MarketInfo
from messages.trading import Fill
from messages.vocabulary import Action, Side
from scoring.costs import cost_floor
from scoring.scoreboard import (
    NO_BOOK,
    NO_MODEL,
    NOT_WATCHED,
    ONE_SIDED_BOOK,
    STALE_BOOK,
    STALE_MODEL,
    Scoreboard,
    Snapshot,
    WindowRecord,
    merge,
)
from scoring.scoreboard_process import SummaryFailed, SummaryProcess, answer, request
from scoring.scoreboard_summary import MIN_WINDOWS, summarize

OPEN, CLOSE = 9_000.0, 9_900.0  # a 15-minute window
AT = {m: CLOSE - 60 * m for m in (14, 10, 5, 2, 1)}  # 9060, 9300, 9600, 9780, 9840
T = "KXSOL15M-TEST-1"


def market(
    ticker: str = T, open_time: float = OPEN, close_time: float = CLOSE, fee: str = "1"
) -> MarketInfo:
    return MarketInfo(
        ticker, "KXSOL15M-TEST", "active", open_time, close_time, D("150"), "quadratic", D(fee)
    )


def book(
    ts: float,
    bid: str | None = "0.48",
    ask: str | None = "0.52",
    stale: bool = False,
    ticker: str = T,
) -> BookUpdate:
    yes_bid = None if bid is None else D(bid)
    yes_ask = None if ask is None else D(ask)
    no_bid = None if yes_ask is None else 1 - yes_ask
    no_ask = None if yes_bid is None else 1 - yes_bid
    return BookUpdate(ticker, 1, ts, yes_bid, yes_ask, no_bid, no_ask, stale=stale)


def fill(
    ts: float,
    trade_id: str = "t1",
    side: Side = "yes",
    price: str = "0.52",
    count: int = 10,
    fee: str = "0.18",
    action: Action = "buy",
    strategy: str = "kelly_volatility",
) -> Fill:
    return Fill(trade_id, "o1", "c1", T, side, action, count, D(price), D(fee), True, ts, strategy)


def board_with_market(now: float = OPEN) -> Scoreboard:
    board = Scoreboard("kalshi", "kelly_volatility")
    board.on_market(market(), now)
    return board


def snap(board: Scoreboard, minutes: int) -> Snapshot:
    [record] = board.open_records(CLOSE)
    found = record.snapshot(minutes)
    assert found is not None
    return found


# -- which observation a snapshot takes, and when -----------------------------------------------


def test_a_snapshot_takes_the_latest_observation_at_or_before_its_moment() -> None:
    board = board_with_market()
    at = AT[14]
    board.on_model(T, at - 1, 0.40)
    board.on_model(T, at, 0.45)  # exactly at the moment: counts
    board.on_model(T, at + 0.5, 0.90)  # after the moment: never this one
    board.on_model(T, at - 0.5, 0.10)  # older, arriving late: does not displace the newer
    board.on_book(book(at - 3, "0.40", "0.44"))
    board.on_book(book(at - 2, "0.41", "0.45"))
    board.on_book(book(at + 1, "0.70", "0.74"))
    assert board.advance(at + 1.99) == []  # not final until the grace (2 s) has passed
    [record] = board.advance(at + 2)
    taken = record.snapshot(14)
    assert taken is not None
    assert (taken.model_prob, taken.model_ts) == (0.45, at)
    assert (taken.yes_bid, taken.yes_ask, taken.market_mid) == (D("0.41"), D("0.45"), D("0.43"))
    assert taken.missing == ()
    assert record.snapshot(10) is None  # not taken yet: still pending


def test_an_observation_arriving_within_the_grace_still_counts() -> None:
    board = board_with_market()
    at = AT[1]
    board.on_book(book(at - 5))
    board.advance(at + 1)  # a tick inside the grace: nothing final yet
    board.on_model(T, at - 0.3, 0.81)  # the strategy's status, a second late
    board.advance(at + 2)
    assert snap(board, 1).model_prob == 0.81


def test_every_horizon_is_taken_once_at_its_own_moment() -> None:
    board = board_with_market()
    for second in range(int(OPEN), int(CLOSE)):
        board.on_model(T, second, (second - OPEN) / 1000)
        board.on_book(book(second))
        board.advance(second)
    [record] = board.open_records(CLOSE)
    assert [s.minutes for s in record.snapshots] == [14, 10, 5, 2, 1]
    for s in record.snapshots:
        assert s.model_ts == s.book_ts == s.at == AT[s.minutes]
        assert s.model_prob == pytest.approx((s.at - OPEN) / 1000)


# -- what is missing, and why ---------------------------------------------------------------


def test_a_missing_book_leaves_the_market_out_and_says_why() -> None:
    board = board_with_market()
    board.on_model(T, AT[14] - 1, 0.5)
    board.advance(AT[14] + 2)
    taken = snap(board, 14)
    assert taken.model_prob == 0.5
    assert taken.market_mid is None and taken.yes_bid is None and taken.missing == (NO_BOOK,)


@pytest.mark.parametrize(
    ("observed", "reason"),
    [
        (book(AT[5] - 1, stale=True), STALE_BOOK),  # the watcher said so
        (book(AT[5] - 31), STALE_BOOK),  # older than the watcher's own 30 s
        (book(AT[5] - 1, ask=None), ONE_SIDED_BOOK),  # no NO bids: no YES ask, no mid
    ],
)
def test_a_stale_or_one_sided_book_gives_no_mid(observed: BookUpdate, reason: str) -> None:
    board = board_with_market()
    board.on_model(T, AT[5] - 1, 0.3)
    board.on_book(observed)
    board.advance(AT[5] + 2)
    taken = snap(board, 5)
    assert taken.market_mid is None and taken.missing == (reason,)
    assert (
        taken.book_ts == observed.ts and taken.yes_bid == observed.yes_bid
    )  # kept, for the record


def test_a_stale_or_absent_model_is_missing_not_guessed() -> None:
    board = board_with_market()
    board.on_book(book(AT[10] - 1))
    board.on_model(T, AT[10] - 10.5, 0.6)  # older than 10 s at the moment
    board.advance(AT[2] + 2)
    ten, two = snap(board, 10), snap(board, 2)
    assert ten.model_prob is None and ten.model_ts == AT[10] - 10.5
    assert ten.missing == (STALE_MODEL,) and ten.market_mid == D("0.50")
    # nothing new since: at the 2-minute moment both are hundreds of seconds old
    assert two.missing == (STALE_MODEL, STALE_BOOK) and two.market_mid is None
    assert snap(board, 14).missing == (NO_MODEL, NO_BOOK)  # nothing at all before that one


def test_moments_before_the_scoreboard_watched_are_not_watched() -> None:
    board = board_with_market(now=AT[10] + 5)  # learned of the market late (a restart)
    board.advance(AT[10] + 5)
    [record] = board.open_records(AT[10] + 5)
    assert [s.minutes for s in record.snapshots] == [14, 10]
    assert all(s.missing == (NOT_WATCHED,) for s in record.snapshots)


def test_a_short_window_has_only_the_horizons_inside_it() -> None:
    board = Scoreboard("simulated", "kelly_volatility")
    board.on_market(market(open_time=CLOSE - 300), CLOSE - 300)  # a 5-minute sim window
    board.on_book(book(CLOSE - 300))
    board.on_model(T, CLOSE - 300, 0.5)
    board.advance(CLOSE)
    [record] = board.open_records(CLOSE)
    assert [s.minutes for s in record.snapshots] == [5, 2, 1]  # 5: the moment it opened
    assert record.snapshot(5) == Snapshot(
        5, CLOSE - 300, 0.5, CLOSE - 300, D("0.50"), D("0.48"), D("0.52"), CLOSE - 300
    )


# -- fills and settlement ----------------------------------------------------------------------


def test_a_fill_is_scored_against_the_book_just_before_it() -> None:
    board = Scoreboard("kalshi", "kelly_volatility")
    board.on_market(market(fee="0.5"), OPEN)
    board.on_book(book(9_100, "0.48", "0.52"))
    board.on_book(book(9_101, "0.55", "0.60"))  # after the fill: the fill moved it
    record = board.on_fill(fill(9_100.5), 9_101)
    assert record is not None
    [trade] = record.trades
    assert (trade.bid, trade.ask, trade.seconds_left) == (D("0.48"), D("0.52"), CLOSE - 9_100.5)
    assert (
        trade.floor
        == cost_floor(D("0.48"), D("0.52"), D("0.5"))
        == D("0.02") + D("0.07") * D("0.5") * D("0.52") * D("0.48")
    )
    assert board.on_fill(fill(9_100.5), 9_102) is None  # the same trade again: once
    # a NO buy uses the NO side of the same book: bid 1 − 0.52, ask 1 − 0.48
    no = board.on_fill(fill(9_100.7, "t2", side="no", price="0.52"), 9_102)
    assert no is not None and (no.trades[-1].bid, no.trades[-1].ask) == (D("0.48"), D("0.52"))


def test_edges_of_buys_and_sells_by_hand() -> None:
    board = board_with_market()
    board.on_book(book(9_050))
    board.on_fill(fill(9_060, "buy", price="0.52", count=10, fee="0.18"), 9_060)
    board.on_fill(fill(9_070, "sell", price="0.48", count=4, fee="0.08", action="sell"), 9_070)
    record = board.settle(T, "yes", CLOSE + 60)
    assert record is not None and record.outcome == "yes"
    buy, sell = record.trades
    assert buy.edge("yes") == D(1) - D("0.52") - D("0.018")  # won: paid 52¢ and 1.8¢ fee
    assert sell.edge("yes") == D("0.48") - D("0.02") - D(1)  # sold a winner at 48¢
    # a sell at the bid: the floor is that of buying the other side at 1 − bid
    assert sell.floor == cost_floor(D("0.48"), D("0.52")) == buy.floor
    assert board.on_fill(fill(CLOSE + 61, "late"), CLOSE + 61) is None  # settled: too late
    assert board.settle(T, "yes", CLOSE + 62) is None  # once


def test_a_record_survives_its_trip_through_the_ledger_message() -> None:
    board = board_with_market()
    board.on_book(book(AT[1] - 1))
    board.on_model(T, AT[1] - 1, 0.123456789)
    board.on_fill(fill(AT[1]), AT[1])
    board.advance(AT[1] + 2)
    record = board.settle(T, "no", CLOSE + 30)
    assert record is not None
    assert WindowRecord.from_message(record.to_message()) == record
    assert WindowRecord.from_dict(record.as_dict()) == record


def test_an_earlier_incarnations_snapshots_fill_in_what_was_not_watched() -> None:
    first = board_with_market()
    first.on_model(T, AT[14], 0.4)
    first.on_book(book(AT[14]))
    first.advance(AT[14] + 2)
    [earlier] = first.open_records(AT[14] + 3)
    second = board_with_market(now=AT[10] + 10)  # restarted after the 10-minute moment
    second.restore([earlier], AT[10] + 10)
    [now] = second.open_records(AT[10] + 10)
    assert now.snapshot(14) == earlier.snapshot(14)  # kept from before the restart
    ten = now.snapshot(10)
    assert ten is not None and ten.missing == (NOT_WATCHED,)  # nobody watched it
    # and the same the other way round for a window settled before the ledger was read
    settled = merge(WindowRecord.from_dict({**now.as_dict(), "outcome": "yes"}), earlier)
    assert settled.snapshot(14) == earlier.snapshot(14) and settled.outcome == "yes"


def test_other_markets_and_models_are_not_restored() -> None:
    board = board_with_market()
    [record] = board.open_records(OPEN)
    other = Scoreboard("simulated", "kelly_volatility")
    other.restore([record], OPEN)
    assert other.open_records(OPEN) == []


# -- the scores ------------------------------------------------------------------------------------


def window(ticker: str, outcome: str, model: float | None, mid: str | None) -> WindowRecord:
    missing = tuple(r for r, v in ((NO_MODEL, model), (NO_BOOK, mid)) if v is None)
    one = Snapshot(1, 0.0, model, 0.0, None if mid is None else D(mid), None, None, 0.0, missing)
    return WindowRecord(ticker, "kalshi", "m", 0.0, 60.0, (one,), (), outcome, 61.0, 61.0)


def test_brier_of_model_and_market_on_the_same_windows_by_hand() -> None:
    records = [
        window("a", "yes", 0.9, "0.8"),  # model (0.1)² = 0.01, market (0.2)² = 0.04
        window("b", "no", 0.3, "0.2"),  # model 0.09, market 0.04
        window("c", "yes", None, "0.6"),  # no model: left out of both
        window("d", "no", 0.5, None),  # no book: left out of both
        window("e", "yes", 0.7, "0.7"),  # 0.09 each
        WindowRecord("open", "kalshi", "m", 0.0, 60.0, (), (), None, None, 1.0),  # not settled
    ]
    summary = summarize(records, horizons=(1, 14), draws=300, seed=1)
    one, fourteen = summary["horizons"]
    assert summary["settled_windows"] == 5
    assert one["windows"] == 3
    assert one["model_brier"]["estimate"] == pytest.approx((0.01 + 0.09 + 0.09) / 3, abs=1e-4)
    assert one["market_brier"]["estimate"] == pytest.approx((0.04 + 0.04 + 0.09) / 3, abs=1e-4)
    assert one["difference"]["estimate"] == pytest.approx(0.02 / 3, abs=1e-4)
    low, high = one["difference"]["low"], one["difference"]["high"]
    assert low <= one["difference"]["estimate"] <= high and one["difference"]["windows"] == 3
    assert one["missing"] == {"model": 1, "market": 1}
    assert one["real_kalshi_mid_brier"] == 0.022
    assert fourteen["windows"] == 0 and fourteen["not_in_window"] == 5
    assert fourteen["model_brier"]["estimate"] is None
    assert fourteen["verdict"] == "no windows with both forecasts yet"


def test_the_difference_has_a_verdict_once_it_excludes_zero() -> None:
    better = [window(f"w{i}", "yes", 0.9, "0.6") for i in range(MIN_WINDOWS)]
    [one] = summarize(better, horizons=(1,), draws=200)["horizons"]
    assert one["difference"]["high"] < 0 and one["verdict"] == "model better"


def test_realized_edge_and_cost_floor_of_the_trades_by_hand() -> None:
    board = board_with_market()
    board.on_book(book(9_050))  # 48/52: floor = 2¢ + 0.07 × 0.52 × 0.48 = 3.7472¢
    board.on_fill(fill(9_060, "t1", price="0.52", count=10, fee="0.18"), 9_060)
    board.on_fill(fill(9_061, "t2", price="0.52", count=10, fee="0.18", strategy="other"), 9_061)
    won = board.settle(T, "yes", CLOSE)
    assert won is not None
    # a second window, lost: the same first fill, settled NO
    lost = WindowRecord.from_dict(
        {**won.as_dict(), "ticker": "B", "outcome": "no", "trades": [won.trades[0].as_dict()]}
    )
    trades = summarize([won, lost], draws=300)["trades"]
    # won: 2 × 10 contracts at +46.2¢ (100 − 52 − 1.8); lost: 10 at −53.8¢
    expected = (20 * 46.2 + 10 * -53.8) / 30
    assert trades["realized_edge_cents"]["estimate"] == pytest.approx(expected, abs=1e-4)
    assert trades["contracts"] == 30 and trades["fills"] == 3 and trades["windows"] == 2
    assert trades["cost_floor_cents"] == pytest.approx(3.7472)
    # before costs = realized + floor: outcome − mid, less the fee's rounding up to $0.0001
    # (the fill paid 1.8¢ a contract, the floor counts the unrounded 1.7472¢)
    before = trades["edge_before_costs_cents"]["estimate"]
    by_hand = (20 * (46.2 + 3.7472) + 10 * (-53.8 + 3.7472)) / 30
    assert before == pytest.approx(by_hand, abs=1e-4)
    assert by_hand == pytest.approx((20 * 50 - 10 * 50) / 30 - (1.8 - 1.7472))
    assert trades["verdict"].startswith("realized edge: too few settled windows to judge (2 of")
    assert set(trades["by_strategy"]) == {"kelly_volatility", "other"}
    assert trades["by_strategy"]["other"]["contracts"] == 10


def test_a_fill_without_a_book_has_no_floor_but_still_counts() -> None:
    board = board_with_market()
    board.on_fill(fill(9_062, "t3", price="0.40", count=5, fee="0.09"), 9_062)
    record = board.settle(T, "no", CLOSE)
    assert record is not None and record.trades[0].floor is None
    trades = summarize([record], draws=100)["trades"]
    assert trades["realized_edge_cents"]["estimate"] == pytest.approx(-40 - 1.8)
    assert trades["cost_floor_cents"] is None
    assert trades["edge_before_costs_cents"]["windows"] == 0


def test_too_few_windows_give_figures_but_no_verdict() -> None:
    few = [window(f"w{i}", "yes", 0.9, "0.6") for i in range(MIN_WINDOWS - 1)]
    [one] = summarize(few, horizons=(1,), draws=200)["horizons"]
    assert one["difference"]["estimate"] == pytest.approx(0.01 - 0.16)
    assert one["verdict"] == f"too few windows to judge ({MIN_WINDOWS - 1} of at least 30)"


def test_no_trades_no_verdict_and_no_nan_in_the_json() -> None:
    trades = summarize([])["trades"]
    assert trades["realized_edge_cents"]["estimate"] is None
    assert trades["cost_floor_cents"] is None
    assert trades["verdict"] == "realized edge: no settled trades to judge"


def test_the_child_process_answers_what_summarize_gives_in_process() -> None:
    records = [window("a", "yes", 0.9, "0.8"), window("b", "no", 0.3, "0.2")]
    import orjson

    assert orjson.loads(answer(request(records, draws=100))) == orjson.loads(
        orjson.dumps(summarize(records, draws=100))
    )
    assert math.isfinite(summarize(records, draws=100)["horizons"][-1]["model_brier"]["estimate"])


def test_the_summary_is_computed_by_a_child_process_as_in_process() -> None:
    records = [window(f"w{i}", "yes" if i % 3 else "no", 0.2 + i / 50, "0.5") for i in range(12)]
    import orjson

    expected = orjson.loads(orjson.dumps(summarize(records, draws=150, seed=4)))
    assert SummaryProcess(draws=150, seed=4)(records) == expected


def test_a_cancelled_summary_process_says_so() -> None:
    process = SummaryProcess(draws=10)
    process.cancel()  # the scoreboard stopping: no child is started any more
    with pytest.raises(SummaryFailed, match="stopping"):
        process([window("a", "yes", 0.9, "0.8")])
