"""The benchmark scripts still run and print the figures the README quotes (tiny sizes)."""

from __future__ import annotations

import pytest

from tests.bench.bench_runner import bench_json


@pytest.mark.slow
def test_order_roundtrip_prints_its_json_figures() -> None:
    figures = bench_json("order_roundtrip.py", "--orders", "20", "--json", timeout=120)
    assert figures["orders"] == 20
    for key in ("create_p50_us", "create_p99_us", "cancel_p50_us", "cancel_p99_us"):
        assert 0 < figures[key] < 1_000_000
    assert figures["create_p50_us"] <= figures["create_p99_us"]


@pytest.mark.slow
def test_tick_to_order_prints_its_json_figures() -> None:
    figures = bench_json(
        "tick_to_order.py", "--events", "10", "--updates", "2000", "--json", timeout=180
    )
    assert figures["events"] == 10
    assert 0 < figures["p50_us"] <= figures["p99_us"] < 5_000_000
    assert figures["updates_per_s"] > 0
    assert figures["rss_mb"] > 0
    assert figures["ticker"].startswith("KXSOL15M-")
    assert set(figures["sampling_cpu_s"]) == {"bot", "simulator"}


@pytest.mark.slow
def test_hop_waits_splits_each_hop_by_series() -> None:
    figures = bench_json(
        "hop_waits.py", "--events", "10", "--series", "KXSOL15M, KXBTC15M", timeout=180
    )
    assert figures["ticker"].startswith("KXSOL15M-")  # the first series' market
    assert set(figures["hops"]) == {"strategy", "risk", "order"}
    for hop in figures["hops"].values():
        assert hop["messages"] >= 10  # every edge passed each hop
        assert hop["other_series_ms"] >= 0
    slowest, middle = figures["tail"]["slowest"], figures["tail"]["middle"]
    assert slowest["edges"] == 1 and middle["edges"] >= 1  # 1% of 10 edges: the slowest
    assert slowest["mean_us"] >= middle["mean_us"]
    for hop in ("strategy", "risk", "order"):
        assert 0 <= slowest[hop]["busy_us"] <= slowest[hop]["wait_us"] + 1


@pytest.mark.slow
def test_create_burst_times_each_burst_s_first_and_last_order_request() -> None:
    figures = bench_json(
        "create_burst.py",
        "--series",
        "KXSOL15M,KXBTC15M",
        "--bursts",
        "2",
        "--latency-ms",
        "20",
        "--json",
        timeout=180,
    )
    assert figures["series"] == 2 and figures["complete_bursts"] == 2
    assert figures["latency_ms"] == 20
    assert 0 < figures["first_request_ms"] <= figures["last_request_ms"] < 10_000
