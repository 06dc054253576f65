"""The realized edge against the cost floor, the P&L interval and the faster interval, by hand."""

from __future__ import annotations

import math
import random
from decimal import Decimal as D

import pytest

from scoring.costs import REAL_SOL_COST_FLOOR_CENTS, fill_floor
from scoring.edge import Entry, bucket_label, bucket_of, edge_report, pnl_interval
from scoring.forecasts import Forecast, brier_of
from scoring.intervals import NO_DATA, by_window, mean_by_window, sum_by_window


def test_mean_by_window_resamples_whole_windows_like_by_window() -> None:
    made = [Forecast("a", m, 1.0, 1) for m in (14, 5)] + [Forecast("b", m, 1.0, 0) for m in (14, 5)]
    interval = mean_by_window(made, lambda f: f.window, lambda f: (f.prob - f.outcome) ** 2)
    assert interval.estimate == pytest.approx(0.5) and interval.windows == 2
    assert (interval.low, interval.high) == (0.0, 1.0)  # all-a, mixed, all-b draws only


def test_mean_by_window_agrees_with_by_window_on_random_windows() -> None:
    rng = random.Random(7)
    made = [Forecast(str(i % 300), 5, rng.random(), rng.randint(0, 1)) for i in range(600)]
    slow = by_window(made, lambda f: f.window, brier_of)
    fast = mean_by_window(made, lambda f: f.window, lambda f: (f.prob - f.outcome) ** 2)
    assert fast.estimate == pytest.approx(slow.estimate)
    assert fast.windows == slow.windows == 300
    assert abs(fast.low - slow.low) < 0.004 and abs(fast.high - slow.high) < 0.004  # MC noise
    assert mean_by_window(made, lambda f: f.window, lambda f: f.prob) == mean_by_window(
        made, lambda f: f.window, lambda f: f.prob
    )  # seeded


def test_sum_by_window_spans_the_all_worst_and_all_best_draws() -> None:
    # three windows made +2, −1 and 0: a draw of three copies of −1 (1 in 27) is below the
    # 2.5th percentile's reach, so the interval is [3 × −1, 3 × 2]
    interval = sum_by_window([("a", 2.0), ("b", -1.0), ("c", 0.0)], lambda x: x[0], lambda x: x[1])
    assert interval.estimate == pytest.approx(1.0)
    assert (interval.low, interval.high) == (pytest.approx(-3.0), pytest.approx(6.0))


def test_draws_without_weight_are_skipped_and_no_items_no_interval() -> None:
    items = [("a", 1.0, 0.0), ("b", 3.0, 1.0)]  # a draw of only "a" has no weight
    interval = mean_by_window(items, lambda x: x[0], lambda x: x[1], lambda x: x[2])
    assert interval.estimate == pytest.approx(4.0)
    assert not math.isnan(interval.low) and interval.high == pytest.approx(4.0)
    assert mean_by_window([], lambda x: "", lambda x: 0.0) is NO_DATA


@pytest.mark.parametrize(
    ("minutes", "bucket"),
    [
        (14.9, 14),
        (12.0, 14),
        (11.99, 10),
        (7.5, 10),
        (7.49, 5),
        (3.5, 5),
        (2.0, 2),
        (1.49, 1),
        (0.0, 1),
        (math.nan, None),  # close time unknown: no bucket
    ],
)
def test_a_fill_counts_at_the_nearest_horizon(minutes: float, bucket: int | None) -> None:
    assert bucket_of(minutes) == bucket


def test_a_fill_without_minutes_left_counts_only_overall() -> None:
    report = edge_report([_entry("a", math.nan, "buy", 10, "0.40", "0.10", True)])
    assert all(row.fills == 0 for row in report.rows)
    assert report.overall.estimate == pytest.approx(59.0)


def test_bucket_labels_show_their_ranges() -> None:
    assert [bucket_label(m) for m in (14, 10, 1)] == ["14 (≥12)", "10 (7.5–12)", "1 (<1.5)"]


