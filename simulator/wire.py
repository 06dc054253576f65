"""Kalshi's JSON shapes for the core's objects (REST bodies and WebSocket ``msg``s).

Field names and types follow ``openapi.yaml`` and ``asyncapi.yaml``: prices as
fixed-point dollar strings, counts as fixed-point count strings, times as
RFC 3339 strings or Unix seconds/milliseconds where the spec says so.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from kalshi.units import ONE, ZERO, format_count, format_dollars
from simulator.config import ExchangeConfig, SeriesSetup
from simulator.events import (
    BookDelta,
    EventCreated,
    FastIndexTick,
    IndexTick,
    LifecycleEvent,
    OrderGroupEvent,
    PositionEvent,
    TickerEvent,
    TradeEvent,
)
from simulator.exchange import Exchange, TopOfBook
from simulator.index import WindowAverage
from simulator.markets import MarketState
from simulator.orders import OrderSnapshot, book_side_of
from simulator.portfolio import Account, Fill, PositionState, SettlementRecord

JSON = dict[str, Any]
EXCHANGE_INDEX = 0  # the simulator is one exchange shard
SUBACCOUNT = 0  # and every user has only the primary subaccount
VALUE_QUANTUM = Decimal("0.00000001")  # CF Benchmarks values carry 8 decimals on the wire
PRICE_LEVEL_STRUCTURE = "tapered_deci_cent"  # $0.01 in the middle, $0.001 in the tails
CF_INDEX_URL = "https://www.cfbenchmarks.com/data/indices/"


def settlement_source(setup: SeriesSetup) -> JSON:
    """The series' settlement source: CF Benchmarks, its URL naming the series' index."""
    return {"name": "CF Benchmarks", "url": f"{CF_INDEX_URL}{setup.index.index_id}"}


def iso(ts: float) -> str:
    """RFC 3339 in UTC with a ``Z``; milliseconds only when the time has them."""
    moment = datetime.fromtimestamp(ts, tz=UTC)
    spec = "milliseconds" if moment.microsecond else "seconds"
    return moment.isoformat(timespec=spec).replace("+00:00", "Z")


def ms(ts: float) -> int:
    return round(ts * 1000)


def cents_floor(dollars: Decimal) -> int:
    return int((dollars * 100).to_integral_value(rounding=ROUND_FLOOR))


def _strike_number(value: Decimal) -> float:
    return float(value)


def _strike_text(exchange: Exchange, market: MarketState) -> str:
    """The strike as the titles show it: cents, or finer for a coin priced in cents (DOGE)."""
    assert market.floor_strike is not None
    places = max(2, _setup(exchange, market).index.decimals - 2)
    return f"{market.floor_strike.quantize(Decimal(1).scaleb(-places))}"


# --- series, events, markets ----------------------------------------------------------


def series_json(config: ExchangeConfig, setup: SeriesSetup | None = None) -> JSON:
    """``GET /series/{ticker}``'s series: ``setup`` (default: the exchange's first series)."""
    setup = setup if setup is not None else config.listings()[0]
    series = setup.series
    return {
        "ticker": series.ticker,
        "frequency": "fifteen_min" if config.window_seconds == 900 else "custom",
        "title": series.title,
        "category": "Crypto",
        "categories": ["Crypto"],
        "tags": [series.coin, "Crypto"],
        "settlement_sources": [settlement_source(setup)],
        "contract_url": "https://kalshi.com/",
        "contract_terms_url": "https://kalshi.com/",
        "fee_type": series.fee_type,
        "fee_multiplier": float(series.fee_multiplier),
        "additional_prohibitions": [],
        "exchange_index": EXCHANGE_INDEX,
    }


def _setup(exchange: Exchange, market: MarketState) -> SeriesSetup:
    return exchange.listings[market.series_ticker].setup


def _market_title(exchange: Exchange, market: MarketState) -> str:
    coin = _setup(exchange, market).series.coin
    return f"{coin} price up in next {exchange.window // 60} mins?"


def _rules(exchange: Exchange, market: MarketState) -> str:
    setup = _setup(exchange, market)
    strike = (
        f"${_strike_text(exchange, market)}" if market.floor_strike is not None else "the strike"
    )
    return (
        f"If the simple average of the sixty one-second CF Benchmarks {setup.series.coin} "
        f"Real-Time Index ({setup.index.index_id}) prints in the minute before "
        f"{iso(market.close_ts)} is greater than or equal to {strike}, the market resolves to Yes."
    )


def _market_times(config: ExchangeConfig, market: MarketState) -> JSON:
    """A market's timestamps: expiry follows close by the exchange's determination delay."""
    return {
        "created_time": iso(market.created_ts),
        "updated_time": iso(market.updated_ts),
        "open_time": iso(market.open_ts),
        "close_time": iso(market.close_ts),
        "expected_expiration_time": iso(market.close_ts + config.determination_delay_seconds),
        "expiration_time": iso(market.close_ts + config.determination_delay_seconds),
        "latest_expiration_time": iso(market.close_ts + 7 * 86_400),
        "settlement_timer_seconds": config.settlement_timer_seconds,
    }


def _market_prices(top: TopOfBook, market: MarketState) -> JSON:
    """A market's prices and volumes, dollars and counts as Kalshi's fixed-point strings."""
    return {
        "response_price_units": "usd_cent",
        "notional_value_dollars": format_dollars(ONE),
        "yes_bid_dollars": format_dollars(top.yes_bid),
        "yes_ask_dollars": format_dollars(top.yes_ask),
        "no_bid_dollars": format_dollars(top.no_bid),
        "no_ask_dollars": format_dollars(top.no_ask),
        "yes_bid_size_fp": format_count(top.yes_bid_size),
        "yes_ask_size_fp": format_count(top.yes_ask_size),
        "last_price_dollars": format_dollars(market.last_price),
        "previous_yes_bid_dollars": format_dollars(ZERO),
        "previous_yes_ask_dollars": format_dollars(ZERO),
        "previous_price_dollars": format_dollars(ZERO),
        "volume_fp": format_count(market.volume),
        "volume_24h_fp": format_count(market.volume),
        "liquidity_dollars": format_dollars(ZERO),
        "open_interest_fp": format_count(market.open_interest),
    }


def market_json(exchange: Exchange, market: MarketState) -> JSON:
    """A market as Kalshi's API v2 shows it (fields in Kalshi's order)."""
    config = exchange.config
    title = _market_title(exchange, market)
    target = (
        f"Target Price: ${_strike_text(exchange, market)}"
        if market.floor_strike is not None
        else "Target Price: TBD"
    )
    body: JSON = {
        "ticker": market.ticker,
        "event_ticker": market.event_ticker,
        "market_type": "binary",
        "title": title,
        "subtitle": "",
        "yes_sub_title": target,
        "no_sub_title": target,
        **_market_times(config, market),
        "status": market.status,
        **_market_prices(exchange.top_of_book(market), market),
        "result": market.result or "",
        "can_close_early": False,
        "fractional_trading_enabled": False,
        "expiration_value": (
            str(market.expiration_value) if market.expiration_value is not None else ""
        ),
        "rules_primary": _rules(exchange, market),
        "rules_secondary": (
            f"Prints are the CF Benchmarks {_setup(exchange, market).index.index_id} "
            "one-second values."
        ),
        "price_level_structure": PRICE_LEVEL_STRUCTURE,
        "price_ranges": exchange.levels.to_wire(),
        "strike_type": "greater_or_equal",
        "occurrence_datetime": None,
        "settlement_bounds_type": "default",
        "exchange_index": EXCHANGE_INDEX,
    }
    if market.floor_strike is not None:
        body["floor_strike"] = _strike_number(market.floor_strike)
    if market.result is not None:
        body["settlement_value_dollars"] = format_dollars(ONE if market.result == "yes" else ZERO)
    if market.settled_ts is not None:
        body["settlement_ts"] = iso(market.settled_ts)
    return body


def event_json(exchange: Exchange, markets: list[MarketState], nested: bool) -> JSON:
    first = markets[0]
    body: JSON = {
        "event_ticker": first.event_ticker,
        "series_ticker": first.series_ticker,
        "sub_title": f"On {iso(first.close_ts)}",
        "title": _setup(exchange, first).series.title,
        "collateral_return_type": "binary",
        "mutually_exclusive": False,
        "category": "Crypto",
        "strike_date": iso(first.close_ts),
        "available_on_brokers": False,
        "settlement_sources": [settlement_source(_setup(exchange, first))],
        "product_metadata": None,
        "last_updated_ts": iso(max(m.updated_ts for m in markets)),
    }
    if nested:
        body["markets"] = [market_json(exchange, m) for m in markets]
    return body


def orderbook_json(yes: list[tuple[Decimal, Decimal]], no: list[tuple[Decimal, Decimal]]) -> JSON:
    return {
        "orderbook_fp": {
            "yes_dollars": [[format_dollars(p), format_count(s)] for p, s in yes],
            "no_dollars": [[format_dollars(p), format_count(s)] for p, s in no],
        }
    }


# --- portfolio --------------------------------------------------------------------------


def order_json(order: OrderSnapshot) -> JSON:
    return {
        "order_id": order.order_id,
        "user_id": order.user_id,
        "client_order_id": order.client_order_id,
        "ticker": order.ticker,
        "outcome_side": order.outcome,
        "book_side": order.book_side,
        "side": order.side,
        "action": order.action,
        "type": "limit",
        "status": order.status,
        "yes_price_dollars": format_dollars(order.yes_price),
        "no_price_dollars": format_dollars(order.no_price),
        "fill_count_fp": format_count(order.fill_count),
        "remaining_count_fp": format_count(order.remaining),
        "initial_count_fp": format_count(order.initial_count),
        "taker_fill_cost_dollars": format_dollars(order.taker_fill_cost),
        "maker_fill_cost_dollars": format_dollars(order.maker_fill_cost),
        "taker_fees_dollars": format_dollars(order.taker_fees),
        "maker_fees_dollars": format_dollars(order.maker_fees),
        "expiration_time": iso(order.expiration_ts) if order.expiration_ts is not None else None,
        "created_time": iso(order.created_ts),
        "last_update_time": iso(order.last_update_ts),
        "self_trade_prevention_type": order.self_trade_prevention,
        "order_group_id": order.order_group_id,
        "cancel_order_on_pause": order.cancel_order_on_pause,
        "subaccount_number": SUBACCOUNT,
        "exchange_index": EXCHANGE_INDEX,
    }


def fill_json(fill: Fill) -> JSON:
    return {
        "fill_id": fill.fill_id,
        "trade_id": fill.fill_id,
        "order_id": fill.order_id,
        "client_order_id": fill.client_order_id,
        "ticker": fill.ticker,
        "market_ticker": fill.ticker,
        "exchange_index": EXCHANGE_INDEX,
        "outcome_side": fill.outcome,
        "book_side": book_side_of(fill.outcome),
        "side": fill.side,
        "action": fill.action,
        "count_fp": format_count(fill.count),
        "yes_price_dollars": format_dollars(fill.yes_price),
        "no_price_dollars": format_dollars(fill.no_price),
        "is_taker": fill.is_taker,
        "fee_cost": format_dollars(fill.fee),
        "created_time": iso(fill.ts),
        "ts": int(fill.ts),
        "subaccount_number": SUBACCOUNT,
    }


def balance_json(account: Account, portfolio_value: Decimal) -> JSON:
    """``GetBalanceResponse``: cents (floored) and exact dollars, on the one shard."""
    dollars = format_dollars(account.balance)
    return {
        "balance": cents_floor(account.balance),
        "balance_dollars": dollars,
        "portfolio_value": cents_floor(portfolio_value),
        "updated_ts": int(account.updated_ts),
        "balance_breakdown": [{"exchange_index": EXCHANGE_INDEX, "balance": dollars}],
    }


def market_position_json(state: PositionState) -> JSON:
    return {
        "ticker": state.ticker,
        "exchange_index": EXCHANGE_INDEX,
        "total_traded_dollars": format_dollars(state.total_traded),
        "position_fp": format_count(state.position),
        "market_exposure_dollars": format_dollars(state.exposure),
        "realized_pnl_dollars": format_dollars(state.realized_pnl),
        "resting_orders_count": int(state.resting_count),
        "fees_paid_dollars": format_dollars(state.fees_paid),
        "last_updated_ts": iso(state.last_updated_ts),
    }


def event_positions_json(states: list[PositionState]) -> list[JSON]:
    by_event: dict[str, list[PositionState]] = {}
    for state in states:
        by_event.setdefault(state.event_ticker, []).append(state)
    result = []
    for event_ticker in sorted(by_event):
        group = by_event[event_ticker]
        result.append(
            {
                "event_ticker": event_ticker,
                "total_cost_dollars": format_dollars(sum((s.total_traded for s in group), ZERO)),
                "total_cost_shares_fp": format_count(sum((s.volume for s in group), ZERO)),
                "event_exposure_dollars": format_dollars(sum((s.exposure for s in group), ZERO)),
                "realized_pnl_dollars": format_dollars(sum((s.realized_pnl for s in group), ZERO)),
                "fees_paid_dollars": format_dollars(sum((s.fees_paid for s in group), ZERO)),
            }
        )
    return result


def settlement_json(record: SettlementRecord) -> JSON:
    return {
        "ticker": record.ticker,
        "exchange_index": EXCHANGE_INDEX,
        "event_ticker": record.event_ticker,
        "market_result": record.result,
        "yes_count_fp": format_count(record.yes_count),
        "yes_total_cost_dollars": format_dollars(record.yes_total_cost),
        "no_count_fp": format_count(record.no_count),
        "no_total_cost_dollars": format_dollars(record.no_total_cost),
        "revenue": cents_floor(record.revenue),
        "settled_time": iso(record.settled_ts),
        "fee_cost": format_dollars(record.fees),
        "value": cents_floor(record.value),
    }


# --- WebSocket payloads (the ``msg`` of each channel message) ---------------------------


def ws_snapshot_msg(
    market: MarketState,
    yes: list[tuple[Decimal, Decimal]],
    no: list[tuple[Decimal, Decimal]],
    use_yes_price: bool = False,
) -> JSON:
    msg: JSON = {"market_ticker": market.ticker, "market_id": market.market_id}
    if yes:
        msg["yes_dollars_fp"] = [[format_dollars(p), format_count(s)] for p, s in yes]
    if no:
        levels = sorted((ONE - p, s) for p, s in no) if use_yes_price else list(no)
        msg["no_dollars_fp"] = [[format_dollars(p), format_count(s)] for p, s in levels]
    return msg


def ws_delta_msg(delta: BookDelta, market_id: str, use_yes_price: bool = False) -> JSON:
    price = ONE - delta.price if use_yes_price and delta.side == "no" else delta.price
    return {
        "market_ticker": delta.ticker,
        "market_id": market_id,
        "price_dollars": format_dollars(price),
        "delta_fp": format_count(delta.delta),
        "side": delta.side,
        "ts": iso(delta.ts),
        "ts_ms": ms(delta.ts),
    }


def ws_ticker_msg(event: TickerEvent) -> JSON:
    return {
        "market_id": event.market_id,
        "market_ticker": event.ticker,
        "price_dollars": format_dollars(event.last_price),
        "yes_bid_dollars": format_dollars(event.yes_bid),
        "yes_ask_dollars": format_dollars(event.yes_ask),
        "volume_fp": format_count(event.volume),
        "open_interest_fp": format_count(event.open_interest),
        "dollar_volume": event.dollar_volume,
        "dollar_open_interest": event.dollar_open_interest,
        "yes_bid_size_fp": format_count(event.yes_bid_size),
        "yes_ask_size_fp": format_count(event.yes_ask_size),
        "last_trade_size_fp": format_count(event.last_trade_size),
        "ts": int(event.ts),
        "ts_ms": ms(event.ts),
        "time": iso(event.ts),
    }


def ws_trade_msg(event: TradeEvent) -> JSON:
    return {
        "trade_id": event.trade_id,
        "market_ticker": event.ticker,
        "yes_price_dollars": format_dollars(event.yes_price),
        "no_price_dollars": format_dollars(ONE - event.yes_price),
        "count_fp": format_count(event.count),
        "taker_side": event.taker_outcome,
        "taker_outcome_side": event.taker_outcome,
        "taker_book_side": book_side_of(event.taker_outcome),
        "is_block_trade": False,
        "ts": int(event.ts),
        "ts_ms": ms(event.ts),
    }


def ws_fill_msg(fill: Fill) -> JSON:
    return {
        "trade_id": fill.fill_id,
        "order_id": fill.order_id,
        "client_order_id": fill.client_order_id,
        "market_ticker": fill.ticker,
        "exchange_index": EXCHANGE_INDEX,
        "is_taker": fill.is_taker,
        "side": fill.side,
        "yes_price_dollars": format_dollars(fill.yes_price),
        "count_fp": format_count(fill.count),
        "fee_cost": format_dollars(fill.fee),
        "action": fill.action,
        "ts": int(fill.ts),
        "ts_ms": ms(fill.ts),
        "post_position_fp": format_count(fill.post_position),
        "purchased_side": fill.outcome,
        "outcome_side": fill.outcome,
        "book_side": book_side_of(fill.outcome),
        "subaccount": SUBACCOUNT,
    }


def ws_user_order_msg(order: OrderSnapshot) -> JSON:
    msg: JSON = {
        "order_id": order.order_id,
        "user_id": order.user_id,
        "ticker": order.ticker,
        "exchange_index": EXCHANGE_INDEX,
        "status": order.status,
        "side": order.side,
        "is_yes": order.side == "yes",
        "outcome_side": order.outcome,
        "book_side": order.book_side,
        "yes_price_dollars": format_dollars(order.yes_price),
        "fill_count_fp": format_count(order.fill_count),
        "remaining_count_fp": format_count(order.remaining),
        "initial_count_fp": format_count(order.initial_count),
        "taker_fill_cost_dollars": format_dollars(order.taker_fill_cost),
        "maker_fill_cost_dollars": format_dollars(order.maker_fill_cost),
        "taker_fees_dollars": format_dollars(order.taker_fees),
        "maker_fees_dollars": format_dollars(order.maker_fees),
        "client_order_id": order.client_order_id,
        "self_trade_prevention_type": order.self_trade_prevention,
        "created_time": iso(order.created_ts),
        "created_ts_ms": ms(order.created_ts),
        "last_update_time": iso(order.last_update_ts),
        "last_updated_ts_ms": ms(order.last_update_ts),
        "subaccount_number": SUBACCOUNT,
    }
    if order.order_group_id is not None:
        msg["order_group_id"] = order.order_group_id
    if order.last_update_reason:
        msg["last_update_reason"] = order.last_update_reason
    if order.expiration_ts is not None:
        msg["expiration_time"] = iso(order.expiration_ts)
        msg["expiration_ts_ms"] = order.expiration_ts * 1000
    return msg


def ws_position_msg(event: PositionEvent) -> JSON:
    return {
        "user_id": event.user_id,
        "market_ticker": event.ticker,
        "position_fp": format_count(event.position),
        "position_cost_dollars": format_dollars(event.position_cost),
        "realized_pnl_dollars": format_dollars(event.realized_pnl),
        "fees_paid_dollars": format_dollars(event.fees_paid),
        "position_fee_cost_dollars": format_dollars(event.fees_paid),
        "volume_fp": format_count(event.volume),
    }


def ws_lifecycle_msg(exchange: Exchange, event: LifecycleEvent) -> JSON:
    market = exchange.markets[event.ticker]
    msg: JSON = {"market_ticker": market.ticker, "event_type": event.event_type}
    if event.event_type == "created":
        metadata: JSON = {
            "name": market.ticker,
            "title": _market_title(exchange, market),
            "yes_sub_title": "Target Price: TBD",
            "no_sub_title": "Target Price: TBD",
            "rules_primary": _rules(exchange, market),
            "rules_secondary": "",
            "can_close_early": False,
            "event_ticker": market.event_ticker,
            "expected_expiration_ts": market.close_ts + exchange.config.determination_delay_seconds,
            "strike_type": "greater_or_equal",
        }
        if market.floor_strike is not None:
            metadata["floor_strike"] = _strike_number(market.floor_strike)
        msg.update(
            {
                "exchange_index": EXCHANGE_INDEX,
                "open_ts": market.open_ts,
                "close_ts": market.close_ts,
                "additional_metadata": metadata,
                "price_level_structure": PRICE_LEVEL_STRUCTURE,
                "price_ranges": exchange.levels.to_wire(),
            }
        )
    elif event.event_type == "activated":
        msg["is_deactivated"] = False
    elif event.event_type == "metadata_updated":
        assert market.floor_strike is not None
        msg["strike_type"] = "greater_or_equal"
        msg["floor_strike"] = _strike_number(market.floor_strike)
        msg["yes_sub_title"] = f"Target Price: ${_strike_text(exchange, market)}"
    elif event.event_type == "determined":
        msg["determination_ts"] = event.ts
        msg["result"] = market.result or ""
        msg["settlement_value"] = format_dollars(ONE if market.result == "yes" else ZERO)
    elif event.event_type == "settled":
        msg["settled_ts"] = event.ts
    return msg


def ws_event_created_msg(exchange: Exchange, event: EventCreated) -> JSON:
    markets = [m for m in exchange.markets.values() if m.event_ticker == event.event_ticker]
    series = _setup(exchange, markets[0]).series if markets else exchange.config.series
    msg: JSON = {
        "event_ticker": event.event_ticker,
        "exchange_index": EXCHANGE_INDEX,
        "title": series.title,
        "subtitle": f"On {iso(markets[0].close_ts)}" if markets else "",
        "collateral_return_type": "",
        "series_ticker": series.ticker,
    }
    if markets:
        msg["strike_date"] = markets[0].close_ts
    return msg


def _average_json(average: WindowAverage) -> JSON:
    return {
        "value": _eight(average.value),
        "window_size": average.count,
        "window_start_ts_ms": average.start_ms,
        "window_end_ts_exclusive": average.end_ms_exclusive,
    }


def ws_index_msg(tick: IndexTick) -> JSON:
    ts_ms = tick.print.ts * 1000
    frame = {"type": "value", "id": tick.index_id, "time": ts_ms, "value": str(tick.print.value)}
    msg: JSON = {
        "index_id": tick.index_id,
        "received_at": ts_ms,
        "data": json.dumps(frame, separators=(",", ":")),
        "avg_60s_data": _average_json(tick.avg_60s),
    }
    if tick.final_minute is not None:
        msg["last_60s_windowed_average_15min"] = _average_json(tick.final_minute)
    return msg


def _eight(value: Decimal) -> str:
    return str(value.quantize(VALUE_QUANTUM))


def ws_fast_index_msg(tick: FastIndexTick) -> JSON:
    """``cfbenchmarks_value_5hz``: the raw tick, its value with exactly 8 decimals."""
    frame = {"type": "value", "id": tick.index_id, "time": tick.ts_ms, "value": str(tick.value)}
    return {
        "index_id": tick.index_id,
        "value_usd": _eight(tick.value),
        "source_ts_ms": tick.ts_ms,
        "received_at": tick.ts_ms,
        "data": json.dumps(frame, separators=(",", ":")),
    }


def ws_order_group_msg(event: OrderGroupEvent) -> JSON:
    msg: JSON = {
        "event_type": event.event_type,
        "order_group_id": event.group_id,
        "ts_ms": ms(event.ts),
    }
    if event.limit is not None:
        msg["contracts_limit_fp"] = format_count(event.limit)
    return msg
