"""The report's figures on a dataset small enough to compute by hand.

Two markets, a flat index at $100.10 and fixed books; a scripted strategy buys
10 YES at $0.40 in A and 5 NO at $0.30 in B; both settle YES.

* fees, rounded up to $0.0001: 0.07 × 10 × 0.40 × 0.60 = $0.1680 and 0.07 × 5 × 0.30 × 0.70 = $0.0735
* P&L: A 10 × (1 − 0.40) − 0.168 = 5.832; B −5 × 0.30 − 0.0735 = −1.5735; total 4.2585; win rate 1/2
* expected at entry: (0.6 − 0.40) × 10 − 0.168 = 1.832 and (0.5 − 0.30) × 5 − 0.0735 = 0.9265
* equity (cash + positions at mid) after each settlement: 1005.7085 (B open, marked −0.1235),
  1004.2585
* calibration: flat prints → σ = the 0.05 floor, so P(YES) is the closed form below.
"""

from __future__ import annotations

import math
from decimal import Decimal as D
from pathlib import Path
from typing import Any, ClassVar

import pytest

from backtest import calibration as calib
from backtest.params import build_configs
from backtest.report import write_report
from backtest.runner import run_backtest
from messages.market_data import BookUpdate, MarketLifecycle, SpotTick
from messages.trading import Signal
from scoring.forecasts import brier, log_loss, reliability
from strategies.base import STRATEGIES, Strategy, register
from tests.backtest.backtest_builders import START, write_recording
from tests.strategies.strategy_builders import book, market

YEAR = 365 * 86_400
SIGMA = 0.05  # kelly_volatility's sigma_floor: a flat index has no variance of its own
SPOT = 100.10
A, B = "KXSOL15M-25MAR030015-15", "KXSOL15M-25MAR030030-30"


if "test_scripted" not in STRATEGIES:

    @register
    class Scripted(Strategy):
        """Buys once per market, on its first book, what ``plan`` says."""

        name = "test_scripted"
        plan: ClassVar[dict[str, tuple[str, int, D]]] = {
            A: ("yes", 10, D("0.6")),
            B: ("no", 5, D("0.5")),
        }

        def __init__(self, **kw: Any) -> None:
            super().__init__(**kw)
            self.done: set[str] = set()

        def on_spot(self, tick: SpotTick) -> list[Signal]:
            return []

        def on_book(self, update: BookUpdate) -> list[Signal]:
            if update.ticker in self.done or update.ticker not in self.plan:
                return []
            self.done.add(update.ticker)
            side, count, prob = self.plan[update.ticker]
            ask = update.yes_ask if side == "yes" else update.no_ask
            assert ask is not None
            return [
                Signal(
                    signal_id=self.next_signal_id(update.ticker, update.ts),
                    strategy_name=self.name,
                    ticker=update.ticker,
                    direction=side,
                    edge=D("0.2"),
                    model_prob=prob,
                    market_price=ask,
                    quantity=count,
                    timestamp=update.ts,
                )
            ]


def session_messages() -> list[tuple[float, Any]]:
    messages: list[tuple[float, Any]] = []
    books = {
        A: (START, START + 900, D("100.00"), [("0.38", 50)], [("0.40", 10)]),  # mid 0.39
        B: (START + 900, START + 1800, D("100.20"), [("0.70", 5)], [("0.72", 50)]),  # mid 0.71
    }
    events: dict[int, list[Any]] = {}
    for ticker, (open_, close, strike, bids, asks) in books.items():
        info = market(ticker, strike=strike, open_time=float(open_), close_time=float(close))
        events.setdefault(open_, []).append(info)
        for t in range(open_ + 1, close, 5):
            events.setdefault(t, []).append(book(float(t), bids, asks, ticker=ticker))
        events.setdefault(close + 2, []).append(
            MarketLifecycle(ticker, "settled", float(close + 2), "yes", D("100.1"))
        )
    for t in range(START - 60, START + 1803):
        messages.append((float(t), SpotTick("SOLUSD_RTI", D("100.10"), float(t))))
        messages.extend((float(t), m) for m in events.get(t, []))
    return messages


def model_prob(strike: float, left: float) -> float:
    """P(60-s average ≥ K): lognormal, variance-equivalent horizon left − 60 + 60·61·121/(6·60²)."""
    horizon = left - 60 + 60 * 61 * 121 / (6 * 3600)
    v = SIGMA**2 * horizon / YEAR
    return 0.5 * math.erfc(-((math.log(SPOT / strike) - v / 2) / math.sqrt(v)) / math.sqrt(2))


def naive_prob(strike: float, left: float) -> float:
    v = SIGMA**2 * left / YEAR
    return 0.5 * math.erfc(-((math.log(SPOT / strike) - v / 2) / math.sqrt(v)) / math.sqrt(2))


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory) -> Any:
    paths = write_recording(tmp_path_factory.mktemp("rec"), session_messages())
    config = build_configs(["test_scripted"], ["exec.latency_seconds=0"], seed=0)[0]
    return run_backtest(config, paths)