@pytest.mark.parametrize(
    ("side", "action", "price"),
    [
        ("yes", "buy", D("0.34")),
        ("yes", "sell", D("0.30")),
        ("no", "buy", D("0.70")),
        ("no", "sell", D("0.66")),
    ],
)
def test_the_floor_of_a_fill_charges_the_fee_where_a_taker_trades(
    side: str, action: str, price: D
) -> None:
    # YES 30¢ bid / 34¢ ask: half the spread is 2¢ on either side; the NO book is 66/70
    expected = D("0.02") + D("0.07") * price * (1 - price)
    assert fill_floor(side, action, D("0.30"), D("0.34")) == expected
    assert fill_floor(side, action, None, D("0.34")) is None


def _entry(
    window: str, minutes: float, action: str, count: int, price: str, fee: str, won: bool
) -> Entry:
    return Entry(window, minutes, action, count, D(price), D(fee), won, D("0.02"))


def test_a_fill_is_judged_against_its_settlement() -> None:
    bought = _entry("w", 13, "buy", 10, "0.40", "0.17", True)
    assert bought.pnl == D("5.83") and bought.edge == D("0.583")  # 10 × (1 − 0.40) − 0.17
    sold = _entry("w", 3, "sell", 5, "0.30", "0.08", False)
    assert sold.pnl == D("1.42")  # sold at 30¢ what paid nothing: 5 × 0.30 − 0.08


def test_the_edge_report_by_hand() -> None:
    entries = [
        _entry("a", 13, "buy", 10, "0.40", "0.10", True),  # +6.00 − 0.10 = 5.90
        _entry("b", 13.5, "buy", 10, "0.60", "0.10", False),  # −6.00 − 0.10 = −6.10
        Entry("c", 1.0, "buy", 4, D("0.95"), D("0.01"), True, None),  # +0.20 − 0.01 = 0.19
    ]
    report = edge_report(entries)
    rows = {row.minutes: row for row in report.rows}
    assert list(rows) == [14, 10, 5, 2, 1]
    early = rows[14]
    assert (early.fills, early.contracts) == (2, 20)
    assert early.edge.estimate == pytest.approx(-1.0)  # (590 − 610)¢ / 20 contracts
    assert (early.edge.low, early.edge.high) == (pytest.approx(-61.0), pytest.approx(59.0))
    assert early.floor.estimate == pytest.approx(2.0) and early.floor.low == pytest.approx(2.0)
    assert early.real_floor == REAL_SOL_COST_FLOOR_CENTS[14]
    assert rows[10].fills == 0 and rows[10].edge.windows == 0
    assert rows[1].edge.estimate == pytest.approx(4.75) and rows[1].floor.windows == 0
    assert report.overall.estimate == pytest.approx((590 - 610 + 19) / 24)
    assert report.verdict.startswith("realized edge: too few windows to judge (-0.04¢/contract")
    assert report.as_dict()["buckets"][0]["realized_edge_cents"]["estimate"] == -1.0


def test_the_verdict_of_many_windows_by_hand() -> None:
    # twelve windows that each made +58.32¢ a contract: every resample is the same
    same = [_entry(f"w{i}", 13, "buy", 10, "0.40", "0.168", True) for i in range(12)]
    assert edge_report(same).verdict == (
        "realized edge positive (+58.32¢/contract, 95% interval [+58.32, +58.32] over 12 windows)"
    )
    # six that won 60¢ and six that lost 40¢ at 40¢, 1¢ fee: +9¢ a contract, and zero
    # well inside the interval
    mixed = [_entry(f"w{i}", 13, "buy", 10, "0.40", "0.10", i % 2 == 0) for i in range(12)]
    report = edge_report(mixed)
    assert report.overall.estimate == pytest.approx(9.0)  # (6 × 590 − 6 × 410) / 120
    assert report.overall.low < 0 < report.overall.high
    assert report.verdict.startswith("realized edge not distinguishable from zero (+9.00¢")
    assert "over 12 windows" in report.verdict


def test_the_settled_pnl_interval_counts_quiet_windows_as_zero() -> None:
    entries = [
        _entry("a", 13, "buy", 10, "0.40", "0.10", True),
        _entry("b", 5, "buy", 10, "0.60", "0.10", False),
    ]
    interval = pnl_interval(entries, ["q"])
    assert interval.estimate == pytest.approx(5.90 - 6.10) and interval.windows == 3
    assert (interval.low, interval.high) == (pytest.approx(-18.30), pytest.approx(17.70))
