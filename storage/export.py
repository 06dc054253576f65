"""``run.py export``: trades, fills and settlements from the ledger as CSV or JSON.

For taxes and analysis: every money value is the exact decimal the exchange
reported (no float rounding), every time is given both as ISO 8601 UTC and as
Unix seconds. The ledger is only read; an export never creates or migrates it.

    python run.py export --since 2026-01-01 --format csv [--table fills] [--output FILE]
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import sqlalchemy as sa

from storage.database import Database, open_database
from storage.errors import LedgerError
from storage.migrate import check, reason_of
from storage.schema import fills, orders, settlements

EXIT_OK = 0
EXIT_USAGE = 2
TABLES = ("trades", "fills", "settlements")

TRADE_COLUMNS = (
    "time",
    "ts",
    "client_order_id",
    "order_id",
    "ticker",
    "strategy_name",
    "side",
    "action",
    "quantity",
    "price",
    "status",
    "filled",
    "remaining",
    "fees",
    "reason",
)
FILL_COLUMNS = (
    "time",
    "ts",
    "trade_id",
    "order_id",
    "client_order_id",
    "ticker",
    "strategy_name",
    "side",
    "action",
    "count",
    "price",
    "fee",
    "is_taker",
)
SETTLEMENT_COLUMNS = ("time", "ts", "ticker", "result", "yes_contracts", "no_contracts", "payout")
COLUMNS = {"trades": TRADE_COLUMNS, "fills": FILL_COLUMNS, "settlements": SETTLEMENT_COLUMNS}


def parse_time(text: str) -> float:
    """``YYYY-MM-DD`` (midnight UTC) or an ISO 8601 time (UTC unless it says otherwise)."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not a date: {text!r} (use YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


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
    parser.add_argument("--output", type=Path, metavar="FILE", help="write here (default: stdout)")
    parser.add_argument(
        "--env-file", default=".env", metavar="FILE", help="settings file to read (default: .env)"
    )
    return parser


def _between(column: Any, since: float, until: float | None) -> Any:
    condition = column >= since
    return condition if until is None else sa.and_(condition, column < until)


def trade_rows(conn: sa.Connection, since: float, until: float | None) -> Iterator[dict[str, Any]]:
    stmt = (
        sa.select(orders)
        .where(_between(orders.c.created_at, since, until))
        .order_by(orders.c.created_at, orders.c.client_order_id)
    )
    for r in conn.execute(stmt):
        yield {
            "time": _iso(r.created_at),
            "ts": r.created_at,
            "client_order_id": r.client_order_id,
            "order_id": r.order_id,
            "ticker": r.ticker,
            "strategy_name": r.strategy_name,
            "side": r.side,
            "action": r.action,
            "quantity": r.quantity,
            "price": r.price,
            "status": r.status,
            "filled": r.filled,
            "remaining": r.remaining,
            "fees": r.fees,
            "reason": r.reason,
        }


def fill_rows(conn: sa.Connection, since: float, until: float | None) -> Iterator[dict[str, Any]]:
    stmt = (
        sa.select(fills)
        .where(_between(fills.c.ts, since, until))
        .order_by(fills.c.ts, fills.c.trade_id)
    )
    for r in conn.execute(stmt):
        yield {
            "time": _iso(r.ts),
            "ts": r.ts,
            "trade_id": r.trade_id,
            "order_id": r.order_id,
            "client_order_id": r.client_order_id,
            "ticker": r.ticker,
            "strategy_name": r.strategy_name,
            "side": r.side,
            "action": r.action,
            "count": r.count,
            "price": r.price,
            "fee": r.fee,
            "is_taker": bool(r.is_taker),
        }


def settlement_rows(
    conn: sa.Connection, since: float, until: float | None
) -> Iterator[dict[str, Any]]:
    stmt = (
        sa.select(settlements)
        .where(_between(settlements.c.ts, since, until))
        .order_by(settlements.c.ts, settlements.c.ticker)
    )
    for r in conn.execute(stmt):
        yield {
            "time": _iso(r.ts),
            "ts": r.ts,
            "ticker": r.ticker,
            "result": r.result,
            "yes_contracts": r.yes_contracts,
            "no_contracts": r.no_contracts,
            "payout": r.payout,
        }


READERS = {"trades": trade_rows, "fills": fill_rows, "settlements": settlement_rows}


def export(
    db: Database, tables: Sequence[str], fmt: str, since: float, until: float | None
) -> bytes:
    """The export as bytes (UTF-8)."""
    with db.engine.connect() as conn:
        data = {name: list(READERS[name](conn, since, until)) for name in tables}
    if fmt == "json":
        body = {"since": _iso(since), "until": None if until is None else _iso(until), **data}
        return orjson.dumps(body, option=orjson.OPT_INDENT_2) + b"\n"
    [name] = tables
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=COLUMNS[name], lineterminator="\n")
    writer.writeheader()
    writer.writerows(data[name])
    return text.getvalue().encode()


def _database_url(args: argparse.Namespace) -> str:
    if args.db:
        return str(args.db)
    from config.settings import ConfigError, load_settings

    try:
        return load_settings(args.env_file).database_url
    except ConfigError as exc:
        raise SystemExit("\n".join(f"config error: {line}" for line in exc.lines)) from None


def main(argv: Sequence[str]) -> int:
    args = build_parser().parse_args(list(argv))
    if args.until is not None and args.until <= args.since:
        print("run.py export: --until must be after --since", file=sys.stderr)
        return EXIT_USAGE
    tables: tuple[str, ...] = (args.table,) if args.table else TABLES
    if args.format == "csv" and not args.table:
        tables = ("fills",)
    try:
        url = _database_url(args)
    except SystemExit as exc:
        print(exc.code, file=sys.stderr)
        return EXIT_USAGE
    db: Database | None = None
    try:
        if url.startswith("sqlite") and not _sqlite_file_exists(url):
            print(f"run.py export: no ledger at {url}", file=sys.stderr)
            return EXIT_USAGE
        db = open_database(url)
        check(db)
        output = export(db, tables, args.format, args.since, args.until)
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