def test_trades_fees_pnl_and_win_rate(result: Any) -> None:
    s = result.summary()
    assert [(t.ticker, t.side, t.count, t.price, t.fee) for t in result.trades] == [
        (A, "yes", 10, D("0.40"), D("0.1680")),
        (B, "no", 5, D("0.30"), D("0.0735")),
    ]
    assert D(s["fees"]) == D("0.2415")
    assert D(s["pnl"]) == D("4.2585")
    assert {m.ticker: m.pnl for m in result.markets} == {A: D("5.832"), B: D("-1.5735")}
    assert s["win_rate"] == 0.5
    assert (s["orders"], s["fills"], s["contracts"]) == (2, 2, 15)
    assert s["edge_expected_per_contract"] == pytest.approx(2.7585 / 15)
    assert s["edge_realized_per_contract"] == pytest.approx(4.2585 / 15)
    # A settles 2 s after B opened: B's NO is marked at 1 − mid = 0.29, 5 × 0.29 − 1.5735 = −0.1235
    assert [p.equity for p in result.equity] == [D("1005.7085"), D("1004.2585"), D("1004.2585")]
    assert D(s["max_drawdown"]) == D("1.45")
    assert s["max_drawdown_pct"] == pytest.approx(1.45 / 1005.7085)


def test_brier_and_log_loss_by_minutes_left(result: Any) -> None:
    table = result.summary()["calibration"]
    for minutes in calib.BUCKETS:
        left = 60.0 * minutes
        forecasts = {
            "model": [model_prob(100.00, left), model_prob(100.20, left)],
            "naive": [naive_prob(100.00, left), naive_prob(100.20, left)],
            "market": [0.39, 0.71],
        }
        for source, (pa, pb) in forecasts.items():
            entry = table[str(minutes)][source]
            assert entry["n"] == 2
            assert entry["brier"] == pytest.approx(((pa - 1) ** 2 + (pb - 1) ** 2) / 2, abs=1e-12)
            clip = [min(max(p, 1e-6), 1 - 1e-6) for p in (pa, pb)]
            assert entry["log_loss"] == pytest.approx(
                -(math.log(clip[0]) + math.log(clip[1])) / 2, abs=1e-9
            )


def test_scores_by_hand() -> None:
    probs, outcomes = [0.8, 0.3, 0.6], [1, 0, 0]
    assert brier(probs, outcomes) == pytest.approx((0.04 + 0.09 + 0.36) / 3)
    assert log_loss(probs, outcomes) == pytest.approx(
        -(math.log(0.8) + math.log(0.7) + math.log(0.4)) / 3
    )
    assert log_loss([0.0], [1]) == pytest.approx(-math.log(1e-6))  # clipped, finite
    bins = reliability(probs, outcomes, bins=2)
    assert [(b.count, b.mean_prob, b.frequency) for b in bins] == [
        (1, 0.3, 0.0),
        (2, pytest.approx(0.7), 0.5),
    ]


def test_the_report_files_carry_the_same_figures(result: Any, tmp_path: Path) -> None:
    import orjson

    page = write_report(result, tmp_path)
    assert page.read_text().count("<table>") >= 5
    for name in ("equity.png", "reliability.png", "brier.png", "outcomes.png"):
        assert (tmp_path / name).stat().st_size > 1000
    summary = orjson.loads((tmp_path / "summary.json").read_bytes())
    assert summary["summary"]["pnl"] == "4.2585"
    assert summary["calibration"]["buckets"]["5"]["market"]["n"] == 2
    trades = (tmp_path / "trades.csv").read_text().splitlines()
    assert len(trades) == 3 and ",yes,buy,10,0.40,0.1680," in trades[1]
    windows = (tmp_path / "windows.csv").read_text().splitlines()
    assert len(windows) == 3 and windows[1].startswith(f"{A},")


def test_daily_pnl_and_sharpe_by_hand() -> None:
    from backtest.metrics import daily_pnl, sharpe
    from backtest.session import EquityPoint

    day = 86_400
    curve = [
        EquityPoint(0.5 * day, D("101"), D(0)),
        EquityPoint(1.5 * day, D("100"), D(0)),
        EquityPoint(4.5 * day, D("102"), D(0)),  # days 2 and 3 had no markets (a data hole)
    ]
    assert daily_pnl(D("100"), curve, 0.0, 4.9 * day) == [D(1), D(-1), D(0), D(0), D(2)]
    trading = daily_pnl(D("100"), curve, 0.0, 4.9 * day, trading_days={0, 1, 4})
    assert trading == [D(1), D(-1), D(2)]
    # mean 2/3, sample sd √(7/3): Sharpe = (2/3)/√(7/3)·√365
    assert sharpe(trading) == pytest.approx((2 / 3) / math.sqrt(7 / 3) * math.sqrt(365))
    assert sharpe([D(1)]) is None


