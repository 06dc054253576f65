"""Backtest throughput: market events (index prints + book updates) processed per second.

Runs the real backtest — bridged 1-second prints, the market-maker model's
books, the strategies, RiskEngine and PaperBroker — over a month of real SOL
history (``../shared/data/sol/…/marzo_2025/SOLUSDT_1m.csv``, March 2025) and
times the replay itself (loading and bridging the CSV are timed separately).

    python bench/backtest_speed.py [--strategy kelly_volatility] [--days N] [--json]
    python bench/backtest_speed.py --synthetic-days 1     # no data file needed
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
import orjson

from backtest.params import build_configs
from backtest.runner import run_backtest

ROOT = Path(__file__).resolve().parents[1]
MONTH = ROOT.parent / "shared/data/sol/benicio1007-bot_trading/dataset/marzo_2025/SOLUSDT_1m.csv"
SYNTHETIC_START = 1_740_960_000  # 2025-03-03 00:00 UTC


def synthetic_csv(directory: Path, days: float, seed: int = 1) -> Path:
    """A random walk of 1-minute bars (about SOL's volatility), for runs without the data file."""
    rng = np.random.default_rng(seed)
    minutes = int(days * 1440) + 60
    lines = ["timestamp,open,high,low,close,volume"]
    close = 150.0
    for i in range(minutes):
        path = round(close, 2) * np.exp(np.cumsum(rng.normal(0.0, 0.0015 / np.sqrt(20), 20)))
        o = round(close, 2)
        c = round(float(path[-1]), 2)
        h = round(max(o, c, float(path.max())), 2)
        low = round(min(o, c, float(path.min())), 2)
        stamp = datetime.fromtimestamp(SYNTHETIC_START + 60 * i, tz=UTC)
        lines.append(f"{stamp:%Y-%m-%d %H:%M:%S},{o},{h},{low},{c},100")
        close = c
    path_out = directory / "synthetic.csv"
    path_out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path_out


def measure(data: Path, strategies: list[str], days: float | None, seed: int) -> dict[str, object]:
    config = build_configs(strategies, [], seed)[0]
    end = None
    if days is not None:
        import csv

        with data.open(encoding="utf-8") as handle:
            reader = csv.reader(handle)
            next(reader)
            first = next(reader)[0]
        start = int(datetime.fromisoformat(first).replace(tzinfo=UTC).timestamp())
        end = start + config.data.warmup_seconds + int(days * 86_400)
    started = time.perf_counter()
    result = run_backtest(config, [data], end=end)
    total = time.perf_counter() - started
    events = result.counters.market_events
    return {
        "events_per_s": round(events / result.seconds),
        "events": events,
        "seconds": round(result.seconds, 3),
        "cpu_events_per_s": round(events / result.cpu_seconds) if result.cpu_seconds else None,
        "prepare_seconds": round(total - result.seconds, 3),
        "days": round(((result.last_ts or 0) - (result.first_ts or 0)) / 86_400, 2),
        "windows": result.windows_listed,
        "strategies": strategies,
        "data": data.name,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=MONTH, help="1-minute OHLCV CSV")
    parser.add_argument("--strategy", action="append", help="default: kelly_volatility")
    parser.add_argument("--days", type=float, help="only the first N days")
    parser.add_argument("--synthetic-days", type=float, help="generate N days instead of --data")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    strategies = args.strategy or ["kelly_volatility"]
    with tempfile.TemporaryDirectory() as tmp:
        if args.synthetic_days is not None:
            data = synthetic_csv(Path(tmp), args.synthetic_days, args.seed + 1)
        else:
            data = args.data
            if not data.is_file():
                parser.error(f"{data} not found: pass --data FILE or --synthetic-days N")
        figures = measure(data, strategies, args.days, args.seed)
    if args.json:
        print(orjson.dumps(figures).decode())
    else:
        print(
            f"{figures['events']:,} market events ({figures['days']} days, {figures['windows']} "
            f"markets, {'+'.join(strategies)}) in {figures['seconds']} s: "
            f"{figures['events_per_s']:,} events/s (CPU: {figures['cpu_events_per_s']:,}/s); "
            f"loading and bridging {figures['prepare_seconds']} s"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
