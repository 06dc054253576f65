"""The session summary counts what the ledger recorded, not what the current actor
incarnations remember (a crashed order actor used to take its counts with it)."""

from __future__ import annotations

import io
from decimal import Decimal as D

from actors.ledger import LEDGER, Flush
from app.summary import SessionSummary
from risk.limits import RiskLimits
from runtime.faults import crash
from storage.history import LedgerHistory
from tests.actors.pipeline_rig import Fire, running_pipeline

LIMITS = RiskLimits(
    max_position_size=D(20),
    max_daily_loss=D(100),
    circuit_breaker_pct=D("0.5"),
    max_concurrent_positions=2,
    min_edge=D("0.03"),
    max_orders_per_minute=60,
)


def _lines(text: str) -> dict[str, str]:
    return dict(line.strip().split(": ", 1) for line in text.splitlines() if line.startswith("  "))


def test_the_summary_counts_every_incarnation_of_the_order_actor() -> None:
    with running_pipeline(LIMITS) as p:
        assert p.database is not None
        since = p.clock.now()
        history = LedgerHistory(p.database, flush=lambda: p.system.ask(LEDGER, Flush(), timeout=10))
        [first] = p.fire(Fire(p.ticker, quantity=2))
        assert p.decision_for(first).approved
        p.wait_fills_published()
        crash(p.system, "order")  # its next incarnation starts its counters at zero
        p.settle()
        p.fresh_market_data()
        [second] = p.fire(Fire(p.ticker, quantity=1))
        assert p.decision_for(second).approved
        p.wait_fills_published()
        out = io.StringIO()
        SessionSummary(history, since, out=out)(p.system)
        exchange_fills = len(p.exchange_fills())
        exchange_orders = len(p.exchange_orders())
    summary = _lines(out.getvalue())
    assert summary["signals sent to risk"] == "2"
    assert summary["orders"].startswith(f"{exchange_orders} (")
    assert exchange_orders == 2
    assert summary["fills"] == str(exchange_fills)
    assert summary["P&L today"].startswith("$")