def test_a_softer_simulated_market_is_flagged() -> None:
    from backtest.report import sharpness_warning

    buckets = {
        str(m): {"market": {"brier": calib.REAL_MARKET_BRIER[m] + (0.01 if m <= 2 else -0.01)}}
        for m in calib.BUCKETS
    }
    warning = sharpness_warning({"buckets": buckets, "kind": "history"})
    assert "less sharp than the real Kalshi mid at 2 min (0.056 vs 0.046), 1 min" in warning
    assert sharpness_warning({"buckets": buckets, "kind": "recording"}) == ""
    calibrated = {  # within the tolerance the sharp makers are fitted to: no warning
        str(m): {"market": {"brier": calib.REAL_MARKET_BRIER[m] * 1.05}} for m in calib.BUCKETS
    }
    assert sharpness_warning({"buckets": calibrated, "kind": "history"}) == ""


# --- the honest figures, by hand -------------------------------------------------------------
# A: 10 YES at 0.40 against a 0.38/0.40 book, 899 s before close: floor 1¢ + 0.07 × 0.40 × 0.60
# = 2.68¢; it won: 100 − 40 − 1.68 = +58.32¢ a contract. B: 5 NO at 0.30 against YES 0.70/0.72
# (NO 0.28/0.30): floor 1¢ + 0.07 × 0.30 × 0.70 = 2.47¢; it lost: −30 − 1.47 = −31.47¢.
# Two windows: a resample is A twice, B twice or one of each, so every 95% interval runs from
# the all-B draw to the all-A draw.


def test_each_fill_carries_the_book_it_met_and_its_cost_floor(result: Any) -> None:
    assert [(t.seconds_left, t.yes_bid, t.yes_ask, t.floor) for t in result.trades] == [
        (899.0, D("0.38"), D("0.40"), D("0.0268")),
        (899.0, D("0.70"), D("0.72"), D("0.0247")),
    ]


def test_realized_edge_against_the_cost_floor_by_hand(result: Any) -> None:
    edge = result.judged().edge
    early = edge.rows[0]
    assert (early.minutes, early.fills, early.contracts) == (14, 2, 15)
    assert early.floor.estimate == pytest.approx((10 * 2.68 + 5 * 2.47) / 15)  # 2.61¢
    assert (early.floor.low, early.floor.high) == (pytest.approx(2.47), pytest.approx(2.68))
    assert early.real_floor == 2.89
    assert early.edge.estimate == pytest.approx(425.85 / 15)  # (583.2 − 157.35)¢ / 15
    assert (early.edge.low, early.edge.high) == (pytest.approx(-31.47), pytest.approx(58.32))
    assert all(row.fills == 0 for row in edge.rows[1:])
    assert edge.overall == early.edge and edge.unsettled == 0
    assert edge.verdict == (  # two windows cannot make an interval to judge by
        "realized edge: too few windows to judge "
        "(+28.39¢/contract over 2 windows; an interval needs at least 10)"
    )


def test_the_pnl_interval_and_the_market_by_hand(result: Any) -> None:
    honesty = result.judged()
    assert honesty.pnl.estimate == pytest.approx(4.2585) == float(result.pnl)  # all settled
    assert (honesty.pnl.low, honesty.pnl.high) == (pytest.approx(-3.147), pytest.approx(11.664))
    assert honesty.pnl.windows == 2
    assert math.isnan(honesty.sharpe.estimate) and honesty.sharpe.windows == 1  # one day
    assert honesty.assumptions.market.startswith("the books of the recording")
    assert not honesty.assumptions.simulated and honesty.assumptions.latency_seconds == 0


def test_model_and_market_brier_with_intervals_by_hand(result: Any) -> None:
    for row in result.judged().brier:
        left = 60.0 * row.minutes
        model = [(model_prob(100.00, left) - 1) ** 2, (model_prob(100.20, left) - 1) ** 2]
        market = [(0.39 - 1) ** 2, (0.71 - 1) ** 2]  # both settled YES
        assert row.model.estimate == pytest.approx(sum(model) / 2, abs=1e-12)
        assert row.market.estimate == pytest.approx((0.3721 + 0.0841) / 2)
        assert (row.market.low, row.market.high) == (pytest.approx(0.0841), pytest.approx(0.3721))
        paired = sorted(m - k for m, k in zip(model, market, strict=True))
        assert row.difference.estimate == pytest.approx(sum(paired) / 2, abs=1e-12)
        assert (row.difference.low, row.difference.high) == (
            pytest.approx(paired[0], abs=1e-12),
            pytest.approx(paired[1], abs=1e-12),
        )


