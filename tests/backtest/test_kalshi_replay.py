"""``backtest --market kalshi:DIR``: a real market replayed from a folder of its own history."""

from __future__ import annotations

import math
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pytest

from backtest.cli import main as backtest_main
from backtest.cli import render_text
from backtest.errors import BacktestInputError
from backtest.kalshi_layout import CANDLES_DIR, MARKETS_FILE
from backtest.kalshi_run import run_kalshi_backtest
from backtest.params import build_configs
from backtest.runner import BacktestResult
from kalshi.fees import taker_fee
from tests.backtest.kalshi_builders import T0, WINDOW, Folder, ticker_for, trade

QUIET_MR = ["mean_reversion.min_periods=2", "mean_reversion.window=3", "mean_reversion.entry_z=1"]


def hand_folder() -> Folder:
    """Three 15-minute markets; the quotes a forecast at each horizon must pick are noted."""
    folder = Folder()
    # horizons are 60, 300, 600, 780 and 840 s after the open (14, 10, 5, 2, 1 min left)
    folder.add(
        T0,
        "yes",
        [
            (60, "0.50", "0.54"),  # 14: 0.52
            (300, "0.58", "0.62"),  # 10: 0.60
            (540, "0.70", "0.74"),  # 5: the latest before 600 → 0.72
            (780, "0.88", "0.90"),  # 2: 0.89
            (840, "0.95", "0.97"),  # 1: 0.96
        ],
    )
    folder.add(
        T0 + WINDOW,
        "no",
        [
            (60, "0.45", "0.49"),  # 0.47
            (300, "0.38", "0.42"),  # 0.40
            (600, "0.30", "0.34"),  # 0.32
            (780, "0.0000", "0.12"),  # no bid: no mid at 2 minutes
            (840, "0.05", "0.07"),  # 0.06
        ],
    )
    folder.add(
        T0 + 2 * WINDOW,
        "yes",
        [
            (60, "0.60", "0.64"),  # 0.62
            (300, "0.55", "0.59"),  # 10 and 5 (nothing between 300 and 600): 0.57
            (610, "0.99", "0.99"),  # after the 5-minute moment: never seen at 5
            (780, "0.81", "0.85"),  # 0.83
            (840, "0.91", "0.93"),  # 0.92
        ],
    )
    return folder


# The market's Brier score by minutes left, by hand: (mid − outcome)² averaged over windows.
HAND = {
    14: ((0.52 - 1) ** 2 + 0.47**2 + (0.62 - 1) ** 2) / 3,
    10: ((0.60 - 1) ** 2 + 0.40**2 + (0.57 - 1) ** 2) / 3,
    5: ((0.72 - 1) ** 2 + 0.32**2 + (0.57 - 1) ** 2) / 3,
    2: ((0.89 - 1) ** 2 + (0.83 - 1) ** 2) / 2,  # the second market has no bid then
    1: ((0.96 - 1) ** 2 + 0.06**2 + (0.92 - 1) ** 2) / 3,
}
HAND_TEXT = {14: "0.1986", 10: "0.1683", 5: "0.1219", 2: "0.0205", 1: "0.0039"}


def replay(
    root: Path,
    strategy: str = "mean_reversion",
    params: list[str] | None = None,
    data: list[Path] | None = None,
) -> BacktestResult:
    config = build_configs([strategy], params or [], 0)[0]
    return run_kalshi_backtest(config, root, data or [])


