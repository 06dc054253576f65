"""Paper mode end to end: the exchange's market data, fills from the paper broker, nothing sent."""

from __future__ import annotations

from decimal import Decimal as D

from kalshi.fees import taker_fee
from messages.queries import GetPositions
from messages.trading import Fill
from tests.actors.pipeline_rig import SMALL_LIMITS, Fire, running_pipeline

LIMITS = SMALL_LIMITS


def test_paper_mode_fills_through_the_paper_broker_and_sends_nothing() -> None:
    with running_pipeline(LIMITS, paper=True) as p:
        [signal] = p.fire(Fire(p.ticker, quantity=2))
        assert p.decision_for(signal).approved
        p.quiesce()
        [intent] = [i for i in p.intents() if i.signal_id == signal.signal_id]
        coid = intent.client_order_id
        p.log.wait_until(
            lambda: any(u.status in ("executed", "canceled") for u in p.updates(coid)),
            what="the paper order to finish",
        )
        last = p.updates(coid)[-1]
        fills = [f for f in p.log.of(Fill) if f.client_order_id == coid]
        assert last.filled == sum(f.count for f in fills) > 0
        for fill in fills:  # walked from the live book, with Kalshi's taker fee
            assert fill.trade_id.startswith("paper-") and fill.is_taker
            assert fill.fee == taker_fee(fill.price, D(fill.count))
            assert fill.price <= intent.price
        assert last.fees == sum(f.fee for f in fills)
        # not one request reached the exchange: no order, no fill, no position there
        assert p.exchange_orders() == [] and p.exchange_fills() == []
        assert p.system.ask("order", GetPositions(), timeout=10) == {p.ticker: last.filled}
        status = p.risk_status()
        assert status.exposure > 0 and status.fees_paid == last.fees
