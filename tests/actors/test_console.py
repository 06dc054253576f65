"""The console under LOG_LEVEL=INFO: a line per decision, order and fill, and a status line;
and a start-up that leaves no dead letters."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

import pytest
from loguru import logger

from actors.console import CONSOLE, ConsoleReporter, ended_short
from app.bot import ledger_flush
from messages.ledger import LEDGER
from messages.queries import FlushLines, WriteStatusLine
from messages.trading import Fill, OrderUpdate
from messages.vocabulary import OrderStatus
from runtime.address import ActorUnavailable
from runtime.supervisor import ChildSpec
from runtime.system import ActorSystem
from tests.actors.pipeline_rig import SMALL_LIMITS, Fire, running_pipeline


@contextmanager
def console_lines() -> Iterator[list[str]]:
    lines: list[str] = []
    sink = logger.add(lambda m: lines.append(str(m).rstrip("\n")), level="INFO", format="{message}")
    try:
        yield lines
    finally:
        logger.remove(sink)


def test_a_line_per_decision_order_and_fill_and_a_status_line() -> None:
    console = (ChildSpec.of(CONSOLE, ConsoleReporter),)
    with console_lines() as lines, running_pipeline(SMALL_LIMITS, extra=console) as p:
        # the stream asks discovery for its markets before discovery has started: a probe
        assert p.system.dead_letters.kinds() == []
        [bought] = p.fire(Fire(p.ticker, quantity=2))
        [refused] = p.fire(Fire(p.ticker, quantity=1, edge=Decimal("0.001")))
        assert p.decision_for(bought).approved and not p.decision_for(refused).approved
        coid = next(i.client_order_id for i in p.intents() if i.signal_id == bought.signal_id)
        p.log.wait_until(
            lambda: any(u.status in ("executed", "canceled") for u in p.updates(coid)),
            what="the order to finish",
        )
        p.wait_fills_published()
        p.system.ask(CONSOLE, FlushLines(), timeout=10)
        p.system.ask(CONSOLE, WriteStatusLine(), timeout=10)
        fills = [f for f in p.log.of(Fill) if f.client_order_id == coid]
        last: OrderUpdate = p.updates(coid)[-1]

    said = [line for line in lines if line.startswith(("signal ", "order ", "fill ", "status:"))]
    signals = [line for line in said if line.startswith("signal ")]
    assert signals == [
        f"signal pipeline-test {p.ticker}: buy yes 2 @ ${bought.market_price}, model 0.900,"
        " edge $0.3000 → approved 2",
        f"signal pipeline-test {p.ticker}: buy yes 1 @ ${refused.market_price}, model 0.900,"
        " edge $0.0010 → rejected: edge_below_minimum",
    ]
    orders = [line for line in said if line.startswith(f"order {coid[:8]}")]
    assert orders[0] == (
        f"order {coid[:8]} pipeline-test {p.ticker}: buy yes 2 @ ${bought.market_price}"
        " (immediate_or_cancel)"
    )
    if last.filled < 2:  # an IOC that ended short says so
        assert orders[1:] == [f"order {coid[:8]} {last.status}: filled {last.filled} of 2"]
    else:
        assert orders[1:] == []
    assert [line for line in said if line.startswith("fill ")] == [
        f"fill pipeline-test {p.ticker}: buy yes {f.count} @ ${f.price}, fee ${f.fee} (taker)"
        for f in fills
    ]
    first = said.index(signals[0])
    assert said[first + 1] == orders[0]  # the decision, then its order
    [status] = [line for line in said if line.startswith("status:")]
    assert re.match(
        r"status: trading running · day P&L -?\$\d+\.\d\d · exposure \$\d+\.\d\d · 1 positions · ",
        status,
    )
    contracts = sum(f.count for f in fills)
    assert status.endswith(
        f"session: 2 signals (1 approved), 1 orders, {len(fills)} fills ({contracts} contracts)"
    )


def test_an_order_that_ends_short_says_how_far_it_got() -> None:
    def update(status: OrderStatus, filled: int, reason: str = "") -> OrderUpdate:
        return OrderUpdate(
            "c0ffee00-1", "o-1", "KX-1", "yes", "buy", status, filled, 0, Decimal("0.5"), "s", 1.0,
            reason=reason, count=22,
        )  # fmt: skip

    line = ended_short(update(OrderStatus.CANCELED, 5), 22)
    assert (
        line is not None and line[0].format(*line[1:]) == "order c0ffee00 canceled: filled 5 of 22"
    )
    line = ended_short(update(OrderStatus.REJECTED, 0, "insufficient_balance"), 0)
    assert line is not None
    assert (
        line[0].format(*line[1:]) == "order c0ffee00 rejected: filled 0 of ? (insufficient_balance)"
    )
    assert ended_short(update(OrderStatus.EXECUTED, 22), 22) is None


def test_reading_history_before_the_ledger_starts_leaves_no_dead_letter() -> None:
    """The dashboard may read the ledger's history before the ledger actor is up."""
    system = ActorSystem()
    with pytest.raises(ActorUnavailable):
        ledger_flush(system, 1.0)()
    assert system.address(LEDGER).sent == 1 and system.dead_letters.total == 0
