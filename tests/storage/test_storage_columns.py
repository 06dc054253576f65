"""The ledger's column lists come from ``storage.schema``: one place names each column."""

from __future__ import annotations

from decimal import Decimal

import pytest

from messages.trading import Fill
from storage import schema
from storage.export import COLUMNS
from storage.journal import FILL, ROW_KEYS, row_of


def _fill() -> Fill:
    return Fill(
        trade_id="t1",
        order_id="o1",
        client_order_id="c1",
        ticker="KXSOL15M-26JAN011200-00",
        side="yes",
        action="buy",
        count=3,
        price=Decimal("0.56"),
        fee=Decimal("0.0300"),
        is_taker=True,
        timestamp=1_700_000_000.0,
        strategy_name="kelly_volatility",
    )


def test_a_row_takes_each_column_from_the_field_of_its_name_and_money_as_text() -> None:
    row = row_of(_fill(), FILL, ts=1.5)
    assert tuple(row) == ROW_KEYS[FILL] == schema.row_columns(schema.fills)
    assert (row["price"], row["fee"], row["ts"], row["count"]) == ("0.5600", "0.0300", 1.5, 3)


def test_a_value_for_a_column_the_table_lacks_is_refused() -> None:
    with pytest.raises(KeyError, match="no such columns: \\['timestamp'\\]"):
        row_of(_fill(), FILL, timestamp=1.5)


def test_the_export_shows_every_column_but_those_the_schema_leaves_out() -> None:
    hidden = {c.name for c in schema.orders.columns if c.info.get("exported") is False}
    assert hidden == {"signal_id", "time_in_force", "reduce_only", "origin", "updated_at"}
    assert COLUMNS["fills"][:3] == ("time", "ts", "trade_id")
    assert "strategy_name" in COLUMNS["trades"] and not hidden & set(COLUMNS["trades"])