def test_the_market_brier_by_minutes_left_is_the_hand_computed_one(tmp_path: Path) -> None:
    assert {m: f"{v:.4f}" for m, v in HAND.items()} == HAND_TEXT  # the hand arithmetic
    result = replay(hand_folder().write(tmp_path / "k"))
    table = result.summary()["kalshi"]["market_brier"]
    for minutes, text in HAND_TEXT.items():
        assert f"{table[str(minutes)]['brier']:.4f}" == text
        assert math.isclose(table[str(minutes)]["brier"], HAND[minutes], abs_tol=5e-5)
    assert [table[str(m)]["n"] for m in (14, 10, 5, 2, 1)] == [3, 3, 3, 2, 3]
    assert result.summary()["kalshi"]["horizons_missing"] == {"one side of the book empty": 1}
    assert result.summary()["kalshi"]["assumptions"][0].startswith("quotes: Kalshi's recorded")
    lines = render_text(result).splitlines()
    section = lines[next(i for i, line in enumerate(lines) if "the real market" in line) :]
    rows = {line.split()[0]: line.split() for line in section[2:7]}
    assert {m: rows[str(m)][2] for m in HAND_TEXT} == HAND_TEXT


def test_a_replay_is_deterministic(tmp_path: Path) -> None:
    root = mean_reversion_folder().write(tmp_path / "k")
    first, second = (replay(root, params=QUIET_MR) for _ in range(2))
    assert first.counters.fills > 0
    assert _comparable(first) == _comparable(second)
    assert first.trades == second.trades and first.equity == second.equity


def _comparable(result: BacktestResult) -> dict[str, Any]:
    summary = result.summary()
    for key in ("seconds", "events_per_s"):
        summary.pop(key)
    return summary


def mean_reversion_folder() -> Folder:
    """One market whose mid sits at 0.50 and jumps to 0.70 for a minute; takers trade
    6 contracts a side each minute."""
    folder = Folder(trades=[])
    mids = [50, 50, 51, 49, 50, 70, 52, 50, 50, 50]
    quotes = [
        (60 * (i + 1), f"{m / 100 - 0.01:.2f}", f"{m / 100 + 0.01:.2f}") for i, m in enumerate(mids)
    ]
    ticker = folder.add(T0, "no", quotes)
    assert folder.trades is not None
    for seconds, bid, ask in quotes:
        at = T0 + seconds - 30
        folder.trades.append(trade(ticker, at, "6.00", ask, "yes"))
        folder.trades.append(trade(ticker, at + 1, "6.00", bid, "no"))
    return folder


def test_mean_reversion_trades_on_quotes_alone_at_the_recorded_prices(tmp_path: Path) -> None:
    root = mean_reversion_folder().write(tmp_path / "k")
    result = replay(root, params=QUIET_MR)
    summary = result.summary()
    assert "entries need no index print" in " ".join(summary["kalshi"]["assumptions"])
    assert result.counters.fills >= 2  # the jump is faded, then the position exits
    quotes = {
        T0 + 60 * (i + 1): q for i, q in enumerate(mean_reversion_folder().candles[ticker_for(T0)])
    }
    for fill in result.trades:
        minute = max(t for t in quotes if t <= fill.ts)
        book = quotes[minute]
        bid = Decimal(book["yes_bid"]["close_dollars"])
        ask = Decimal(book["yes_ask"]["close_dollars"])
        side_price = {
            ("yes", "buy"): ask,
            ("no", "buy"): 1 - bid,
            ("yes", "sell"): bid,
            ("no", "sell"): 1 - ask,
        }
        assert fill.price == side_price[(fill.side, fill.action)]
        assert fill.count <= 6  # the takers' volume on that side that minute
        assert fill.fee == taker_fee(fill.price, Decimal(fill.count))


