"""Market data end to end: discovery, the shared stream, watchers and the spot feed on the simulator."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal

import pytest

import simulator.ws
from actors.discovery import MarketDiscovery
from actors.market_stream import FAST_INDEX_CHANNEL, MarketStream, watcher_name
from actors.spot_feed import SpotFeed
from kalshi.auth import Signer
from kalshi.connection import ExchangeConnection
from messages.market_data import BookUpdate, FeedState, MarketInfo, MarketLifecycle, SpotTick
from runtime.bus import BOOK, MARKETS, SPOT
from runtime.clock import SimClock
from runtime.faults import crash
from runtime.quiescence import quiesce, settle
from runtime.supervisor import ChildSpec, SupervisorSpec
from runtime.system import ActorSystem
from simulator.testing import SimHandle, running_exchange
from tests.actors.probe import Probe, ProbeLog

Levels = tuple[tuple[Decimal, Decimal], ...]  # (price, size), best first


@dataclass
class Rig:
    sim: SimHandle
    system: ActorSystem
    clock: SimClock
    log: ProbeLog
    keyed: ProbeLog  # the "keyed" probe's: it subscribes in the test, with keys

    def exchange_book(self, ticker: str) -> tuple[Levels, Levels]:
        snap = (
            ExchangeConnection(self.sim.api_base, self.sim.ws_url, None)
            .rest()
            .get_orderbook(ticker)
        )
        return (
            tuple(sorted(((p, s) for p, s in snap.yes), reverse=True)),
            tuple(sorted(((p, s) for p, s in snap.no), reverse=True)),
        )

    def advance(self, seconds: float) -> None:
        """Move the exchange and the bot's clock together."""
        self.sim.advance(seconds)
        self.clock.advance_to(self.sim.now())


@pytest.fixture
def rig() -> Iterator[Rig]:
    with _rig() as made:
        yield made


@contextmanager
def _rig() -> Iterator[Rig]:
    with running_exchange(seed=3, window_seconds=120) as sim:
        clock = SimClock(start=sim.now())
        system = ActorSystem(clock=clock, seed=1)
        signer = Signer.from_file(sim.key_id, sim.private_key_path)
        connection = ExchangeConnection(sim.api_base, sim.ws_url, signer, rate_limited=False)
        log, keyed = ProbeLog(), ProbeLog()
        market_data = SupervisorSpec(
            "market-data",
            (
                ChildSpec.of("probe", Probe, (BOOK, SPOT, MARKETS), log),
                ChildSpec.of("keyed", Probe, (), keyed),
                ChildSpec.of("spot", SpotFeed),
                ChildSpec.of("stream", MarketStream, connection, private_channels=False),
                ChildSpec.of(
                    "discovery", MarketDiscovery, connection, window_seconds=120, poll_interval=5.0
                ),
            ),
        )
        system.start(SupervisorSpec("root", (market_data,)))
        try:
            yield Rig(sim, system, clock, log, keyed)
        finally:
            system.shutdown()


def _book_matches(rig: Rig, ticker: str) -> Callable[[BookUpdate], bool]:
    yes, no = rig.exchange_book(ticker)

    def matches(update: BookUpdate) -> bool:
        return update.ticker == ticker and update.yes_bids == yes[:10] and update.no_bids == no[:10]

    return matches


def test_discovery_finds_the_live_market_and_its_watcher_mirrors_the_book(rig: Rig) -> None:
    ticker = rig.sim.current_ticker()
    info = rig.log.wait_for(MarketInfo, lambda m: m.ticker == ticker)
    assert info.status == "active"
    assert info.floor_strike is not None and info.fee_multiplier is not None
    assert info.tradeable
    assert info.close_time - info.open_time == 120
    rig.advance(3)
    update = rig.log.wait_for(BookUpdate, _book_matches(rig, ticker))
    assert update.yes_bid is not None and update.yes_ask is not None
    assert update.no_bid is not None
    assert update.yes_ask == 1 - update.no_bid  # asks derive from the other side's bids
    assert not update.stale


def test_a_watcher_publishes_its_books_under_their_series(rig: Rig) -> None:
    ticker = rig.sim.current_ticker()  # a KXSOL15M market
    rig.log.wait_for(MarketInfo, lambda m: m.ticker == ticker)
    rig.system.bus.subscribe(BOOK, "keyed", keys=("KXBTC15M",))
    rig.advance(3)
    rig.log.wait_for(BookUpdate, _book_matches(rig, ticker))
    quiesce(rig.system)
    assert rig.keyed.of(BookUpdate) == []  # another series' subscriber: never told
    rig.system.bus.subscribe(BOOK, "keyed", keys=("KXSOL15M",))
    rig.advance(3)
    update = rig.keyed.wait_for(BookUpdate, _book_matches(rig, ticker))
    assert update.ticker == ticker


