"""A restart of the trading branch (``rest_for_one``: ledger → risk → order) is not a shutdown.

Under ``--chaos`` a crash of the RiskActor (or the ledger) restarts the OrderActor after
it. The stopped OrderActor took that for an orderly shutdown: it pulled the session's
exchange-side kill switch, and its successor, seeing the order group triggered, halted
trading for good ("order_group_triggered"). The session goes on, so nothing may be
cancelled or triggered, and the next incarnation trades.
"""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from messages.status import Alert
from risk.limits import RiskLimits
from runtime.faults import crash
from tests.actors.pipeline_rig import Fire, running_pipeline

LIMITS = RiskLimits(
    max_position_size=D(30),
    max_daily_loss=D(100),
    circuit_breaker_pct=D("0.5"),
    max_concurrent_positions=2,
    min_edge=D("0.03"),
)


@pytest.mark.parametrize("victim", ["risk", "ledger"])
def test_a_restart_of_the_trading_branch_keeps_the_session_trading(victim: str) -> None:
    with running_pipeline(LIMITS, order_group_contracts=1000) as p:
        [first] = p.fire(Fire(p.ticker, quantity=1))
        assert p.decision_for(first).approved
        crash(p.system, victim)  # restarts the actors after it, the OrderActor among them
        p.settle()
        p.fresh_market_data()
        [second] = p.fire(Fire(p.ticker, quantity=1))
        assert p.decision_for(second).approved, p.risk_status()
        p.quiesce()
        sent = {i.client_order_id for i in p.intents()}
        assert len(sent) == 2
        assert sent <= {o.client_order_id for o in p.exchange_orders()}
        assert p.risk_status().trading_state == "running"
        assert not [a for a in p.log.of(Alert) if a.alert_type == "order_group_triggered"]
        groups = p.sim.call(lambda ex: ex.order_groups.of_user(p.sim.user_id))
        assert [g.triggered for g in groups] == [False]
