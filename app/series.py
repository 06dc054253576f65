"""Which series the bot trades and the index each settles on, settled once at start-up.

``SERIES`` names them (``all``: every 15-minute crypto series the exchange lists); each
series' index comes from its settlement source (``GET /series/{ticker}``), else from the
fallback table :data:`kalshi.indices.SERIES_INDEX`. A series the exchange says it does not
know, or one whose index nobody can name, stops the start with a message naming it. An
exchange that cannot be reached does not: the bot starts on the fallback table and
discovery keeps asking (a start without network waits, degraded, as before).
"""

from __future__ import annotations

from loguru import logger

from config.series import SeriesSettings
from kalshi.connection import ExchangeConnection
from kalshi.errors import KalshiError, NotFound
from kalshi.indices import index_for, is_fifteen_minute
from kalshi.rest import KalshiRestClient

START_TIMEOUT = 5.0


class SeriesError(ValueError):
    """A configured series the bot cannot trade; the message names it."""


def series_client(connection: ExchangeConnection) -> KalshiRestClient:
    """A client for the start-up questions: one try each, so a start without network is
    not held up (discovery asks again)."""
    return connection.rest(timeout=START_TIMEOUT, max_attempts=1)


def listed_series(rest: KalshiRestClient) -> list[str]:
    """Every 15-minute crypto series the exchange lists (``GET /series?category=Crypto``)."""
    return [s.ticker for s in rest.list_series(category="Crypto") if is_fifteen_minute(s.ticker)]


def resolve_series(settings: SeriesSettings, rest: KalshiRestClient) -> dict[str, str]:
    """Series → index id, in the order configured (``all``: as the exchange lists them).

    Raises :class:`SeriesError` naming a series the exchange does not list or whose index
    is unknown.
    """
    tickers = _candidates(settings, rest)
    resolved: dict[str, str] = {}
    for ticker in tickers:
        index = _index_of(ticker, settings, rest)
        if index is not None:
            resolved[ticker] = index
    if not resolved:
        raise SeriesError(f"SERIES: none of {', '.join(tickers)} is listed by the exchange")
    logger.info("series: {}", ", ".join(f"{t} ({i})" for t, i in resolved.items()))
    return resolved


def _candidates(settings: SeriesSettings, rest: KalshiRestClient) -> list[str]:
    """The series to resolve: the configured ones, or (``all``) those the exchange lists."""
    tickers = list(settings.tickers)
    if not settings.every_series:
        return tickers
    try:
        found = listed_series(rest)
    except KalshiError as exc:
        logger.warning("SERIES=all: the exchange's series list failed ({}): using {}", exc, tickers)
        return tickers
    return found or tickers


def _index_of(ticker: str, settings: SeriesSettings, rest: KalshiRestClient) -> str | None:
    """One series' index id (None: skipped, ``all`` and not listed here)."""
    try:
        series = rest.get_series(ticker)
    except NotFound:
        if settings.every_series:
            return None  # ``all``: the ones this exchange lists
        raise SeriesError(f"SERIES: the exchange does not list series {ticker}") from None
    except KalshiError as exc:
        index = index_for(ticker)
        if index is None:
            raise SeriesError(f"SERIES: series {ticker} unavailable: {exc}") from None
        logger.warning("series {} unavailable ({}): its index taken as {}", ticker, exc, index)
        return index
    index = series.settlement_index or index_for(ticker)
    if index is None:
        raise SeriesError(
            f"SERIES: series {ticker} names no settlement index and none is known for it"
        )
    if series.settlement_index is None:
        logger.warning("series {}: no index in its settlement source; using {}", ticker, index)
    return index


def fallback_series(settings: SeriesSettings) -> dict[str, str]:
    """Series → index from the fallback table alone (no exchange asked)."""
    return {t: index_for(t) or "" for t in settings.tickers}
