"""Builders for the market-data messages the strategy tests feed in."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal as D

from messages.market_data import BookUpdate, MarketInfo, SpotTick
from messages.trading import Fill
from messages.vocabulary import Action, Side

TICKER = "KXSOL15M-26MAY300015-15"
OPEN = 1_000_000.0
CLOSE = OPEN + 900.0


def market(
    ticker: str = TICKER,
    *,
    strike: D | None = D("75"),
    fee_multiplier: D | None = D(1),
    status: str = "active",
    open_time: float = OPEN,
    close_time: float = CLOSE,
) -> MarketInfo:
    return MarketInfo(
        ticker=ticker,
        event_ticker=ticker.rsplit("-", 1)[0],
        status=status,
        open_time=open_time,
        close_time=close_time,
        floor_strike=strike,
        fee_type="quadratic",
        fee_multiplier=fee_multiplier,
        tick_ranges=(
            (D("0"), D("0.1"), D("0.001")),
            (D("0.1"), D("0.9"), D("0.01")),
            (D("0.9"), D("1"), D("0.001")),
        ),
    )


def book(
    ts: float,
    yes_bids: Sequence[tuple[str, int]],
    yes_asks: Sequence[tuple[str, int]],
    *,
    ticker: str = TICKER,
    seq: int = 1,
    stale: bool = False,
) -> BookUpdate:
    """A book from YES bids and YES asks (best first); YES asks are NO bids at 1 − p."""
    ybids = tuple((D(p), D(s)) for p, s in yes_bids)
    nbids = tuple((D(1) - D(p), D(s)) for p, s in yes_asks)
    return BookUpdate(
        ticker=ticker,
        seq=seq,
        ts=ts,
        yes_bid=ybids[0][0] if ybids else None,
        yes_ask=D(1) - nbids[0][0] if nbids else None,
        no_bid=nbids[0][0] if nbids else None,
        no_ask=D(1) - ybids[0][0] if ybids else None,
        yes_bids=ybids,
        no_bids=nbids,
        stale=stale,
    )


def quote(ts: float, bid: str, ask: str, size: int = 20, **kw: object) -> BookUpdate:
    return book(ts, [(bid, size)], [(ask, size)], **kw)  # type: ignore[arg-type]


def spot(ts: float, price: str | float, *, stale: bool = False) -> SpotTick:
    return SpotTick(index="SOLUSD_RTI", price=D(str(price)), ts=ts, stale=stale)


def fill(
    side: Side,
    count: int,
    price: str,
    *,
    action: Action = "buy",
    ticker: str = TICKER,
    ts: float = OPEN,
    strategy: str = "",
    client_order_id: str | None = None,
    fee: str = "0",
) -> Fill:
    return Fill(
        trade_id=f"t-{side}-{count}-{price}-{ts}",
        order_id="o1",
        client_order_id=client_order_id,
        ticker=ticker,
        side=side,
        action=action,
        count=count,
        price=D(price),
        fee=D(fee),
        is_taker=True,
        timestamp=ts,
        strategy_name=strategy,
    )
