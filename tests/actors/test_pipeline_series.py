"""Several series at once, against the simulator: one discovery, one WebSocket, one
``SpotFeed`` per index, one risk authority.

The exchange lists SOL, BTC and ETH (each with its own index and makers); the bot learns
each series' index from ``GET /series/{ticker}``, and the deterministic signal source
trades each series' open market. A series whose index stops arriving stops trading
alone; a crashed watcher leaves the other series trading.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal as D
from typing import Any

import pytest

from actors.market_stream import spot_address, watcher_name
from messages.market_data import BookUpdate, MarketInfo, SpotTick
from messages.queries import GetPrints
from messages.trading import Fill
from risk.engine import Reason
from risk.limits import RiskLimits
from runtime.faults import crash
from simulator.events import Outbox
from tests.actors.pipeline_rig import SIGNAL_SOURCE, Fire, GetBooks, Pipeline, running_pipeline

SERIES = ("KXSOL15M", "KXBTC15M", "KXETH15M")
INDICES = {"KXSOL15M": "SOLUSD_RTI", "KXBTC15M": "BRTI", "KXETH15M": "ETHUSD_RTI"}
LIMITS = RiskLimits(
    max_position_size=D(20),
    max_daily_loss=D(100),
    circuit_breaker_pct=D("0.5"),
    max_concurrent_positions=6,
    min_edge=D("0.03"),
    max_orders_per_minute=60,
)


@pytest.fixture(scope="module")
def pipeline() -> Iterator[Pipeline]:
    with running_pipeline(LIMITS, series=SERIES, ledger=False, seed=7) as p:
        yield p


class _Dropping:
    """The exchange's outbox with one index's prints left out (as if its feed died)."""

    def __init__(self, inner: Outbox, index_id: str) -> None:
        self.inner = inner
        self.index_id = index_id

    @property
    def enabled(self) -> bool:
        return self.inner.enabled

    def emit(self, event: Any) -> None:
        self.inner.emit(event)

    def drain(self) -> list[Any]:
        return [e for e in self.inner.drain() if getattr(e, "index_id", None) != self.index_id]

    def __len__(self) -> int:
        return len(self.inner)


def _trade(p: Pipeline, series: str) -> Reason | str:
    """One contract of ``series``' open market a few cents above its best ask (the makers
    may requote before it arrives): the risk decision's reason."""
    ticker = p.tickers[series]
    books: dict[str, BookUpdate] = p.system.ask(SIGNAL_SOURCE, GetBooks(), timeout=5)
    ask = books[ticker].yes_ask
    assert ask is not None
    (signal,) = p.fire(Fire(ticker, price=min(ask + D("0.05"), D("0.99"))))
    return p.decision_for(signal).reason


def _wait_filled(p: Pipeline, tickers: set[str], since: int = 0) -> None:
    """Until a fill of each of ``tickers`` has been published (after the ``since``-th fill)."""
    p.log.wait_until(
        lambda: tickers <= {f.ticker for f in p.log.of(Fill)[since:]},
        what=f"fills in {sorted(tickers)}",
    )


def test_discovery_names_each_series_and_its_index_from_the_exchange(pipeline: Pipeline) -> None:
    p = pipeline
    assert p.series == INDICES  # read from GET /series/{ticker}'s settlement source
    for series, ticker in p.tickers.items():
        info = [m for m in p.log.of(MarketInfo) if m.ticker == ticker][-1]
        assert (info.series, info.index) == (series, INDICES[series])
    # one feed per index, each fed only its own index's prints over the one WebSocket
    for index_id in INDICES.values():
        prints = p.system.ask(spot_address(index_id), GetPrints(), timeout=5)
        assert prints
    assert {t.index for t in p.log.of(SpotTick)} == set(INDICES.values())


def test_every_series_trades(pipeline: Pipeline) -> None:
    p = pipeline
    p.fresh_market_data()
    reasons = {series: _trade(p, series) for series in SERIES}
    assert reasons == dict.fromkeys(SERIES, Reason.APPROVED)
    _wait_filled(p, set(p.tickers.values()))


def test_a_crashed_watcher_leaves_the_other_series_trading(pipeline: Pipeline) -> None:
    p = pipeline
    p.fresh_market_data()
    victim = p.tickers["KXSOL15M"]
    crash(p.system, watcher_name(victim), "test")
    p.quiesce()  # the crash is handled (the watcher restarts by itself)
    before = len(p.log.of(Fill))
    for series in ("KXBTC15M", "KXETH15M"):
        assert _trade(p, series) == Reason.APPROVED
    _wait_filled(p, {p.tickers["KXBTC15M"], p.tickers["KXETH15M"]}, before)
    # and the crashed one's book comes back
    p.fresh_market_data()
    assert any(u.ticker == victim for u in p.log.of(BookUpdate)[-20:])


def test_a_stale_index_halts_only_its_series(pipeline: Pipeline) -> None:
    p = pipeline
    p.fresh_market_data()
    inner = p.sim.call(lambda ex: ex.outbox)
    p.sim.call(lambda ex: setattr(ex, "outbox", _Dropping(inner, "ETHUSD_RTI")))
    try:
        seen = len(p.log.messages)
        for _ in range(7):  # past the feed's 5 s without a print
            p.advance(1)
            p.settle()
        p.log.wait_until(
            lambda: any(
                isinstance(t, SpotTick) and t.index == "ETHUSD_RTI" and t.stale
                for t in p.log.messages[seen:]
            ),
            what="the ETH feed to go stale",
        )
        stale = [t for t in p.log.messages[seen:] if isinstance(t, SpotTick) and t.stale]
        assert {t.index for t in stale} == {"ETHUSD_RTI"}  # the others kept flowing
        assert _trade(p, "KXETH15M") == Reason.STALE_SPOT
        assert _trade(p, "KXBTC15M") == Reason.APPROVED
        assert _trade(p, "KXSOL15M") == Reason.APPROVED
    finally:
        p.sim.call(lambda ex: setattr(ex, "outbox", inner))
    p.fresh_market_data()  # ETH flows again: it trades again
    assert _trade(p, "KXETH15M") == Reason.APPROVED
