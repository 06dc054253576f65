"""``run.py history download`` against the simulator: Kalshi's JSON unmodified, in 3.31.0's
shapes, every market, candle and trade once — also after an interruption."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from app.history import _source as history_source
from app.history import main as history_main
from app.history_download import Downloader, DownloadInterrupted, DownloadReport, DownloadRequest
from app.history_store import FolderStore
from backtest.kalshi_layout import CANDLES_DIR, INDEX_FILE, MARKETS_FILE, STATE_FILE, TRADES_FILE
from kalshi.rest import KalshiRestClient
from simulator.config import ExchangeConfig
from simulator.testing import SimHandle, running_exchange
from tests.crash.harness import poll
from tests.simulator.test_sim_conformance import OPENAPI, OpenApi, _load

ROOT = Path(__file__).resolve().parents[2]
HOURS = 3
WINDOW = 900


def _no_sleep(_: float) -> None:
    return None


@dataclass(frozen=True)
class Sim:
    handle: SimHandle
    since: int
    until: int

    def request(self, index: str | None = "SOLUSD_RTI") -> DownloadRequest:
        with self.client() as client:
            source = history_source(client)  # as the command line finds it
        return DownloadRequest("KXSOL15M", self.since, self.until, index, source)

    def client(self) -> KalshiRestClient:
        return KalshiRestClient(
            self.handle.api_base, self.handle.signer(), rate_limit=False, sleep=_no_sleep
        )


@pytest.fixture(scope="module")
def sim() -> Iterator[Sim]:
    """Three hours of 15-minute markets; those settled over an hour ago are archived."""
    config = ExchangeConfig(seed=11, window_seconds=WINDOW, historical_after_seconds=3600)
    with running_exchange(config=config) as handle:
        start = int(handle.now())
        handle.advance(HOURS * 3600 + 30)
        yield Sim(handle, start, start + HOURS * 3600)


def download(sim: Sim, out: Path, **kwargs: Any) -> DownloadReport:
    with sim.client() as client:
        return Downloader(
            client,
            FolderStore(out),
            sim.request(),
            signed=True,
            say=_no_say,
            sleep=_no_sleep,
            **kwargs,
        ).run()


def _no_say(_: str) -> None:
    return None


def files(root: Path) -> dict[str, bytes]:
    """Every file a replay reads, by relative path."""
    names = [MARKETS_FILE, TRADES_FILE, INDEX_FILE]
    names += [f"{CANDLES_DIR}/{p.name}" for p in sorted((root / CANDLES_DIR).iterdir())]
    return {name: (root / name).read_bytes() for name in names}


@pytest.fixture(scope="module")
def clean(sim: Sim, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("clean")
    report = download(sim, out)
    # every window but the last, which closes at ``until``
    assert report.markets == HOURS * 4 - 1 and not report.without_candles and not report.resumed
    return out


def test_every_settled_market_its_candles_and_trades_once(sim: Sim, clean: Path) -> None:
    expected = {
        m.ticker
        for m in sim.handle.call(lambda e: e.all_markets())
        if m.status == "finalized" and sim.since <= m.close_ts < sim.until
    }
    markets = [orjson.loads(line) for line in (clean / MARKETS_FILE).read_bytes().splitlines()]
    assert {m["ticker"] for m in markets} == expected and len(markets) == len(expected)
    trades = [orjson.loads(line) for line in (clean / TRADES_FILE).read_bytes().splitlines()]
    tape = sim.handle.call(lambda e: [t.trade for t in e.history.tape])
    assert sorted(t["trade_id"] for t in trades) == sorted(
        t.trade_id for t in tape if t.ticker in expected
    )
    for ticker in expected:  # oldest first within each market
        times = [t["created_time"] for t in trades if t["ticker"] == ticker]
        assert times == sorted(times)
    assert {p.stem for p in (clean / CANDLES_DIR).iterdir()} == expected


def test_files_are_kalshis_json_unmodified(sim: Sim, clean: Path) -> None:
    base = sim.handle.api_base
    lines = (clean / MARKETS_FILE).read_bytes().splitlines()
    ticker = orjson.loads(lines[-1])["ticker"]  # a live one (the archive is listed first)
    answer = httpx.get(f"{base}/markets/{ticker}").json(parse_float=Decimal)
    assert json.loads(lines[-1], parse_float=Decimal) == answer["market"]
    assert b'"floor_strike":' + str(answer["market"]["floor_strike"]).encode() in lines[-1]
    window = orjson.loads(lines[-1])
    span = {
        "start_ts": _ts(window["open_time"]),
        "end_ts": _ts(window["close_time"]),
        "period_interval": 1,
    }
    live = httpx.get(f"{base}/series/KXSOL15M/markets/{ticker}/candlesticks", params=span)
    assert (clean / CANDLES_DIR / f"{ticker}.json").read_bytes() == live.content
    old = orjson.loads(lines[0])["ticker"]
    archived = httpx.get(
        f"{base}/historical/markets/{old}/candlesticks",
        params=span
        | {
            "start_ts": _ts(orjson.loads(lines[0])["open_time"]),
            "end_ts": _ts(orjson.loads(lines[0])["close_time"]),
        },
    )
    assert (clean / CANDLES_DIR / f"{old}.json").read_bytes() == archived.content


def _ts(text: str) -> int:
    from datetime import datetime

    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())


def test_files_validate_against_the_3_31_0_schemas(clean: Path) -> None:
    spec = OpenApi(_load(OPENAPI))

    def schema(name: str) -> dict[str, str]:
        return {"$ref": f"#/components/schemas/{name}"}

    for line in (clean / MARKETS_FILE).read_bytes().splitlines():
        spec.validate(schema("Market"), json.loads(line))
    for line in (clean / TRADES_FILE).read_bytes().splitlines()[::50]:
        spec.validate(schema("Trade"), json.loads(line))
    shapes = set()
    for path in (clean / CANDLES_DIR).iterdir():
        body = json.loads(path.read_bytes())
        archived = "close" in body["candlesticks"][0]["yes_bid"]
        name = (
            "GetMarketCandlesticksHistoricalResponse"
            if archived
            else "GetMarketCandlesticksResponse"
        )
        spec.validate(schema(name), body)
        shapes.add(name)
    assert len(shapes) == 2  # markets on both sides of the cutoff
    (answer,) = (clean / INDEX_FILE).read_bytes().splitlines()
    payload = json.loads(answer)["data"]["payload"]
    times = [p["time"] for p in payload]  # the passthrough's last ten minutes, one a second
    assert len(times) == 600 and times == list(range(times[0], times[0] + 600_000, 1000))


def test_a_download_stopped_by_rate_limits_resumes_without_repeating_a_line(
    sim: Sim, clean: Path, tmp_path: Path
) -> None:
    out = tmp_path / "stopped"

    def storm(done: int, total: int, ticker: str) -> None:
        if done == 4:  # then every request is refused until the client and we give up
            sim.handle.faults.update(error_429_next=10_000)

    try:
        with pytest.raises(DownloadInterrupted, match="RateLimited"):
            download(sim, out, progress=storm, retries=2)
    finally:
        sim.handle.faults.reset()
    state = orjson.loads((out / STATE_FILE).read_bytes())
    assert state["next_market"] == 4 and not state["index_done"]
    first = len((out / TRADES_FILE).read_bytes().splitlines())
    report = download(sim, out)
    assert report.resumed and report.trades + first == len(
        (clean / TRADES_FILE).read_bytes().splitlines()
    )
    assert files(out) == files(clean)


class KilledAfterAppend(FolderStore):
    """A process killed after its trades reached the disk but before the state said so."""

    def __init__(self, root: Path, at_market: int) -> None:
        super().__init__(root)
        self.at_market = at_market

    def save(self, state: Any) -> None:
        if state.next_market == self.at_market:
            raise KeyboardInterrupt  # nothing after the append is recorded
        super().save(state)


def test_a_download_killed_mid_market_resumes_cutting_the_half_written_lines(
    sim: Sim, clean: Path, tmp_path: Path
) -> None:
    out = tmp_path / "killed"
    with sim.client() as client, pytest.raises(KeyboardInterrupt):
        Downloader(client, KilledAfterAppend(out, 6), sim.request(), signed=True, say=_no_say).run()
    recorded = orjson.loads((out / STATE_FILE).read_bytes())
    assert recorded["next_market"] == 5
    assert (out / TRADES_FILE).stat().st_size > recorded["trades_bytes"]  # the 6th's trades
    download(sim, out)
    assert files(out) == files(clean)


def test_another_range_in_the_same_folder_is_refused(
    sim: Sim, clean: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["download", "--series", "KXSOL15M", "--since", "2026-01-01", "--until", "2026-01-02"]
    assert (
        history_main(
            [
                *args,
                "--out",
                str(clean),
                "--api-base",
                sim.handle.api_base,
                "--env-file",
                "/nonexistent",
            ]
        )
        == 2
    )
    assert "holds another download" in capsys.readouterr().err


def test_without_the_entitlement_the_download_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in list(os.environ):
        if name.startswith("KALSHI_"):
            monkeypatch.delenv(name)
    config = ExchangeConfig(seed=3, window_seconds=WINDOW, cfbenchmarks_entitled=False)
    with running_exchange(config=config) as handle:
        start = int(handle.now())
        handle.advance(1900)
        env = tmp_path / "env"
        env.write_text(
            f"KALSHI_API_KEY={handle.key_id}\nKALSHI_PRIVATE_KEY_PATH={handle.private_key_path}\n"
        )
        args = [
            "download",
            "--series",
            "KXSOL15M",
            "--since",
            str(start),
            "--until",
            str(start + 1800),
        ]
        out = tmp_path / "k"
        code = history_main(
            [*args, "--out", str(out), "--api-base", handle.api_base, "--env-file", str(env)]
        )
    assert code == 0
    printed = capsys.readouterr().out
    assert "1 settled market of KXSOL15M" in printed
    assert "not entitled to the CF Benchmarks passthrough (HTTP 403)" in printed
    assert not (out / INDEX_FILE).exists()


@pytest.mark.slow
def test_a_killed_process_resumes(sim: Sim, clean: Path, tmp_path: Path) -> None:
    """SIGKILL a real ``run.py history download`` halfway; the same command finishes it."""
    env_file = tmp_path / "env"
    env_file.write_text(
        f"KALSHI_API_KEY={sim.handle.key_id}\nKALSHI_PRIVATE_KEY_PATH={sim.handle.private_key_path}\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("KALSHI_")}
    out = tmp_path / "k"
    command = [
        sys.executable,
        str(ROOT / "run.py"),
        "history",
        "download",
        "--series",
        "KXSOL15M",
        "--since",
        str(sim.since),
        "--until",
        str(sim.until),
        "--out",
        str(out),
        "--api-base",
        sim.handle.api_base,
        "--env-file",
        str(env_file),
    ]
    sim.handle.faults.update(latency_ms=40)
    try:
        proc = subprocess.Popen(
            command, env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )

        def halfway() -> bool | None:
            assert proc.poll() is None, "the download ended before it got halfway"
            return True if _progress(out) >= 3 else None

        poll(halfway, 60, "the download to get halfway")
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        sim.handle.faults.reset()
    assert _progress(out) < HOURS * 4 - 1
    finished = subprocess.run(
        command, check=False, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert finished.returncode == 0, finished.stderr
    assert "(resumed)" in finished.stdout
    assert files(out) == files(clean)


def _progress(out: Path) -> int:
    try:
        return int(orjson.loads((out / STATE_FILE).read_bytes())["next_market"])
    except (FileNotFoundError, orjson.JSONDecodeError):
        return 0


def test_the_downloaded_folder_replays_deterministically(
    sim: Sim, clean: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """download → replay: the market's Brier from the folder is the simulator's own book's."""
    from backtest.kalshi_run import run_kalshi_backtest
    from backtest.params import build_configs
    from scoring.forecasts import HORIZONS, brier

    params = ["mean_reversion.min_periods=2", "mean_reversion.window=3"]
    config = build_configs(["mean_reversion"], params, 0)[0]
    first, second = (run_kalshi_backtest(config, clean) for _ in range(2))
    (origin, *_) = first.summary()["kalshi"]["assumptions"]
    assert f"quotes: sol15's exchange-sim at {sim.handle.api_base}" in origin
    assert first.trades == second.trades and first.counters.orders > 0
    table = first.summary()["kalshi"]["market_brier"]
    assert table == second.summary()["kalshi"]["market_brier"]

    def own_book(e: Any) -> dict[int, tuple[list[float], list[int]]]:
        scores: dict[int, tuple[list[float], list[int]]] = {m: ([], []) for m in HORIZONS}
        for market in e.all_markets():
            if market.status != "finalized" or not sim.since <= market.close_ts < sim.until:
                continue
            for minutes in HORIZONS:
                moment = market.close_ts - 60 * minutes
                last = e.history.candles_of(market.ticker, market.open_ts, moment)[-1]
                bid, ask = last.yes_bid.close, last.yes_ask.close
                if bid > 0 and ask < 1:
                    scores[minutes][0].append(float((bid + ask) / 2))
                    scores[minutes][1].append(int(market.result == "yes"))
        return scores

    for minutes, (probs, outcomes) in sim.handle.call(own_book).items():
        assert table[str(minutes)]["n"] == len(probs)
        assert table[str(minutes)]["brier"] == round(brier(probs, outcomes), 4)
    from backtest.cli import main as backtest_main

    assert backtest_main(["--market", f"kalshi:{clean}", "--strategy", "mean_reversion"]) == 0
    printed = capsys.readouterr().out
    assert f"{table['5']['brier']:.4f} [" in printed


