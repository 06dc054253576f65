"""The health monitor names a traded series whose markets stop appearing (or never appear)."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest

from actors.health_monitor import HealthMonitor, HealthReport
from messages.market_data import MarketInfo
from messages.queries import GetReport
from runtime.bus import MARKETS
from runtime.clock import SimClock
from runtime.supervisor import ChildSpec, SupervisorSpec
from runtime.system import ActorSystem

SERIES = ("KXSOL15M", "KXBTC15M", "KXETH15M")


def _market(series: str, opens: float, closes: float) -> MarketInfo:
    return MarketInfo(
        ticker=f"{series}-26JAN010015-15",
        event_ticker=f"{series}-26JAN010015",
        status="active",
        open_time=opens,
        close_time=closes,
        floor_strike=Decimal(100),
        fee_type="quadratic",
        fee_multiplier=Decimal("0.07"),
        series=series,
    )


@pytest.fixture
def system() -> Iterator[ActorSystem]:
    system = ActorSystem(clock=SimClock())
    spec = ChildSpec.of("health", HealthMonitor, interval=3600, series=SERIES, series_grace=60)
    system.start(SupervisorSpec("root", (spec,)))
    yield system
    system.shutdown()


def _missing(system: ActorSystem) -> tuple[str, ...]:
    report: HealthReport = system.ask("health", GetReport())  # after what was published before
    return report.missing_series


def test_a_series_never_seen_then_one_whose_markets_stop(system: ActorSystem) -> None:
    clock = system.clock
    assert isinstance(clock, SimClock)
    start = clock.now()
    system.bus.publish(MARKETS, _market("KXSOL15M", start, start + 900))
    system.bus.publish(MARKETS, _market("KXBTC15M", start, start + 120))
    assert _missing(system) == ()  # ETH not heard of yet, but within the grace
    clock.advance(61)
    assert _missing(system) == ("KXETH15M",)
    system.bus.publish(MARKETS, _market("KXETH15M", start + 60, start + 960))
    assert _missing(system) == ()
    clock.advance(120)  # BTC's market closed 61 s ago and none followed; the others trade on
    assert _missing(system) == ("KXBTC15M",)
    system.bus.publish(MARKETS, _market("KXBTC15M", start + 120, start + 1020))
    assert _missing(system) == ()
