"""A full window traded and settled against the simulator: the bot's P&L equals the exchange's, to the cent."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest

from actors.discovery import MarketDiscovery
from actors.market_stream import MarketStream
from actors.order import OrderActor
from actors.risk import RiskActor
from actors.spot_feed import SpotFeed
from kalshi.connection import ExchangeConnection
from messages.market_data import BookUpdate, MarketInfo, SpotTick
from messages.queries import GetStatus
from messages.status import RiskStatus
from messages.trading import Fill, OrderUpdate, Settlement, Signal
from risk.limits import RiskLimits
from runtime.actor import ActorContext, SupervisedActor
from runtime.bus import BOOK, FILLS, MARKETS, ORDERS, SPOT
from runtime.clock import SimClock
from runtime.quiescence import quiesce
from runtime.restart_policy import Strategy
from runtime.supervisor import ChildSpec, SupervisorSpec
from runtime.system import ActorSystem
from simulator.testing import SimHandle, running_exchange
from tests.actors.probe import Probe, ProbeLog


@dataclass(frozen=True, slots=True)
class Buy:
    side: str
    count: int


class SignalSource(SupervisedActor):
    """Buys at the best ask of the live market when told: the test decides when orders happen."""

    def __init__(self, context: ActorContext) -> None:
        super().__init__(context)
        self.books: dict[str, BookUpdate] = {}
        self.ids = itertools.count(1)

    def setup(self) -> None:
        self.subscribe(BOOK)

    def handle(self, message: Any) -> Any:
        if isinstance(message, BookUpdate):
            self.books[message.ticker] = message
        elif isinstance(message, Buy):
            book = max(self.books.values(), key=lambda b: b.ts)
            ask = book.yes_ask if message.side == "yes" else book.no_ask
            assert ask is not None
            self.system.tell(
                "risk",
                Signal(
                    signal_id=f"test-{next(self.ids)}",
                    strategy_name="test",
                    ticker=book.ticker,
                    direction=message.side,
                    edge=Decimal("0.10"),
                    model_prob=Decimal("0.5"),
                    market_price=ask,
                    quantity=message.count,
                    timestamp=self.clock.now(),
                ),
            )
        return None


@dataclass
class Bot:
    sim: SimHandle
    system: ActorSystem
    clock: SimClock
    log: ProbeLog

    def advance(self, seconds: float) -> None:
        self.sim.advance(seconds)
        self.clock.advance_to(self.sim.now())


@pytest.fixture
def bot() -> Iterator[Bot]:
    with running_exchange(seed=5, window_seconds=120) as sim:
        clock = SimClock(start=sim.now())
        system = ActorSystem(clock=clock, seed=2)
        connection = ExchangeConnection(sim.api_base, sim.ws_url, sim.signer(), rate_limited=False)
        log = ProbeLog()
        limits = RiskLimits(max_position_size=Decimal(100), max_book_age_seconds=30.0)
        tree = SupervisorSpec(
            "root",
            (
                ChildSpec.of("probe", Probe, (BOOK, SPOT, MARKETS, ORDERS, FILLS), log),
                SupervisorSpec(
                    "trading",
                    (
                        ChildSpec.of("risk", RiskActor, limits, connection),
                        ChildSpec.of("order", OrderActor, connection),
                    ),
                    strategy=Strategy.REST_FOR_ONE,
                ),
                SupervisorSpec(
                    "market-data",
                    (
                        ChildSpec.of("spot", SpotFeed),
                        ChildSpec.of("stream", MarketStream, connection),
                        ChildSpec.of("discovery", MarketDiscovery, connection, window_seconds=120),
                    ),
                ),
                ChildSpec.of("source", SignalSource),
            ),
        )
        system.start(tree)
        try:
            yield Bot(sim, system, clock, log)
        finally:
            system.shutdown()


def _trade_is(trade_id: str) -> Callable[[Fill], bool]:
    """A predicate bound to one trade id (a lambda in a loop would see only the last)."""
    return lambda f: f.trade_id == trade_id


def _trade(bot: Bot, side: str, count: int, number: int) -> OrderUpdate:
    bot.system.tell("source", Buy(side, count))
    return bot.log.wait_for(
        OrderUpdate,
        lambda u: (
            u.status in ("executed", "canceled")
            and len([x for x in bot.log.of(OrderUpdate) if x.status in ("executed", "canceled")])
            >= number
        ),
    )


def test_a_window_traded_and_settled_matches_the_exchange_to_the_cent(bot: Bot) -> None:
    ticker = bot.sim.current_ticker()
    bot.log.wait_for(MarketInfo, lambda m: m.ticker == ticker and m.tradeable)
    start_balance = bot.sim.balance()
    bot.advance(2)
    bot.log.wait_for(SpotTick, lambda t: not t.stale)
    bot.log.wait_for(BookUpdate, lambda u: u.ticker == ticker and u.yes_ask is not None)

    _trade(bot, "yes", 3, 1)
    bot.advance(5)
    now = bot.sim.now()
    bot.log.wait_for(SpotTick, lambda t: t.ts >= now - 1)  # this second's data has arrived
    quiesce(bot.system)
    _trade(bot, "no", 2, 2)
    exchange_fills = bot.sim.call(
        lambda ex: [f for f in ex.fills(bot.sim.user_id) if f.ticker == ticker]
    )
    assert exchange_fills, "the test trades did not fill at the exchange"
    for fill in exchange_fills:
        bot.log.wait_for(Fill, _trade_is(fill.fill_id))

    for _ in range(60):  # through close, determination and payout, 5 s at a time (bounded)
        bot.advance(5)
        if any(s.ticker == ticker for s in bot.log.of(Settlement)):
            break
    settlement = bot.log.wait_for(Settlement, lambda s: s.ticker == ticker)
    for _ in range(60):  # the exchange pays at finalization, a little after the result is known
        if bot.sim.call(
            lambda ex: [r for r in ex.settlements(bot.sim.user_id) if r.ticker == ticker]
        ):
            break
        bot.advance(5)
    quiesce(bot.system)

    end_balance = bot.sim.balance()
    status: RiskStatus = bot.system.ask("risk", GetStatus())
    # The exchange's own arithmetic: start − cost − fees + $1 per YES/NO pair netted + payout.
    cost = sum(
        (f.count * (f.yes_price if f.side == "yes" else 1 - f.yes_price) for f in exchange_fills),
        Decimal(0),
    )
    fees = sum((f.fee for f in exchange_fills), Decimal(0))
    yes = sum((f.count for f in exchange_fills if f.side == "yes"), Decimal(0))
    no = sum((f.count for f in exchange_fills if f.side == "no"), Decimal(0))
    assert settlement.yes_contracts - settlement.no_contracts == yes - no
    assert end_balance == start_balance - cost - fees + min(yes, no) + settlement.payout
    # The bot's books agree to the cent.
    assert status.open_positions == 0
    assert status.realized_pnl == end_balance - start_balance
    assert status.bankroll == end_balance
    assert status.fees_paid == fees
    booked = [f for f in bot.log.of(Fill) if f.ticker == ticker]
    assert sorted(f.trade_id for f in booked) == sorted(f.fill_id for f in exchange_fills)