def test_kelly_replays_where_history_of_the_index_covers_the_windows(
    sim: Sim, clean: Path, tmp_path: Path
) -> None:
    """The simulator's own index, as 1-minute bars (``--data``): the model runs on the windows
    those bars cover; the others are counted; fills never pass the takers' depth."""
    from backtest.kalshi_run import run_kalshi_backtest
    from backtest.params import build_configs

    def index_bars(e: Any) -> list[str]:
        first = -(-e.index.first_ts // 60) * 60
        rows = []
        for start in range(first, e.index.last_ts - 59, 60):
            minute = [float(v) for v in e.index.prints_between(start - 1, start + 59)]
            rows.append(f"{start},{minute[0]},{max(minute)},{min(minute)},{minute[-1]},1")
        return rows

    bars = sim.handle.call(index_bars)
    data = tmp_path / "index.csv"
    data.write_text("timestamp,open,high,low,close,volume\n" + "\n".join(bars) + "\n")
    config = build_configs(["kelly_volatility"], ["data.warmup_seconds=600"], 0)[0]
    result = run_kalshi_backtest(config, clean, [data])
    kalshi = result.summary()["kalshi"]
    covered_from = int(bars[0].split(",")[0])
    expected = sum(
        1
        for line in (clean / MARKETS_FILE).read_bytes().splitlines()
        if _ts(orjson.loads(line)["open_time"]) >= covered_from
    )
    assert kalshi["windows_replayed"] == expected and 0 < expected < kalshi["windows_with_quotes"]
    reason = "no index values cover it (kelly_volatility needs the index)"
    assert kalshi["skipped"] == {reason: kalshi["windows_with_quotes"] - expected}
    assert kalshi["beside_model"]["14"]["n"] > 0
    assert result.counters.fills > 0
    assert run_kalshi_backtest(config, clean, [data]).trades == result.trades
    _fills_at_the_recorded_quotes_within_depth(clean, result.trades)


def _fills_at_the_recorded_quotes_within_depth(root: Path, fills: list[Any]) -> None:
    from collections import Counter

    from backtest.kalshi_folder import load_folder
    from backtest.kalshi_replay import depth_by_minute

    folder = load_folder(root)
    assert folder.trades is not None
    taken: Counter[tuple[str, int, bool]] = Counter()
    for fill in fills:
        quote = max(
            (q for q in folder.quotes[fill.ticker] if q.end_ts <= fill.ts), key=lambda q: q.end_ts
        )
        ask_side = (fill.side == "yes") == (fill.action == "buy")  # takes the YES ask
        price = quote.yes_ask if ask_side else quote.yes_bid
        assert price is not None
        assert fill.price == (price if fill.side == "yes" else 1 - price)
        taken[(fill.ticker, quote.end_ts, ask_side)] += fill.count
    for (ticker, end, ask_side), count in taken.items():
        depth = depth_by_minute(folder.quotes[ticker], folder.trades[ticker])[end]
        assert count <= depth[0 if ask_side else 1]
