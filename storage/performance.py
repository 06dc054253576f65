"""The ledger's fills, settlements and entry edges, read for :mod:`accounting.performance`.

``/api/performance`` is computed from these on every call (off the hub's loop): the
ledger is the record that survives restarts, so the figures do too.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from accounting.performance import compute, report
from messages.trading import Fill, Settlement
from storage.database import Database
from storage.history import LedgerHistory
from storage.schema import daily_pnl, fills, orders, positions, settlements, signals


def _fill(row: Any) -> Fill:
    return Fill(
        row.trade_id,
        row.order_id or "",
        row.client_order_id,
        row.ticker,
        row.side,
        row.action,
        int(row.count),
        Decimal(row.price),
        Decimal(row.fee),
        bool(row.is_taker),
        float(row.ts),
        row.strategy_name or "",
    )


def _settlement(row: Any) -> Settlement:
    return Settlement(
        row.ticker,
        row.result,
        int(row.yes_contracts),
        int(row.no_contracts),
        Decimal(row.payout),
        float(row.ts),
    )


class LedgerPerformance(LedgerHistory):
    """Reads what the performance report needs, through the history reader's pooled
    connection (flushed first; a database error is ``HistoryUnavailable``, a 503)."""

    def __init__(
        self,
        database: Database,
        bankroll: Decimal,
        flush: Callable[[], object] | None = None,
    ) -> None:
        super().__init__(database, flush=flush)
        self.bankroll = bankroll  # the starting balance when the ledger has no day recorded

    def report(self) -> dict[str, Any]:
        with self._connect() as conn:
            # the mode the bot runs in: a ledger shared by modes never mixes their P&L
            found = [
                _fill(r) for r in conn.execute(sa.select(fills).where(self._mode(fills, None)))
            ]
            settled = [
                _settlement(r)
                for r in conn.execute(sa.select(settlements).where(self._mode(settlements, None)))
            ]
            edge_rows = conn.execute(
                sa.select(orders.c.client_order_id, signals.c.edge)
                .join(signals, signals.c.signal_id == orders.c.signal_id)
                .where(signals.c.edge.is_not(None), self._mode(orders, None))
            )
            edges = {r.client_order_id: Decimal(r.edge) for r in edge_rows}
            value_rows = conn.execute(
                sa.select(positions.c.ticker, positions.c.market_value).where(
                    positions.c.contracts > 0, positions.c.market_value.is_not(None)
                )
            )
            values = {r.ticker: Decimal(r.market_value) for r in value_rows}
            first = conn.execute(
                sa.select(daily_pnl.c.day_start_equity).order_by(daily_pnl.c.day).limit(1)
            ).scalar()
        start = Decimal(first) if first is not None else self.bankroll
        perf = compute(found, settled, starting_balance=start, edges=edges, values=values)
        return report(perf)