def test_spot_ticks_follow_the_index(rig: Rig) -> None:
    rig.advance(5)
    now = int(rig.sim.now())
    index = rig.sim.call(lambda ex: ex.index.value_at(now))
    tick = rig.log.wait_for(SpotTick, lambda t: t.price == index)
    assert tick.index == "SOLUSD_RTI" and not tick.stale


def test_the_sol_index_arrives_five_times_a_second(rig: Rig) -> None:
    rig.advance(3)
    tick = rig.log.wait_for(SpotTick, lambda t: t.ts != int(t.ts))  # a print between seconds
    assert (tick.ts * 5) == pytest.approx(round(tick.ts * 5))  # on the 200 ms grid
    assert not tick.stale


def test_a_refused_5hz_feed_falls_back_to_the_1_second_index(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    refused = simulator.ws.SUPPORTED_CHANNELS - {FAST_INDEX_CHANNEL}
    monkeypatch.setattr(simulator.ws, "SUPPORTED_CHANNELS", refused)
    with _rig() as rig:
        rig.advance(5)
        now = int(rig.sim.now())
        index = rig.sim.call(lambda ex: ex.index.value_at(now))
        tick = rig.log.wait_for(SpotTick, lambda t: t.price == index and t.ts == now)
        assert not tick.stale
        assert all(t.ts == int(t.ts) for t in rig.log.of(SpotTick))  # 1-second prints only


def test_a_sequence_gap_is_recovered_with_a_fresh_snapshot(rig: Rig) -> None:
    ticker = rig.sim.current_ticker()
    rig.log.wait_for(MarketInfo, lambda m: m.ticker == ticker)
    rig.advance(2)
    rig.sim.faults.update(seq_skip_next=1)
    rig.advance(3)
    rig.advance(1)
    rig.log.wait_for(BookUpdate, _book_matches(rig, ticker))


def test_a_dropped_socket_falls_back_to_rest_and_recovers(rig: Rig) -> None:
    ticker = rig.sim.current_ticker()
    rig.log.wait_for(MarketInfo, lambda m: m.ticker == ticker)
    rig.advance(2)
    rig.log.wait_for(BookUpdate, lambda u: u.ticker == ticker)
    rig.sim.drop_websockets()
    # While down, the spot feed says it is stale; the watcher polls REST once a second.
    rig.log.wait_for(SpotTick, lambda t: t.stale)
    rig.advance(3)
    rig.log.wait_for(BookUpdate, _book_matches(rig, ticker))
    rig.log.wait_for(FeedState, lambda s: s.connected and s.reason == "reconnected")
    for _ in range(20):  # bounded: until the resubscribed index channel delivers again
        rig.advance(1)
        fresh = [t for t in rig.log.of(SpotTick) if not t.stale and t.ts >= rig.sim.now() - 1]
        if fresh:
            break
    assert fresh, "the index did not resume after the reconnect"


def test_a_crashed_watcher_restarts_with_the_whole_book(rig: Rig) -> None:
    ticker = rig.sim.current_ticker()
    rig.log.wait_for(MarketInfo, lambda m: m.ticker == ticker)
    rig.advance(2)
    rig.log.wait_for(BookUpdate, lambda u: u.ticker == ticker)
    crash(rig.system, watcher_name(ticker))
    settle(rig.system, rig.clock)
    rig.log.clear()
    rig.advance(1)
    rig.log.wait_for(BookUpdate, _book_matches(rig, ticker))
    node = rig.system.tree().find(watcher_name(ticker))
    assert node is not None and node.restarts == 1


def test_a_settled_market_is_announced_and_its_watcher_stopped(rig: Rig) -> None:
    ticker = rig.sim.current_ticker()
    rig.log.wait_for(MarketInfo, lambda m: m.ticker == ticker)
    for _ in range(30):  # through the close and the determination, 5 s at a time (bounded)
        rig.advance(5)
        if rig.log.of(MarketLifecycle):
            break
    settled = rig.log.wait_for(MarketLifecycle, lambda e: e.ticker == ticker)
    assert settled.result in ("yes", "no")
    assert settled.expiration_value is not None
    names = [n.name for n in rig.system.tree().walk()]
    assert watcher_name(ticker) not in names
    next_ticker = rig.sim.current_ticker()
    assert next_ticker != ticker and watcher_name(next_ticker) in names
    rig.advance(1)
    rig.log.wait_for(BookUpdate, lambda u: u.ticker == next_ticker)
