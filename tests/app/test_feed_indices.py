"""Start-up refuses a series whose index the exchange's feed does not offer (app.feed_indices)."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from app.feed_indices import check_offered, offered_indices
from app.series import SeriesError
from simulator.testing import SimHandle, running_exchange


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with running_exchange(seed=3) as handle:
        yield handle


def test_the_feed_lists_the_indices_it_offers(sim: SimHandle) -> None:
    offered = offered_indices(sim.ws_url, sim.signer())
    assert offered == frozenset({"SOLUSD_RTI"})  # the simulator's one series
    check_offered({"KXSOL15M": "SOLUSD_RTI"}, offered)
    with pytest.raises(SeriesError) as refused:
        check_offered({"KXSOL15M": "SOLUSD_RTI", "KXBTC15M": "BRTI"}, offered)
    text = str(refused.value)
    assert "KXBTC15M (index BRTI)" in text and "KXSOL15M (index" not in text
    assert "offers SOLUSD_RTI" in text


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_feed_that_cannot_be_asked_falls_back_on_the_known_table() -> None:
    offered = offered_indices(f"ws://127.0.0.1:{_closed_port()}/trade-api/ws/v2", None, 2.0)
    assert offered is None
    check_offered({"KXBTC15M": "BRTI", "KXBNB15M": "BNBUSD_RTI"}, offered)  # in the table
    with pytest.raises(SeriesError, match=r"could not be asked.*KXFOO15M \(index FOOUSD_RTI\)"):
        check_offered({"KXBTC15M": "BRTI", "KXFOO15M": "FOOUSD_RTI"}, offered)