def test_bad_files_are_named_and_skipped_and_the_rest_replays(tmp_path: Path) -> None:
    folder = hand_folder()
    broken = folder.add(T0 + 3 * WINDOW, "yes", [(60, "0.50", "0.52")])
    root = folder.write(tmp_path / "k")
    candles = root / CANDLES_DIR
    text = (candles / f"{broken}.json").read_text()
    (candles / f"{broken}.json").write_text(text[: len(text) // 2])  # truncated
    orphan = ticker_for(T0 + 9 * WINDOW)
    (candles / f"{orphan}.json").write_text(text.replace(broken, orphan))
    shapeless = folder.add(T0 + 4 * WINDOW, "no", [(60, "0.50", "0.52")])
    folder.write(tmp_path / "other")
    (candles / f"{shapeless}.json").write_text(
        orjson.dumps({"ticker": shapeless, "candlesticks": [{"end_period_ts": 1}]}).decode()
    )
    with (root / MARKETS_FILE).open("a") as handle:
        handle.write(
            (tmp_path / "other" / MARKETS_FILE).read_text().splitlines()[-1] + "\n"
        )  # shapeless's market
        handle.write('{"ticker": "KXSOL15M-BROKEN", "close_time": \n')
    result = replay(root)
    problems = result.summary()["kalshi"]["problems"]
    assert any(
        p.startswith(f"candlesticks/{broken}.json: truncated or malformed JSON") for p in problems
    )
    assert f"candlesticks/{orphan}.json: no market {orphan} in markets.jsonl — skipped" in problems
    assert any(
        p.startswith(f"candlesticks/{shapeless}.json: candlesticks[0].yes_bid: missing")
        for p in problems
    )
    assert any(p.startswith("markets.jsonl line 6: not JSON") for p in problems)
    assert result.summary()["kalshi"]["skipped"] == {
        "no candlesticks (or none readable) in the market's life": 2
    }
    table = result.summary()["kalshi"]["market_brier"]
    assert {m: f"{table[str(m)]['brier']:.4f}" for m in HAND_TEXT} == HAND_TEXT
    assert f"problem: candlesticks/{orphan}.json" in render_text(result)


def test_a_replay_with_no_usable_window_stops_and_says_why(tmp_path: Path) -> None:
    folder = Folder()
    folder.add(T0, "", [(60, "0.50", "0.52")])  # never settled
    root = folder.write(tmp_path / "unsettled")
    with pytest.raises(BacktestInputError, match=r"no settled market with quotes.*1 not settled"):
        replay(root)
    covered = hand_folder().write(tmp_path / "hand")
    with pytest.raises(BacktestInputError, match=r"kelly_volatility needs the index.*--data"):
        replay(covered, "kelly_volatility")
    with pytest.raises(BacktestInputError, match="no such folder"):
        replay(tmp_path / "nowhere")
    assert backtest_main(["--market", f"kalshi:{root}"]) == 2
    assert backtest_main(["--market", str(root)]) == 2  # not kalshi:DIR


def bars_csv(path: Path, first: int, last: int) -> Path:
    """1-minute bars around 75.00 (the markets' strike) from ``first`` to ``last``."""
    rows = ["timestamp,open,high,low,close,volume"]
    price = 75.0
    for i, ts in enumerate(range(first, last, 60)):
        close = 75.0 + 0.06 * math.sin(i / 7)
        high, low = max(price, close) + 0.02, min(price, close) - 0.02
        rows.append(f"{ts},{price:.4f},{high:.4f},{low:.4f},{close:.4f},1")
        price = close
    path.write_text("\n".join(rows) + "\n")
    return path


def test_the_model_runs_where_data_covers_a_window_and_the_rest_is_counted(
    tmp_path: Path,
) -> None:
    root = hand_folder().write(tmp_path / "k")
    data = bars_csv(tmp_path / "sol.csv", T0 - 7200, T0 + 2 * WINDOW + 60)  # not the third
    result = replay(root, "kelly_volatility", data=[data])
    kalshi = result.summary()["kalshi"]
    reason = "no index values cover it (kelly_volatility needs the index)"
    assert kalshi["skipped"] == {reason: 1}
    assert kalshi["windows_replayed"] == 2 and result.windows_listed == 2
    assert [kalshi["beside_model"][str(m)]["n"] for m in (14, 10, 5)] == [2, 2, 2]
    paired = kalshi["beside_model"]["14"]
    assert paired["market"] == round(((0.52 - 1) ** 2 + 0.47**2) / 2, 4)
    assert 0 < paired["model"] < 1
    assert kalshi["market_brier"]["14"]["n"] == 3  # the market's own score needs no index
    assert any("--data sol.csv" in a for a in kalshi["assumptions"])
