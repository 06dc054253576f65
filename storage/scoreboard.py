"""The live scoreboard's windows as the ledger keeps them (table ``scoreboard``, schema v3).

Read back whole at start: every settled window counts in the running score, and the
windows still open are taken up again where they were left.
"""

from __future__ import annotations

import sqlalchemy as sa

from messages.scoreboard import ScoreboardWindow
from storage.database import Database
from storage.errors import LedgerUnavailable
from storage.migrate import reason_of
from storage.schema import scoreboard


def load_windows(database: Database, market: str, model: str) -> list[ScoreboardWindow]:
    """Every window recorded for ``market`` and ``model``, in order of close.

    Raises :class:`LedgerUnavailable` when the ledger cannot be read."""
    c = scoreboard.c
    stmt = (
        sa.select(scoreboard)
        .where(c.market == market, c.model == model)
        .order_by(c.close_time, c.ticker)
    )
    try:
        with database.engine.connect() as conn:
            rows = conn.execute(stmt).all()
    except sa.exc.SQLAlchemyError as exc:
        raise LedgerUnavailable(f"cannot read the scoreboard: {reason_of(exc)}") from None
    return [
        ScoreboardWindow(
            row.ticker,
            row.market,
            row.model,
            row.open_time,
            row.close_time,
            row.outcome,
            row.settled_at,
            row.updated_at,
            row.snapshots,
            row.trades,
        )
        for row in rows
    ]
