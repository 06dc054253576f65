"""``bench/series_compare.py``: pooled percentiles and their ratio, with a bootstrap
interval over runs; and the other series' limits ``bench/tick_to_order.py`` runs with."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bench.series_compare import Arm, compare, ratio_interval, rotation
from bench.tick_to_order import OTHER_SERIES_EXPOSURE, _limits
from tests.bench.bench_runner import bench_json


def arm(name: str, scale: float, runs: int = 4) -> Arm:
    latencies = [[scale * (100 + i) for i in range(200)] for _ in range(runs)]
    figures = [
        {
            "p50_us": scale * 200,
            "p99_us": scale * 300,
            "other_orders_per_s": 0.5,
            "deepest_watcher_mailbox": 1,
            "sampling_cpu_s": {"bot": 1.0},
        }
        for _ in range(runs)
    ]
    return Arm(name, figures, latencies)


def test_pooled_percentiles_take_every_run_s_edges() -> None:
    a = Arm("a", [], [[1.0, 2.0], [3.0, 4.0]])
    assert a.pooled(50) == 2.0
    assert a.pooled(99) == 4.0
    assert a.pooled(99, runs=[0, 0]) == 2.0  # a bootstrap draw may repeat a run


def test_an_arm_twice_as_slow_is_a_ratio_of_two_with_a_tight_interval() -> None:
    single, several = arm("single", 1.0), arm("all", 2.0)
    low, high = ratio_interval(single, several, 99)
    assert low == pytest.approx(2.0) and high == pytest.approx(2.0)
    figures = compare(single, several)
    assert figures["p99"]["ratio"] == pytest.approx(2.0)
    assert figures["p50"]["median_pair_ratio"] == pytest.approx(2.0)
    assert figures["runs"] == 4 and figures["edges_per_run"] == 200


def test_runs_that_disagree_widen_the_interval() -> None:
    single = arm("single", 1.0)
    several = Arm(
        "all", single.runs, [[x * (1 + r) for x in run] for r, run in enumerate(single.latencies)]
    )
    low, high = ratio_interval(single, several, 99)
    assert high - low > 1.0  # runs ×1 … ×4: the interval spans much of that


def test_each_arm_goes_first_in_turn() -> None:
    assert [rotation(["a", "b"], r) for r in range(3)] == [["a", "b"], ["b", "a"], ["a", "b"]]
    assert [rotation(["a", "b", "c"], r)[0] for r in range(3)] == ["a", "b", "c"]


def test_only_the_other_series_are_capped() -> None:
    markets = {"KXSOL15M": "SOLUSD_RTI", "KXBTC15M": "BRTI", "KXETH15M": "ETHUSD_RTI"}
    capped = _limits(markets, "capped")
    assert dict(capped.series_max_exposure) == {
        "KXBTC15M": OTHER_SERIES_EXPOSURE,
        "KXETH15M": OTHER_SERIES_EXPOSURE,
    }
    assert capped.position_limit("KXSOL15M") >= Decimal(10**9)  # the measured: no cap
    assert dict(_limits(markets, "free").series_max_exposure) == {}
    assert dict(_limits(None, "capped").series_max_exposure) == {}


@pytest.mark.slow
def test_series_compare_prints_pooled_ratios() -> None:
    figures = bench_json(
        "series_compare.py",
        "--pairs",
        "2",
        "--events",
        "100",
        "--series",
        "KXSOL15M,KXBTC15M",
        "--json",
        timeout=300,
    )
    assert figures["others"] == "capped"
    found = figures["comparisons"]["all/single"]
    assert found["runs"] == 2 and found["edges_per_run"] == 100
    for key in ("p50", "p99"):
        low, high = found[key]["ratio_95"]
        assert 0 < low <= high and found[key]["ratio"] > 0
    assert found["other_orders_per_s"] >= 0
