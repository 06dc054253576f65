"""Kalshi's JSON shapes for the history endpoints: candlesticks, public trades, the cutoff.

Live candlesticks (``MarketCandlestick``) name their prices ``*_dollars`` and their
counts ``*_fp``; archived ones (``MarketCandlestickHistorical``) drop the suffixes.
Both come from the same :class:`~simulator.history.Candle`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from kalshi.units import ONE, format_count, format_dollars
from simulator.events import TradeEvent
from simulator.history import Candle, Ohlc
from simulator.orders import book_side_of
from simulator.wire import iso

JSON = dict[str, Any]


def _price(value: Decimal | None) -> str | None:
    return None if value is None else format_dollars(value)


_OHLC = ("open", "low", "high", "close")


def _ohlc(ohlc: Ohlc | None, suffix: str) -> JSON:
    values = (None,) * 4 if ohlc is None else (ohlc.open, ohlc.low, ohlc.high, ohlc.close)
    return {f"{name}{suffix}": _price(v) for name, v in zip(_OHLC, values, strict=True)}


def candle_json(candle: Candle, *, historical: bool = False) -> JSON:
    """One candlestick; ``historical``: the archive's field names (its trade prices are
    required and null without a trade)."""
    suffix = "" if historical else "_dollars"
    price = _ohlc(candle.trades, suffix)
    price[f"mean{suffix}"] = _price(candle.mean)
    price[f"previous{suffix}"] = _price(candle.previous)
    if not historical:
        # PriceDistribution's fields are optional (their ``nullable`` sits beside a $ref,
        # which OpenAPI 3.0 ignores): a price without a trade is left out, not null.
        price = {key: value for key, value in price.items() if value is not None}
    body: JSON = {
        "end_period_ts": candle.end_ts,
        "yes_bid": _ohlc(candle.yes_bid, suffix),
        "yes_ask": _ohlc(candle.yes_ask, suffix),
        "price": price,
    }
    if historical:
        body["volume"] = format_count(candle.volume)
        body["open_interest"] = format_count(candle.open_interest)
    else:
        body["volume_fp"] = format_count(candle.volume)
        body["open_interest_fp"] = format_count(candle.open_interest)
    return body


def synthetic_before(candle: Candle, end_ts: int) -> Candle:
    """``include_latest_before_start``: the last real candle carried forward to ``end_ts`` —
    its quotes at their close, no trades, ``previous`` its last trade price."""
    bid, ask = candle.yes_bid, candle.yes_ask
    assert bid is not None
    assert ask is not None
    last = candle.trades.close if candle.trades is not None else candle.previous
    return Candle(
        end_ts=end_ts,
        yes_bid=Ohlc.of(bid.close),
        yes_ask=Ohlc.of(ask.close),
        open_interest=candle.open_interest,
        previous=last,
    )


def trade_json(trade: TradeEvent) -> JSON:
    """A public ``Trade`` (``GET /markets/trades`` and ``/historical/trades``)."""
    return {
        "trade_id": trade.trade_id,
        "ticker": trade.ticker,
        "count_fp": format_count(trade.count),
        "yes_price_dollars": format_dollars(trade.yes_price),
        "no_price_dollars": format_dollars(ONE - trade.yes_price),
        "taker_side": trade.taker_outcome,
        "taker_outcome_side": trade.taker_outcome,
        "taker_book_side": book_side_of(trade.taker_outcome),
        "created_time": iso(trade.ts),
        "is_block_trade": False,
    }


def cutoff_json(cutoff: float) -> JSON:
    """``GET /historical/cutoff``: the simulator archives markets, trades, orders and
    positions at one moment."""
    moment = iso(cutoff)
    return {
        "market_settled_ts": moment,
        "trades_created_ts": moment,
        "orders_updated_ts": moment,
        "market_positions_last_updated_ts": moment,
    }
