"""``run.py export``: trades, fills and settlements from the ledger as CSV or JSON.

For taxes and analysis: every money value is the exact decimal the exchange
reported (no float rounding), every time is given both as ISO 8601 UTC and as
Unix seconds. The ledger is only read; an export never creates or migrates it.

    python run.py export --since 2026-01-01 --format csv [--table fills] [--mode all]

Rows are those of one mode (``--mode``; by default the mode ``run.py`` starts in,
whose ledger is read) and carry ``mode`` and ``env`` columns; ``--mode all`` takes
every mode a shared ledger holds. Numbers follow :mod:`messages.formats`.
"""

from __future__ import annotations

import argparse
import csv
import functools
import io
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import sqlalchemy as sa

from messages.formats import json_default, normalize_row, parse_since
from storage.database import Database, open_database
from storage.errors import LedgerError
from storage.migrate import check, reason_of
from storage.schema import (
    ALL_MODES,
    MODES,
    SCOPE_COLUMNS,
    UNKNOWN,
    exported,
    fills,
    of_mode,
    orders,
    settlements,
)

EXIT_OK = 0
EXIT_USAGE = 2
TABLES = ("trades", "fills", "settlements")
SCOPE_VERSION = 4  # the schema version whose rows carry mode and env

TRADE_COLUMNS = exported(orders, orders.c.created_at)
FILL_COLUMNS = exported(fills, fills.c.ts)
SETTLEMENT_COLUMNS = exported(settlements, settlements.c.ts)
COLUMNS = {"trades": TRADE_COLUMNS, "fills": FILL_COLUMNS, "settlements": SETTLEMENT_COLUMNS}


def parse_time(text: str) -> float:
    """``--since``/``--until``: read as the REST API reads ``since``."""
    try:
        return parse_since(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).isoformat().replace("+00:00", "Z")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="run.py export",
        description="Export trades (orders), fills and settlements from the ledger. JSON holds "
        "all three (or the one --table names); CSV holds one table (default: fills).",
    )
    parser.add_argument(
        "--since", type=parse_time, required=True, metavar="DATE", help="from this date (UTC)"
    )
    parser.add_argument(
        "--until", type=parse_time, metavar="DATE", help="up to (not including) this date"
    )
    parser.add_argument("--format", choices=("csv", "json"), required=True, help="csv or json")
    parser.add_argument("--table", choices=TABLES, help="only this table (CSV default: fills)")
    parser.add_argument("--db", metavar="URL", help="database URL (overrides DATABASE_URL)")
    parser.add_argument(
        "--mode",
        choices=(ALL_MODES, *MODES),
        help="whose rows (default: the mode run.py starts in, whose ledger is read; "
        "all of them with --db)",
    )
    parser.add_argument("--output", type=Path, metavar="FILE", help="write here (default: stdout)")
    parser.add_argument(
        "--env-file", default=".env", metavar="FILE", help="settings file to read (default: .env)"
    )
    return parser


@dataclass(frozen=True, slots=True)
class Window:
    """Which rows: from ``since`` up to ``until``, of ``mode`` (or all), in a ledger whose
    rows carry their mode (``scoped``: schema version 4 or later) or not."""

    since: float
    until: float | None = None
    mode: str = ALL_MODES
    scoped: bool = True


def _select(table: sa.Table, ts: sa.Column[Any], window: Window) -> Any:
    """``table``'s rows in ``window``, with their mode and env (``unknown`` before v4)."""
    plain = [c for c in table.columns if c.name not in SCOPE_COLUMNS]
    if window.scoped:
        scope: list[Any] = [table.c.mode, table.c.env]
    else:
        scope = [sa.literal(UNKNOWN).label(name) for name in SCOPE_COLUMNS]
    condition = ts >= window.since
    if window.until is not None:
        condition = sa.and_(condition, ts < window.until)
    stmt = sa.select(*plain, *scope).where(condition)
    if window.scoped:
        stmt = stmt.where(of_mode(table, window.mode))
    return stmt


@dataclass(frozen=True, slots=True)
class _Source:
    """Where a table of the export comes from: its ledger table, time and order."""

    table: sa.Table
    ts: sa.Column[Any]
    order: tuple[sa.Column[Any], ...]
    columns: tuple[str, ...]  # the export's columns: time, ts, then the table's own


