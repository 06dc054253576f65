"""The CF Benchmarks passthrough client: parsing ``values``, and the calls against the simulator."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from decimal import Decimal as D

import pytest

from kalshi.cfbenchmarks import IndexValue, parse_values
from kalshi.errors import AuthError, BadRequest, ParseError
from kalshi.rate_limit import RouteCosts
from kalshi.rest import KalshiRestClient
from simulator.config import ExchangeConfig
from simulator.testing import running_exchange


def test_values_come_out_of_the_envelope_oldest_first_and_bad_entries_are_skipped() -> None:
    answer = {
        "data": {
            "serverTime": "2026-05-28T20:30:00.000Z",
            "payload": [
                {"value": "74.1235", "time": 1_780_000_201_000},
                {"value": "74.1234", "time": 1_780_000_200_000},
                {"value": D("74.2"), "time": 1_780_000_202_000, "amendTime": 1},
                {"value": "abc", "time": 1_780_000_203_000},
                {"value": "-1", "time": 1_780_000_204_000},
                {"value": "74.3", "time": True},
                {"value": "74.3"},
                "junk",
            ],
        }
    }
    assert parse_values(answer) == [
        IndexValue(1_780_000_200.0, D("74.1234")),
        IndexValue(1_780_000_201.0, D("74.1235")),
        IndexValue(1_780_000_202.0, D("74.2")),
    ]


@pytest.mark.parametrize(
    "answer", [{}, {"data": {}}, {"data": {"payload": {}}}, {"serverTime": "x", "payload": []}, []]
)
def test_an_answer_without_the_envelope_or_its_payload_is_a_parse_error(answer: object) -> None:
    with pytest.raises(ParseError, match=r"data\.payload"):
        parse_values(answer)


def test_the_passthrough_costs_fifty_read_tokens() -> None:
    costs = RouteCosts.builtin()
    assert costs.cost("GET", "/trade-api/v2/cfbenchmarks/values?id=SOLUSD_RTI") == 50
    assert costs.cost("GET", "/trade-api/v2/markets") == 10


@pytest.fixture
def entitled() -> Iterator[KalshiRestClient]:
    with running_exchange(seed=3) as sim:
        sim.advance(900)
        with KalshiRestClient(sim.api_base, sim.signer(), rate_limit=False) as client:
            yield client


def test_the_simulator_answers_the_last_ten_minutes_one_print_a_second(
    entitled: KalshiRestClient,
) -> None:
    values = entitled.get_index_values("SOLUSD_RTI")
    assert len(values) == 600
    assert [b.ts - a.ts for a, b in itertools.pairwise(values)] == [1.0] * 599
    assert all(v.value > 0 for v in values)
    with pytest.raises(BadRequest, match="Unknown id"):
        entitled.get_index_values("BRTI")


def test_an_account_without_the_entitlement_is_refused_with_403() -> None:
    config = ExchangeConfig(cfbenchmarks_entitled=False)
    with (
        running_exchange(config=config) as sim,
        KalshiRestClient(sim.api_base, sim.signer(), rate_limit=False) as client,
        pytest.raises(AuthError) as refused,
    ):
        client.get_index_values("SOLUSD_RTI")
    assert refused.value.status == 403
