"""The backtest drives the execution core the live OrderActor drives, and keeps no order
logic of its own: if ``backtest/session.py`` grows its own order states, netting or
settlement again, these fail."""

from __future__ import annotations

import ast
import dataclasses
import inspect
from decimal import Decimal as D
from typing import Any

import backtest.session as session_module
from backtest.params import ExecParams, RiskParams
from backtest.session import Session
from execution.paper import PaperBroker
from execution.tracker import OrderTracker
from messages.market_data import BookUpdate, MarketLifecycle, SpotTick
from messages.trading import Signal
from messages.vocabulary import OrderStatus
from strategies.base import Strategy
from tests.backtest.backtest_builders import START
from tests.strategies.strategy_builders import book, market

SOURCE = inspect.getsource(session_module)
TREE = ast.parse(SOURCE)
ORDER_LOGIC = {  # what the execution core owns
    "TERMINAL",
    "OPEN",
    "TRANSITIONS",
    "is_news",
    "check_transition",
    "signed_change",
    "settlement_payout",
    "taker_fee",
}


def _docstrings() -> set[int]:
    found = set()
    for node in ast.walk(TREE):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def test_the_session_spells_no_order_state_of_its_own() -> None:
    docs = _docstrings()
    states = {s.value for s in OrderStatus}
    spelled = {
        node.value
        for node in ast.walk(TREE)
        if isinstance(node, ast.Constant) and id(node) not in docs and node.value in states
    }
    assert spelled == set(), f"order states spelled in backtest/session.py: {spelled}"
    attributes = {node.attr for node in ast.walk(TREE) if isinstance(node, ast.Attribute)}
    assert "status" not in attributes, "the session reads order states itself"


def test_the_session_imports_no_order_logic_and_defines_no_order_record() -> None:
    imported = {
        alias.name
        for node in ast.walk(TREE)
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }
    assert imported & ORDER_LOGIC == set()
    assert "order_state" not in SOURCE
    for node in ast.walk(TREE):
        if isinstance(node, ast.ClassDef):
            cls = getattr(session_module, node.name)
            if dataclasses.is_dataclass(cls):
                names = {f.name for f in dataclasses.fields(cls)}
                assert not names & {"status", "filled", "remaining"}, node.name


class _Buyer(Strategy):
    """Buys 2 YES at the ask on the first book of each market."""

    name = "test_tracker_buyer"

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.done: set[str] = set()

    def on_spot(self, tick: SpotTick) -> list[Signal]:
        return []

    def on_book(self, update: BookUpdate) -> list[Signal]:
        if update.ticker in self.done or update.yes_ask is None:
            return []
        self.done.add(update.ticker)
        return [
            Signal(
                signal_id=self.next_signal_id(update.ticker, update.ts),
                strategy_name=self.name,
                ticker=update.ticker,
                direction="yes",
                edge=D("0.2"),
                model_prob=D("0.9"),
                market_price=update.yes_ask,
                quantity=2,
                timestamp=update.ts,
            )
        ]


def test_the_session_trades_through_the_shared_tracker_and_paper_broker() -> None:
    session = Session([_Buyer()], RiskParams(), ExecParams(latency_seconds=0))
    assert type(session.tracker) is OrderTracker and type(session.broker) is PaperBroker
    ticker = "KXSOL15M-25MAR030015-15"
    open_ = float(START)
    session.market_info(
        market(ticker, strike=D("100"), open_time=open_, close_time=open_ + 900), open_
    )
    session.spot_tick(SpotTick("SOLUSD_RTI", D("100.10"), open_ + 1))
    session.book_update(book(open_ + 1, [("0.38", 50)], [("0.40", 10)], ticker=ticker))
    assert session.counters.fills == session.tracker.fills_booked == 1
    assert session.tracker.position(ticker) == 2
    [order] = list(session.tracker)
    assert (order.status, order.filled) == ("executed", 2)
    settled = open_ + 902
    session.lifecycle(MarketLifecycle(ticker, "settled", settled, "yes", D("100.2")), settled)
    assert session.tracker.position(ticker) == 0 and len(session.tracker) == 0
    assert session.equity[-1].fees == D("0.0336")  # 0.07 × 2 × 0.40 × 0.60
