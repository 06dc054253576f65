"""Wire models parse the spec's shapes exactly and fail loudly on what we rely on."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal as D

import pytest

from kalshi.errors import ParseError
from kalshi.models import (
    Balance,
    ExchangeStatus,
    Fill,
    Market,
    MarketPosition,
    Order,
    OrderbookSnapshot,
    PortfolioSettlement,
    Series,
    to_decimal,
)
from kalshi.orderbook import PriceLevel
from kalshi.units import PriceLevels
from tests.kalshi.kalshi_fakes import fill_json, market_json, order_json


def test_market_parses_exactly() -> None:
    market = Market.from_wire(market_json())
    assert market.ticker == "KXSOL15M-26MAY300015-15"
    assert market.open_time == datetime(2026, 5, 30, 4, 0, tzinfo=UTC)
    assert market.close_time == datetime(2026, 5, 30, 4, 15, tzinfo=UTC)
    assert (market.yes_bid, market.yes_ask, market.no_bid, market.no_ask) == (
        D("0.45"),
        D("0.47"),
        D("0.53"),
        D("0.55"),
    )
    assert market.floor_strike == D("75.1234")  # the float's decimal text, exactly
    assert market.strike_type == "greater_or_equal"
    assert market.result is None and market.expiration_value is None
    assert market.price_levels.tick_at(D("0.05")) == D("0.001")
    assert market.price_levels.tick_at(D("0.50")) == D("0.01")
    assert market.yes_bid_size == D(12)


def test_market_tolerates_unknown_and_missing_optional_fields() -> None:
    raw = market_json(brand_new_field={"x": 1}, another="y")
    for key in ("floor_strike", "strike_type", "price_ranges", "volume_fp", "last_price_dollars"):
        del raw[key]
    market = Market.from_wire(raw)
    assert market.floor_strike is None
    assert market.strike_type is None
    assert market.volume is None
    assert market.price_levels == PriceLevels()


def test_settled_market_carries_result_and_expiration_value() -> None:
    market = Market.from_wire(
        market_json(status="finalized", result="yes", expiration_value="75.2001")
    )
    assert market.result == "yes"
    assert market.expiration_value == D("75.2001")
    assert market.floor_strike is not None
    assert (market.expiration_value >= market.floor_strike) == (market.result == "yes")


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("yes_bid_dollars", None, "Market.yes_bid_dollars: missing"),
        ("yes_bid_dollars", "fifty cents", "Market.yes_bid_dollars"),
        ("yes_bid_dollars", 0.5, "Market.yes_bid_dollars"),  # legacy float: refused
        ("close_time", "yesterday", "Market.close_time"),
        ("ticker", 17, "Market.ticker: expected a string"),
        ("price_ranges", [{"start": "0.1"}], "Market.price_ranges"),
        ("floor_strike", "abc", "Market.floor_strike"),
        ("can_close_early", "no", "Market.can_close_early"),
    ],
)
def test_market_malformed_required_fields_raise(key: str, value: object, message: str) -> None:
    raw = market_json()
    if value is None:
        del raw[key]
    else:
        raw[key] = value
    with pytest.raises(ParseError, match=message.replace(".", r"\.")):
        Market.from_wire(raw)


def test_not_an_object_raises() -> None:
    with pytest.raises(ParseError, match="expected a JSON object"):
        Market.from_wire(["not", "a", "market"])


def test_series() -> None:
    series = Series.from_wire(
        {"ticker": "KXSOL15M", "fee_type": "quadratic", "fee_multiplier": 1, "title": "SOL"}
    )
    assert series.fee_multiplier == D(1)
    assert Series.from_wire(
        {"ticker": "X", "fee_type": "quadratic_with_maker_fees", "fee_multiplier": D("0.5")}
    ).fee_multiplier == D("0.5")
    with pytest.raises(ParseError, match=r"Series\.fee_type"):
        Series.from_wire({"ticker": "X", "fee_multiplier": 1})


def test_exchange_status() -> None:
    status = ExchangeStatus.from_wire({"exchange_active": True, "trading_active": False})
    assert status == ExchangeStatus(True, False, None)
    with pytest.raises(ParseError):
        ExchangeStatus.from_wire({"exchange_active": "yes", "trading_active": False})


def test_order_and_its_price() -> None:
    order = Order.from_wire(order_json(side="no", outcome_side="no", book_side="ask"))
    assert order.price == D("0.55")
    assert order.remaining_count == D(10)
    assert order.created_time == datetime(2026, 5, 30, 4, 1, 2, 123456, tzinfo=UTC)
    assert order.fees == D(0)
    minimal = order_json()
    for key in ("taker_fees_dollars", "maker_fees_dollars", "type", "created_time"):
        del minimal[key]
    assert Order.from_wire(minimal).fees is None
    with pytest.raises(ParseError, match=r"Order\.direction: unknown side"):
        Order.from_wire(order_json(side="maybe"))
    assert Order.from_wire(order_json(client_order_id="")).client_order_id is None


def test_fill_from_rest_and_from_websocket() -> None:
    fill = Fill.from_wire(fill_json())
    assert (fill.price, fill.count, fill.fee, fill.ts_ms) == (
        D("0.46"),
        D(3),
        D("0.02"),
        1780114863000,
    )
    ws = Fill.from_wire(
        {
            "trade_id": "t-1",
            "order_id": "o-1",
            "client_order_id": "my-order-1",
            "market_ticker": "KXSOL15M-26MAY300015-15",
            "is_taker": False,
            "side": "no",
            "yes_price_dollars": "0.7500",
            "count_fp": "278.00",
            "fee_cost": "0.010000",
            "action": "buy",
            "outcome_side": "no",
            "book_side": "ask",
            "exchange_index": 2,
            "ts": 1671899397,
            "ts_ms": 1671899397123,
            "post_position_fp": "-500.00",
        }
    )
    assert ws.ticker == "KXSOL15M-26MAY300015-15"
    assert ws.no_price == D("0.25")  # derived: the WS fill carries only the YES price
    assert ws.price == D("0.25")
    assert ws.ts_ms == 1671899397123
    assert ws.fill_id == "t-1"
    assert ws.post_position == D(-500)
    assert (ws.side, ws.action, ws.exchange_index) == ("no", "buy", 2)


def test_position_negative_means_no() -> None:
    position = MarketPosition.from_wire(
        {
            "ticker": "T",
            "total_traded_dollars": "5.0000",
            "position_fp": "-7.00",
            "market_exposure_dollars": "3.5000",
            "realized_pnl_dollars": "-0.2500",
            "resting_orders_count": 0,
            "fees_paid_dollars": "0.1400",
            "last_updated_ts": "2026-05-30T04:02:00Z",
        }
    )
    assert position.position == D(-7)
    assert position.realized_pnl == D("-0.25")


def test_balance_cents_to_dollars() -> None:
    balance = Balance.from_wire({"balance": 123456, "portfolio_value": 789, "updated_ts": 1})
    assert balance.balance == D("1234.56")
    assert balance.portfolio_value == D("7.89")
    with pytest.raises(ParseError, match=r"Balance\.balance"):
        Balance.from_wire({"balance": "1234.56", "portfolio_value": 0, "updated_ts": 1})


def test_orderbook_snapshot() -> None:
    snapshot = OrderbookSnapshot.from_wire(
        {"orderbook_fp": {"yes_dollars": [["0.4200", "13.00"]], "no_dollars": []}}, "T"
    )
    assert snapshot.yes == (PriceLevel(D("0.42"), D(13)),)
    assert snapshot.no == ()
    with pytest.raises(ParseError):
        OrderbookSnapshot.from_wire({"orderbook_fp": {"yes_dollars": [["0.42"]]}}, "T")
    with pytest.raises(ParseError, match="orderbook_fp"):
        OrderbookSnapshot.from_wire({"orderbook": {}}, "T")


def test_to_decimal_takes_numbers_through_their_text() -> None:
    assert to_decimal(0.1) == D("0.1")
    assert to_decimal(7) == D(7)
    with pytest.raises(ValueError, match="boolean"):
        to_decimal(True)


def _legacy(raw: dict[str, object]) -> dict[str, object]:
    for key in ("outcome_side", "book_side", "exchange_index"):
        raw.pop(key, None)
    return raw


@pytest.mark.parametrize(
    ("side", "action", "outcome", "book", "price"),
    [
        ("yes", "buy", "yes", "bid", "0.45"),
        ("no", "sell", "yes", "bid", "0.55"),
        ("no", "buy", "no", "ask", "0.55"),
        ("yes", "sell", "no", "ask", "0.45"),
    ],
)
def test_order_direction_from_new_fields_with_legacy_tiebreak(
    side: str, action: str, outcome: str, book: str, price: str
) -> None:
    raw = order_json(side=side, action=action, outcome_side=outcome, book_side=book)
    order = Order.from_wire(raw)
    assert (order.side, order.action) == (side, action)
    assert (order.outcome_side, order.book_side) == (outcome, book)
    assert order.price == D(price)  # YES 0.45 / NO 0.55 on the wire
    assert order.exchange_index == 0
    legacy = Order.from_wire(_legacy(order_json(side=side, action=action)))
    assert (legacy.side, legacy.action, legacy.outcome_side) == (side, action, outcome)
    assert legacy.exchange_index is None


def test_order_prefers_the_new_fields_over_contradicting_legacy_ones() -> None:
    # The legacy pair says "buy YES" but the exchange says the exposure is NO.
    order = Order.from_wire(
        order_json(side="yes", action="buy", outcome_side="no", book_side="ask")
    )
    assert (order.side, order.action, order.book_side) == ("no", "buy", "ask")
    assert order.price == D("0.55")
    new_only = order_json(outcome_side="no", book_side="ask")
    del new_only["side"], new_only["action"]
    assert (Order.from_wire(new_only).side, Order.from_wire(new_only).action) == ("no", "buy")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"outcome_side": "yes", "book_side": "ask"}, "contradicts"),
        ({"book_side": "middle"}, "unknown book_side"),
        ({"outcome_side": "maybe"}, "unknown outcome_side"),
    ],
)
def test_inconsistent_or_unknown_direction_is_a_parse_error(
    overrides: dict[str, object], message: str
) -> None:
    with pytest.raises(ParseError, match=message):
        Order.from_wire(order_json(**overrides))
    with pytest.raises(ParseError, match=message):
        Fill.from_wire(fill_json(**overrides))


def test_order_without_any_direction_is_a_parse_error() -> None:
    raw = _legacy(order_json())
    del raw["action"]
    with pytest.raises(ParseError, match="no direction"):
        Order.from_wire(raw)


def test_order_carries_order_group_and_fees_to_six_decimals() -> None:
    order = Order.from_wire(
        order_json(order_group_id="og-1", taker_fees_dollars="0.017400", exchange_index=3)
    )
    assert (order.order_group_id, order.exchange_index) == ("og-1", 3)
    assert order.taker_fees == D("0.0174")
    fill = Fill.from_wire(fill_json(fee_cost="0.000170"))
    assert fill.fee == D("0.00017")
    with pytest.raises(ParseError, match=r"Fill\.fee_cost"):
        Fill.from_wire(fill_json(fee_cost="0.0000001"))


def test_fill_directions_in_the_four_ways() -> None:
    cases = [
        ("yes", "buy", "yes", "bid"),
        ("no", "sell", "yes", "bid"),
        ("no", "buy", "no", "ask"),
        ("yes", "sell", "no", "ask"),
    ]
    for side, action, outcome, book in cases:
        fill = Fill.from_wire(
            fill_json(side=side, action=action, outcome_side=outcome, book_side=book)
        )
        assert (fill.side, fill.action, fill.outcome_side, fill.book_side) == (
            side,
            action,
            outcome,
            book,
        )
        assert fill.price == (D("0.46") if side == "yes" else D("0.54"))
        legacy = Fill.from_wire(_legacy(fill_json(side=side, action=action)))
        assert (legacy.side, legacy.action) == (side, action)


def test_settlement_and_position_exchange_index() -> None:
    settlement = PortfolioSettlement.from_wire(
        {
            "ticker": "T",
            "exchange_index": 0,
            "event_ticker": "E",
            "market_result": "no",
            "yes_count_fp": "0.00",
            "yes_total_cost_dollars": "0.0000",
            "no_count_fp": "3.00",
            "no_total_cost_dollars": "1.650000",
            "revenue": 300,
            "settled_time": "2026-05-30T04:20:00Z",
            "fee_cost": "0.034000",
            "value": 0,
        }
    )
    assert settlement.revenue == D(3) and settlement.no_total_cost == D("1.65")
    assert settlement.fee_cost == D("0.034") and settlement.exchange_index == 0
    with pytest.raises(ParseError, match=r"Settlement\.market_result"):
        PortfolioSettlement.from_wire({"ticker": "T", "event_ticker": "E", "market_result": "x"})
