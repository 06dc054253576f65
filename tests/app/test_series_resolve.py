"""Which series the bot trades and each one's index, settled at start-up (app.series)."""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any, cast

import pytest

from app.series import SeriesError, resolve_series
from config.series import SeriesSettings
from kalshi.errors import NotFound, TransportError
from kalshi.indices import index_for, index_from_sources
from kalshi.models import Series
from kalshi.rest import KalshiRestClient


def _series(ticker: str, index: str | None) -> Series:
    return Series(ticker, "quadratic", D(1), settlement_index=index)


class FakeRest:
    """``GET /series`` and ``GET /series/{ticker}`` from a table; ``down``: unreachable."""

    def __init__(self, listed: dict[str, str | None], down: bool = False) -> None:
        self.listed = listed
        self.down = down

    def list_series(self, *, category: str | None = None) -> list[Series]:
        del category
        if self.down:
            raise TransportError("connection failed")
        return [_series(t, i) for t, i in self.listed.items()] + [_series("KXFED", None)]

    def get_series(self, ticker: str) -> Series:
        if self.down:
            raise TransportError("connection failed")
        if ticker not in self.listed:
            raise NotFound(f"no series {ticker}")
        return _series(ticker, self.listed[ticker])


def resolve(settings: SeriesSettings, rest: FakeRest) -> dict[str, str]:
    return resolve_series(settings, cast(KalshiRestClient, rest))


def test_the_index_comes_from_the_settlement_source() -> None:
    sources: list[dict[str, Any]] = [
        {"name": "CF Benchmarks", "url": "https://www.cfbenchmarks.com/data/indices/ETHUSD_RTI"}
    ]
    assert index_from_sources(sources) == "ETHUSD_RTI"
    assert index_from_sources([{"name": "CF Benchmarks BRTI"}]) == "BRTI"
    assert index_from_sources([{"name": "Kalshi", "url": "https://kalshi.com/"}]) is None
    assert index_for("KXSOL15M") == "SOLUSD_RTI"  # the fallback table
    rest = FakeRest({"KXSOL15M": "SOLUSD_RTI_X", "KXBTC15M": None})
    settings = SeriesSettings(tickers=("KXSOL15M", "KXBTC15M"))
    # what the exchange says wins; without a word, the fallback table
    assert resolve(settings, rest) == {"KXSOL15M": "SOLUSD_RTI_X", "KXBTC15M": "BRTI"}


def test_all_takes_every_15_minute_series_the_exchange_lists() -> None:
    rest = FakeRest({"KXBTC15M": "BRTI", "KXETH15M": "ETHUSD_RTI"})
    settings = SeriesSettings(tickers=("KXSOL15M", "KXBTC15M"), every_series=True)
    assert resolve(settings, rest) == {"KXBTC15M": "BRTI", "KXETH15M": "ETHUSD_RTI"}


def test_a_series_the_exchange_does_not_list_stops_the_start_naming_it() -> None:
    rest = FakeRest({"KXSOL15M": "SOLUSD_RTI"})
    settings = SeriesSettings(tickers=("KXSOL15M", "KXBTC15M"))
    with pytest.raises(SeriesError, match="KXBTC15M"):
        resolve(settings, rest)


def test_an_unreachable_exchange_starts_on_the_fallback_table() -> None:
    settings = SeriesSettings(tickers=("KXSOL15M", "KXETH15M"))
    found = resolve(settings, FakeRest({}, down=True))
    assert found == {"KXSOL15M": "SOLUSD_RTI", "KXETH15M": "ETHUSD_RTI"}
