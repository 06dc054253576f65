"""Which CF Benchmarks index each 15-minute crypto series settles on.

The exchange says it: ``GET /series/{ticker}`` names the settlement source, whose URL
(or name) ends with the index id (``…/indices/BRTI``). :data:`SERIES_INDEX` is the
fallback when it does not (KALSHI.md's table; ⚠ XRP and DOGE from third-party material,
HYPE and BNB guessed as the others are named). The simulator's catalog serves the same
ids, so both sides agree.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

SERIES_INDEX: Mapping[str, str] = {
    "KXBTC15M": "BRTI",
    "KXETH15M": "ETHUSD_RTI",
    "KXSOL15M": "SOLUSD_RTI",
    "KXXRP15M": "XRPUSD_RTI",
    "KXDOGE15M": "DOGEUSD_RTI",
    "KXHYPE15M": "HYPEUSD_RTI",  # ⚠ KALSHI.md names no id
    "KXBNB15M": "BNBUSD_RTI",  # ⚠ not measured
}
# A 15-minute crypto series: ``KX<COIN>15M``.
FIFTEEN_MINUTE = re.compile(r"^KX[A-Z0-9]+15M$")
_INDEX_ID = re.compile(r"([A-Z0-9_]*RTI)/?$")  # BRTI, SOLUSD_RTI, … at the end


def is_fifteen_minute(ticker: str) -> bool:
    return FIFTEEN_MINUTE.match(ticker) is not None


def index_from_sources(sources: Iterable[Mapping[str, object]]) -> str | None:
    """The index id a series' settlement sources end with (a CF Benchmarks URL's last
    segment, or a name such as ``CF Benchmarks BRTI``), or None when none does."""
    for source in sources:
        for key in ("url", "name"):
            value = source.get(key)
            match = _INDEX_ID.search(value.strip()) if isinstance(value, str) else None
            if match:
                return match[1]
    return None


def index_for(series: str, sources: Iterable[Mapping[str, object]] = ()) -> str | None:
    """The series' index: from its settlement sources, else the fallback table."""
    return index_from_sources(sources) or SERIES_INDEX.get(series)
