"""Ticker names of the 15-minute markets.

Event ``KXSOL15M-26MAY300015`` and market ``KXSOL15M-26MAY300015-15``: the
date-time is the market's *close* in America/New_York (``YYMMMDDHHMM``) and the
suffix is the close minute.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

SERIES = "KXSOL15M"
NEW_YORK = ZoneInfo("America/New_York")
WINDOW = timedelta(minutes=15)
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_TICKER = re.compile(
    r"^(?P<series>[A-Z0-9]+)-(?P<yy>\d\d)(?P<mon>[A-Z]{3})(?P<dd>\d\d)(?P<hh>\d\d)(?P<mm>\d\d)-(?P<suffix>\d\d)$"
)


@dataclass(frozen=True, slots=True)
class WindowTicker:
    series: str
    close_time: datetime  # aware, UTC

    @property
    def event_ticker(self) -> str:
        local = self.close_time.astimezone(NEW_YORK)
        return f"{self.series}-{local:%y}{_MONTHS[local.month - 1]}{local:%d%H%M}"

    @property
    def market_ticker(self) -> str:
        local = self.close_time.astimezone(NEW_YORK)
        return f"{self.event_ticker}-{local:%M}"


def event_ticker_for(close_time: datetime, series: str = SERIES) -> str:
    return WindowTicker(series, close_time.astimezone(UTC)).event_ticker


def market_ticker_for(close_time: datetime, series: str = SERIES) -> str:
    return WindowTicker(series, close_time.astimezone(UTC)).market_ticker


def parse_market_ticker(ticker: str) -> WindowTicker:
    """The series and close time a market ticker names; ``ValueError`` if it names none."""
    match = _TICKER.match(ticker)
    if match is None or match["mon"] not in _MONTHS or match["suffix"] != match["mm"]:
        raise ValueError(f"not a 15-minute market ticker: {ticker!r}")
    local = datetime(
        2000 + int(match["yy"]),
        _MONTHS.index(match["mon"]) + 1,
        int(match["dd"]),
        int(match["hh"]),
        int(match["mm"]),
        tzinfo=NEW_YORK,
    )
    return WindowTicker(match["series"], local.astimezone(UTC))


def window_close_after(moment: datetime, window: timedelta = WINDOW) -> datetime:
    """The first window close strictly after ``moment`` (windows aligned to the Unix epoch)."""
    seconds = int(window.total_seconds())
    epoch = int(moment.timestamp())
    return datetime.fromtimestamp((epoch // seconds + 1) * seconds, tz=UTC)


def series_of(ticker: str) -> str:
    """The series of a market or event ticker: its prefix (``KXBTC15M-26MAY300015-15`` →
    ``KXBTC15M``); any ticker, parsed or not, belongs to exactly one."""
    return ticker.split("-", 1)[0]
