"""Tickers name the close time in America/New_York, across DST."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from kalshi.tickers import (
    event_ticker_for,
    market_ticker_for,
    parse_market_ticker,
    window_close_after,
)


def test_summer_ticker_is_edt() -> None:
    close = datetime(2026, 5, 30, 4, 15, tzinfo=UTC)  # 00:15 EDT
    assert event_ticker_for(close) == "KXSOL15M-26MAY300015"
    assert market_ticker_for(close) == "KXSOL15M-26MAY300015-15"


def test_winter_ticker_is_est() -> None:
    close = datetime(2026, 1, 15, 5, 0, tzinfo=UTC)  # 00:00 EST
    assert market_ticker_for(close) == "KXSOL15M-26JAN150000-00"


def test_parse_round_trip() -> None:
    parsed = parse_market_ticker("KXSOL15M-26MAY300015-15")
    assert parsed.series == "KXSOL15M"
    assert parsed.close_time == datetime(2026, 5, 30, 4, 15, tzinfo=UTC)
    start = datetime(2026, 3, 7, 0, 0, tzinfo=UTC)
    for step in range(0, 4 * 24 * 3):  # three days across the March DST switch
        close = start + timedelta(minutes=15 * step)
        assert parse_market_ticker(market_ticker_for(close)).close_time == close


@pytest.mark.parametrize(
    "bad",
    ["KXSOL15M-26MAY300015-30", "KXSOL15M-26XXX300015-15", "KXSOL15M-26MAY300015", "nonsense"],
)
def test_parse_refuses_non_window_tickers(bad: str) -> None:
    with pytest.raises(ValueError, match="not a 15-minute"):
        parse_market_ticker(bad)


def test_window_close_after() -> None:
    at = datetime(2026, 5, 30, 4, 15, tzinfo=UTC)
    assert window_close_after(at) == datetime(2026, 5, 30, 4, 30, tzinfo=UTC)
    assert window_close_after(at - timedelta(seconds=1)) == at
