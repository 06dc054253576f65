"""INSERT … ON CONFLICT for SQLite and PostgreSQL through one helper (their Core APIs match)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import ColumnElement, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.dml import Insert


def _insert(dialect: str, table: Table) -> Any:
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise ValueError(f"no upsert for {dialect}")


def insert_ignore(dialect: str, table: Table, keys: Iterable[str]) -> Insert:
    """Insert rows whose key is new; rows whose key exists are left as they are."""
    stmt = _insert(dialect, table)
    result: Insert = stmt.on_conflict_do_nothing(index_elements=list(keys))
    return result


def upsert(
    dialect: str,
    table: Table,
    keys: Iterable[str],
    columns: Iterable[str],
    *,
    custom: Mapping[str, Any] | None = None,
    where: Any = None,
) -> Insert:
    """Insert, or on a key conflict set ``columns`` from the new row (``custom``: expressions
    of ``excluded`` instead); ``where`` (a function of ``excluded``) guards the update."""
    stmt = _insert(dialect, table)
    excluded = stmt.excluded
    values: dict[str, ColumnElement[Any]] = {name: excluded[name] for name in columns}
    for name, build in (custom or {}).items():
        values[name] = build(excluded)
    condition = where(excluded) if where is not None else None
    result: Insert = stmt.on_conflict_do_update(
        index_elements=list(keys), set_=values, where=condition
    )
    return result
