"""Builders for the risk tests: limits, market states, signals, fills and order updates."""

from __future__ import annotations

from decimal import Decimal as D
from itertools import count
from typing import cast

from messages.trading import Fill, OrderUpdate, Signal
from messages.vocabulary import Action, OrderStatus, Side
from risk import MarketState, RiskEngine, RiskLimits

NOW = 1_000_000.0
T1 = "KXSOL15M-26MAY300015-15"
T2 = "KXSOL15M-26MAY300030-30"
T3 = "KXSOL15M-26MAY300045-45"
# other series' markets closing with T1 (the same 15-minute window)
BTC1 = "KXBTC15M-26MAY300015-15"
ETH1 = "KXETH15M-26MAY300015-15"

LIMITS = RiskLimits(
    max_position_size=D(100),
    max_daily_loss=D(50),
    circuit_breaker_pct=D("0.20"),
    max_concurrent_positions=2,
    min_edge=D("0.03"),
    max_orders_per_minute=5,
)

_ids = count(1)


def engine(bankroll: str | int = 1000, **overrides: object) -> RiskEngine:
    limits = LIMITS if not overrides else RiskLimits(**{**_limit_values(), **overrides})  # type: ignore[arg-type]
    return RiskEngine(limits, D(bankroll))


def _limit_values() -> dict[str, object]:
    return {f: getattr(LIMITS, f) for f in LIMITS.__slots__}


def market(ticker: str = T1, now: float = NOW, **kw: object) -> MarketState:
    values: dict[str, object] = {
        "close_time": now + 600,
        "book_ts": now,
        "spot_ts": now,
        "yes_bid": D("0.49"),
        "yes_ask": D("0.51"),
    }
    values.update(kw)
    return MarketState(ticker, **values)  # type: ignore[arg-type]


def signal(
    ticker: str = T1,
    *,
    direction: str = "yes",
    quantity: int = 10,
    price: str = "0.50",
    edge: str = "0.05",
    action: str = "buy",
    strategy: str = "kelly_volatility",
    ts: float = NOW,
) -> Signal:
    return Signal(
        signal_id=f"sig-{next(_ids)}",
        strategy_name=strategy,
        ticker=ticker,
        direction=direction,
        edge=D(edge),
        model_prob=D("0.6"),
        market_price=D(price),
        quantity=quantity,
        timestamp=ts,
        action=action,
    )


def fill(
    order_id: str | None,
    count_: int,
    price: str,
    *,
    ticker: str = T1,
    side: str = "yes",
    action: str = "buy",
    fee: str = "0",
    ts: float = NOW,
) -> Fill:
    # the risk engine's reservations keep side and action as plain strings
    return Fill(
        trade_id=f"tr-{next(_ids)}",
        order_id=f"ex-{order_id}",
        client_order_id=order_id,
        ticker=ticker,
        side=cast(Side, side),
        action=cast(Action, action),
        count=count_,
        price=D(price),
        fee=D(fee),
        is_taker=True,
        timestamp=ts,
    )


def update(
    order_id: str,
    status: str,
    *,
    filled: int = 0,
    remaining: int = 0,
    ticker: str = T1,
    side: Side = "yes",
    action: Action = "buy",
    price: str = "0.50",
) -> OrderUpdate:
    return OrderUpdate(
        client_order_id=order_id,
        order_id=f"ex-{order_id}",
        ticker=ticker,
        side=side,
        action=action,
        status=OrderStatus(status),
        filled=filled,
        remaining=remaining,
        price=D(price),
        strategy_name="kelly_volatility",
        timestamp=NOW,
    )
