"""Replaying what the recorder wrote reproduces the live session's signals exactly.

A small actor system — the Recorder, a StrategyActor running kelly_volatility,
the RiskActor and a paper OrderActor, as in paper mode — is fed market data
through the bus on a simulated clock, waiting for quiescence after each
message (so every decision and fill is back before the next tick, as the
backtest assumes with zero latency). The recording is then replayed through
the backtest; both must produce the same Signal objects in the same order.
"""

from __future__ import annotations

import math
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from actors.order import OrderActor
from actors.recorder import Recorder, recorder_spec
from actors.risk import RiskActor
from actors.strategy import StrategyActor, strategy_address
from backtest.params import build_configs
from backtest.runner import run_backtest
from messages.market_data import BookUpdate, MarketInfo, MarketLifecycle, SpotTick
from messages.queries import GetStats
from messages.trading import Fill, Signal
from risk.limits import RiskLimits
from runtime.bus import BOOK, FILLS, MARKETS, SIGNALS, SPOT
from runtime.clock import SimClock
from runtime.quiescence import quiesce
from runtime.supervisor import ChildSpec, SupervisorSpec
from runtime.system import ActorSystem
from storage.recording import read_recordings
from tests.actors.probe import Probe, ProbeLog
from tests.backtest.backtest_builders import START
from tests.strategies.strategy_builders import book, market

T1 = "KXSOL15M-25MAR030005-05"
T2 = "KXSOL15M-25MAR030010-10"
TOPIC = {SpotTick: SPOT, BookUpdate: BOOK, MarketInfo: MARKETS, MarketLifecycle: MARKETS}


def feed() -> list[tuple[float, Any]]:
    """Two 5-minute markets; the index trends up then down, the book sits still (stale makers)."""
    rng = np.random.default_rng(11)
    steps = rng.normal(0.0, 0.0002, 720) + np.where(np.arange(720) < 360, 1e-5, -1e-5)
    prices = 100.0 * np.exp(np.cumsum(steps))

    def strike(open_: int) -> D:  # the 60-second average before the open
        i = open_ - (START - 120)
        return D(f"{prices[i - 59 : i + 1].mean():.4f}")

    out: list[tuple[float, Any]] = []
    markets = {
        T1: (START, START + 300, strike(START)),
        T2: (START + 300, START + 600, strike(START + 300)),
    }
    for i, price in enumerate(prices):
        t = float(START - 120 + i)
        out.append((t, SpotTick("SOLUSD_RTI", D(f"{price:.4f}"), t)))
        for ticker, (open_, close, level) in markets.items():
            if t == open_:
                info = market(ticker, strike=level, open_time=float(open_), close_time=float(close))
                out.append((t, info))
            if open_ <= t < close and int(t) % 2 == 0:
                levels_bid = [("0.50", 500), ("0.49", 500), ("0.48", 500)]
                levels_ask = [("0.52", 500), ("0.53", 500), ("0.54", 500)]
                out.append((t, book(t, levels_bid, levels_ask, ticker=ticker, seq=int(t))))
            if t == close + 2:
                out.append((t, MarketLifecycle(ticker, "settled", t, "yes", level)))
    return out


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Signal], list[Fill], Path]:
    directory = tmp_path_factory.mktemp("recordings")
    clock = SimClock(start=START - 200)
    system = ActorSystem(clock=clock, seed=1)
    log = ProbeLog()
    root = SupervisorSpec(
        "root",
        (
            ChildSpec.of("probe", Probe, (SIGNALS, FILLS), log),
            recorder_spec(directory),
            ChildSpec.of("risk", RiskActor, RiskLimits(), None, D("1000")),
            ChildSpec.of("order", OrderActor, None, paper=True),
            ChildSpec.of(
                strategy_address("kelly_volatility"),
                StrategyActor,
                "kelly_volatility",
                {"bankroll": "100"},
            ),
        ),
    )
    system.start(root)
    try:
        for at, message in feed():
            clock.advance_to(at)
            system.bus.publish(TOPIC[type(message)], message)
            quiesce(system)
    finally:
        system.shutdown()
    return log.of(Signal), log.of(Fill), directory


def test_the_live_session_traded(live: tuple[list[Signal], list[Fill], Path]) -> None:
    signals, fills, _ = live
    assert len(signals) >= 3 and {s.ticker for s in signals} == {T1, T2}
    assert {s.direction for s in signals} == {"yes", "no"}
    assert fills


def test_the_recording_holds_every_market_message_as_received(
    live: tuple[list[Signal], list[Fill], Path],
) -> None:
    _, _, directory = live
    files = sorted(directory.glob("*.jsonl.gz"))
    assert [f.name for f in files] == ["2025-03-02.jsonl.gz", "2025-03-03.jsonl.gz"]  # per UTC day
    recorded = list(read_recordings(files))
    assert recorded == feed()


def test_replay_reproduces_the_live_signals_exactly(
    live: tuple[list[Signal], list[Fill], Path],
) -> None:
    signals, fills, directory = live
    config = build_configs(
        ["kelly_volatility"], ["exec.latency_seconds=0", "bankroll=100"], seed=0
    )[0]
    result = run_backtest(config, sorted(directory.glob("*.jsonl.gz")), keep_signals=True)
    assert result.signals == signals
    got = [(t.ticker, t.side, t.action, t.count, t.price, t.fee, t.ts) for t in result.trades]
    want = [(f.ticker, f.side, f.action, f.count, f.price, f.fee, f.timestamp) for f in fills]
    assert got == want


def test_a_recorder_that_cannot_write_drops_data_instead_of_crashing(tmp_path: Path) -> None:
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("a file where the directory should be")
    clock = SimClock(start=float(START))
    system = ActorSystem(clock=clock, seed=1)
    system.start(
        SupervisorSpec("root", (ChildSpec.of("recorder", Recorder, blocked, retry_after=30.0),))
    )
    try:
        for i in range(3):
            clock.advance_to(START + i)
            system.bus.publish(SPOT, SpotTick("SOLUSD_RTI", D("100"), float(START + i)))
            quiesce(system)
        stats = system.ask("recorder", GetStats())
        assert stats["recorded"] == 0 and stats["dropped"] == 3
        assert "FileExistsError" in stats["last_error"] or "NotADirectory" in stats["last_error"]
        assert system.tree().find("recorder").restarts == 0  # type: ignore[union-attr]
    finally:
        system.shutdown()
    assert math.isfinite(clock.now())