SOURCES = {
    "trades": _Source(
        orders, orders.c.created_at, (orders.c.created_at, orders.c.client_order_id), TRADE_COLUMNS
    ),
    "fills": _Source(fills, fills.c.ts, (fills.c.ts, fills.c.trade_id), FILL_COLUMNS),
    "settlements": _Source(
        settlements, settlements.c.ts, (settlements.c.ts, settlements.c.ticker), SETTLEMENT_COLUMNS
    ),
}


def rows(
    name: str,
    conn: sa.Connection,
    since: float,
    until: float | None = None,
    *,
    mode: str = ALL_MODES,
    scoped: bool = True,
) -> Iterator[dict[str, Any]]:
    """The export's table ``name`` (trades, fills, settlements), oldest first."""
    source = SOURCES[name]
    stmt = _select(source.table, source.ts, Window(since, until, mode, scoped))
    for r in conn.execute(stmt.order_by(*source.order)).mappings():
        ts = r[source.ts.name]
        yield {"time": _iso(ts), "ts": ts, **{c: r[c] for c in source.columns[2:]}}


trade_rows = functools.partial(rows, "trades")
fill_rows = functools.partial(rows, "fills")
settlement_rows = functools.partial(rows, "settlements")


def export(db: Database, tables: Sequence[str], fmt: str, window: Window) -> bytes:
    """The export as bytes (UTF-8)."""
    with db.engine.connect() as conn:
        data = {
            name: [
                normalize_row(row)
                for row in rows(
                    name, conn, window.since, window.until, mode=window.mode, scoped=window.scoped
                )
            ]
            for name in tables
        }
    if fmt == "json":
        until = None if window.until is None else _iso(window.until)
        body = {"since": _iso(window.since), "until": until, "mode": window.mode, **data}
        return orjson.dumps(body, default=json_default, option=orjson.OPT_INDENT_2) + b"\n"
    [name] = tables
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=COLUMNS[name], lineterminator="\n")
    writer.writeheader()
    writer.writerows(data[name])
    return text.getvalue().encode()


SettingsLedger = Callable[[str, str | None], tuple[str, str]]
"""(settings file, ``--mode``) → (URL, mode): the ledger the settings name (``config.ledger``)."""


def _ledger(args: argparse.Namespace, from_settings: SettingsLedger | None) -> tuple[str, str]:
    """The URL to read and the mode to export: ``--db`` is read whole unless ``--mode`` says;
    otherwise the ledger of ``--mode`` (default: the mode ``run.py`` starts in)."""
    if args.db:
        return str(args.db), args.mode or ALL_MODES
    if from_settings is None:
        raise SystemExit("run.py export: give --db URL (this caller reads no settings)")
    return from_settings(args.env_file, args.mode)


def main(argv: Sequence[str], from_settings: SettingsLedger | None = None) -> int:
    """``run.py export``; ``from_settings`` finds the ledger when no ``--db`` is given (the
    settings live above storage, so the caller passes their reader in)."""
    args = build_parser().parse_args(list(argv))
    if args.until is not None and args.until <= args.since:
        print("run.py export: --until must be after --since", file=sys.stderr)
        return EXIT_USAGE
    tables: tuple[str, ...] = (args.table,) if args.table else TABLES
    if args.format == "csv" and not args.table:
        tables = ("fills",)
    try:
        url, mode = _ledger(args, from_settings)
    except SystemExit as exc:
        print(exc.code, file=sys.stderr)
        return EXIT_USAGE
    db: Database | None = None
    try:
        if url.startswith("sqlite") and not _sqlite_file_exists(url):
            print(f"run.py export: no ledger at {url}", file=sys.stderr)
            return EXIT_USAGE
        db = open_database(url)
        scoped = check(db) >= SCOPE_VERSION
        if not scoped:
            print(
                f"run.py export: {db.safe_url} predates history per mode: every row is "
                "exported, with mode 'unknown' (the bot labels them when it next starts on it)",
                file=sys.stderr,
            )
        window = Window(args.since, args.until, mode, scoped)
        output = export(db, tables, args.format, window)
    except LedgerError as exc:
        print(f"run.py export: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except sa.exc.SQLAlchemyError as exc:
        print(f"run.py export: cannot read the ledger: {reason_of(exc)}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        if db is not None:
            db.dispose()
    if args.output is None:
        sys.stdout.buffer.write(output)
        sys.stdout.flush()
    else:
        args.output.write_bytes(output)
    return EXIT_OK


def _sqlite_file_exists(url: str) -> bool:
    database = sa.make_url(url).database
    return bool(database) and Path(str(database)).is_file()
