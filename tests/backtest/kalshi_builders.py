"""Hand-made folders of Kalshi history (the API's JSON, OpenAPI 3.31.0) for replay tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson

from backtest.kalshi_layout import CANDLES_DIR, INDEX_FILE, MARKETS_FILE, TRADES_FILE
from kalshi.history import encode_raw
from kalshi.tickers import event_ticker_for, market_ticker_for

T0 = 1_780_000_200  # a window boundary (2026-05-28T20:30:00Z)
WINDOW = 900


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).isoformat().replace("+00:00", "Z")


def ticker_for(open_ts: int) -> str:
    return market_ticker_for(datetime.fromtimestamp(open_ts + WINDOW, tz=UTC))


def market(open_ts: int, result: str, strike: str = "75.0", value: str = "75.1") -> dict[str, Any]:
    """A settled ``Market`` with every field 3.31.0 requires."""
    close = open_ts + WINDOW
    when = datetime.fromtimestamp(close, tz=UTC)
    return {
        "ticker": market_ticker_for(when),
        "event_ticker": event_ticker_for(when),
        "market_type": "binary",
        "yes_sub_title": f"Target Price: ${strike}",
        "no_sub_title": f"Target Price: ${strike}",
        "created_time": iso(open_ts - WINDOW),
        "updated_time": iso(close + 5),
        "open_time": iso(open_ts),
        "close_time": iso(close),
        "latest_expiration_time": iso(close + 7 * 86_400),
        "settlement_timer_seconds": 3,
        "status": "finalized",
        "notional_value_dollars": "1.0000",
        "yes_bid_dollars": "0.0000",
        "yes_ask_dollars": "1.0000",
        "no_bid_dollars": "0.0000",
        "no_ask_dollars": "1.0000",
        "yes_bid_size_fp": "0.00",
        "yes_ask_size_fp": "0.00",
        "last_price_dollars": "0.5000",
        "previous_yes_bid_dollars": "0.0000",
        "previous_yes_ask_dollars": "0.0000",
        "previous_price_dollars": "0.0000",
        "volume_fp": "100.00",
        "volume_24h_fp": "100.00",
        "open_interest_fp": "0.00",
        "result": result,
        "can_close_early": False,
        "expiration_value": value,
        "rules_primary": "YES if the 60-second average is at least the strike.",
        "rules_secondary": "",
        "price_level_structure": "tapered_deci_cent",
        "price_ranges": [
            {"start": "0.0000", "end": "0.1000", "step": "0.0010"},
            {"start": "0.1000", "end": "0.9000", "step": "0.0100"},
            {"start": "0.9000", "end": "1.0000", "step": "0.0010"},
        ],
        "settlement_bounds_type": "default",
        "settlement_ts": iso(close + 5),
        "strike_type": "greater_or_equal",
        "floor_strike": Decimal(strike),
    }


def candle(end: int, bid: str, ask: str, volume: str = "0.00") -> dict[str, Any]:
    """A live ``MarketCandlestick`` whose book stayed at ``bid``/``ask`` all minute."""
    return {
        "end_period_ts": end,
        "yes_bid": {f"{k}_dollars": bid for k in ("open", "low", "high", "close")},
        "yes_ask": {f"{k}_dollars": ask for k in ("open", "low", "high", "close")},
        "price": {},
        "volume_fp": volume,
        "open_interest_fp": "0.00",
    }


def trade(ticker: str, ts: float, count: str, price: str, taker: str) -> dict[str, Any]:
    no = f"{Decimal(1) - Decimal(price):.4f}"
    return {
        "trade_id": f"{ticker}-{ts}-{taker}-{price}",
        "ticker": ticker,
        "count_fp": count,
        "yes_price_dollars": price,
        "no_price_dollars": no,
        "taker_outcome_side": taker,
        "taker_book_side": "bid" if taker == "yes" else "ask",
        "created_time": iso(ts),
        "is_block_trade": False,
    }


@dataclass
class Folder:
    """What to write; :meth:`write` puts it on disk as the download would."""

    markets: list[dict[str, Any]] = field(default_factory=list)
    candles: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    trades: list[dict[str, Any]] | None = None
    index: list[tuple[int, str]] | None = None

    def add(self, open_ts: int, result: str, quotes: list[tuple[int, str, str]], **kw: Any) -> str:
        """A market and its candles, given as (seconds after the open, bid, ask)."""
        body = market(open_ts, result, **kw)
        self.markets.append(body)
        self.candles[body["ticker"]] = [candle(open_ts + s, b, a) for s, b, a in quotes]
        return str(body["ticker"])

    def write(self, root: Path) -> Path:
        root.mkdir(parents=True, exist_ok=True)
        # encode_raw writes the Decimal floor_strike as a JSON number, as Kalshi sends it
        (root / MARKETS_FILE).write_bytes(b"".join(encode_raw(m) + b"\n" for m in self.markets))
        (root / CANDLES_DIR).mkdir(exist_ok=True)
        for ticker, candles in self.candles.items():
            body = {"ticker": ticker, "candlesticks": candles}
            (root / CANDLES_DIR / f"{ticker}.json").write_bytes(orjson.dumps(body))
        if self.trades is not None:
            (root / TRADES_FILE).write_bytes(b"".join(orjson.dumps(t) + b"\n" for t in self.trades))
        if self.index is not None:
            payload = [{"value": v, "time": t * 1000} for t, v in self.index]
            answer = {"data": {"serverTime": iso(self.index[-1][0]), "payload": payload}}
            (root / INDEX_FILE).write_bytes(orjson.dumps(answer) + b"\n")
        return root