def test_the_report_files_and_the_console_carry_the_intervals(result: Any, tmp_path: Path) -> None:
    import orjson

    from backtest.cli import render_text

    page = write_report(result, tmp_path).read_text()
    for text in (
        "95% interval [-$3.15, $11.66] resampling 2 windows",
        "realized edge: too few windows to judge (+28.39¢/contract over 2 windows",
        "Realized edge against the cost floor",
        "Does the model beat the market?",
        "2.61 [2.47, 2.68]",
        "the books of the recording",
    ):
        assert text in page
    assert (tmp_path / "edge.png").stat().st_size > 1000
    summary = orjson.loads((tmp_path / "summary.json").read_bytes())["summary"]
    assert summary["pnl_interval"] | {"resampled": ""} == {
        "estimate": 4.26,
        "low": -3.15,
        "high": 11.66,
        "windows": 2,
        "resampled": "",
    }
    assert summary["verdict"].startswith("realized edge: too few windows to judge")
    assert summary["market_assumptions"]["latency_seconds"] == 0
    assert summary["edge_vs_cost_floor"]["buckets"][0]["cost_floor_cents"]["estimate"] == 2.61
    assert summary["brier_model_vs_market"]["horizons"][2]["market"]["estimate"] == 0.2281
    assert summary["strategies"]["test_scripted"]["pnl_interval"]["high"] == 11.66
    trades = (tmp_path / "trades.csv").read_text().splitlines()
    assert trades[1].endswith(",14.983,0.38,0.40,0.026800,0.583200")
    assert trades[2].endswith(",14.983,0.70,0.72,0.024700,-0.314700")
    text = render_text(result)
    assert "$4.26 on $1000 (0.43%), 95% interval [-$3.15, $11.66] resampling 2 windows" in text
    assert "  verdict          realized edge: too few windows to judge" in text
    assert "Sharpe – (fewer than 2 days" in text


# --- a verdict with enough windows: twelve copies of market A --------------------------------

WINDOWS = 12


if "test_buys_every_market" not in STRATEGIES:

    @register
    class BuysEveryMarket(Scripted):
        """Market A's trade in every market: 10 YES at its first book's ask."""

        name = "test_buys_every_market"
        plan: ClassVar[dict[str, tuple[str, int, D]]] = {}  # its own, filled as markets come

        def on_book(self, update: BookUpdate) -> list[Signal]:
            self.plan.setdefault(update.ticker, ("yes", 10, D("0.6")))
            return super().on_book(update)


def repeated_windows() -> list[tuple[float, Any]]:
    """Twelve 15-minute markets, each A again: 0.38/0.40 book, strike 100.00, settles YES."""
    events: dict[int, list[Any]] = {}
    for i in range(WINDOWS):
        ticker, open_ = f"KXSOL15M-REPEAT-{i:02d}", START + 900 * i
        close = open_ + 900
        info = market(ticker, strike=D("100.00"), open_time=float(open_), close_time=float(close))
        events.setdefault(open_, []).append(info)
        for t in range(open_ + 1, close, 5):
            events.setdefault(t, []).append(
                book(float(t), [("0.38", 50)], [("0.40", 10)], ticker=ticker)
            )
        settled = MarketLifecycle(ticker, "settled", float(close + 2), "yes", D("100.1"))
        events.setdefault(close + 2, []).append(settled)
    messages: list[tuple[float, Any]] = []
    for t in range(START - 60, START + 900 * WINDOWS + 3):
        messages.append((float(t), SpotTick("SOLUSD_RTI", D("100.10"), float(t))))
        messages.extend((float(t), m) for m in events.get(t, []))
    return messages


def test_a_backtest_of_twelve_equal_windows_has_a_verdict_by_hand(tmp_path: Path) -> None:
    from backtest.cli import render_text

    paths = write_recording(tmp_path, repeated_windows())
    config = build_configs(["test_buys_every_market"], ["exec.latency_seconds=0"], seed=0)[0]
    honesty = run_backtest(config, paths).judged()
    # every window made 10 × (1 − 0.40) − 0.168 = $5.832: every resample is the same
    assert (honesty.pnl.estimate, honesty.pnl.low, honesty.pnl.high) == (
        pytest.approx(12 * 5.832),
        pytest.approx(12 * 5.832),
        pytest.approx(12 * 5.832),
    )
    assert honesty.edge.rows[0].floor.estimate == pytest.approx(2.68)
    assert honesty.verdict == (
        "realized edge positive (+58.32¢/contract, 95% interval [+58.32, +58.32] over 12 windows)"
    )
    text = render_text(run_backtest(config, paths))
    assert "$69.98 on $1000 (7.00%), 95% interval [$69.98, $69.98] resampling 12 windows;" in text
    assert "  verdict          realized edge positive (+58.32¢/contract" in text
