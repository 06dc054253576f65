"""Create or migrate the ledger's schema on start, and refuse any database that is not ours.

The version lives in ``schema_version``. An empty database gets the current
schema; an older one is migrated step by step; a newer one (written by a later
sol15) stops start-up, as does a database holding tables that are not a sol15
ledger, or a file that is not a database at all: those are never written to.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from storage.database import Database
from storage.errors import ForeignDatabase, LedgerUnavailable, SchemaTooNew
from storage.intent_file import check_intent_file
from storage.schema import (
    APP,
    LEDGER_TABLES,
    SCHEMA_VERSION,
    SCOPE_COLUMNS,
    SCOPED_TABLES,
    Scope,
    controls,
    metadata,
    schema_version,
    scoreboard,
)

SCOPE_INFO = "sol15.scope"  # ``Connection.info`` key: the Scope of the bot that migrates


@dataclass(frozen=True, slots=True)
class Migration:
    version: int  # the version this step brings the schema to
    description: str
    apply: Callable[[Connection], None]


def _create_v1(conn: Connection) -> None:
    metadata.create_all(conn, checkfirst=True)


def _create_v2(conn: Connection) -> None:
    controls.create(conn, checkfirst=True)


def _create_v3(conn: Connection) -> None:
    scoreboard.create(conn, checkfirst=True)


def _add_scope_v4(conn: Connection) -> None:
    """Give every history row its mode and exchange environment.

    Rows written before version 4 came from the one ledger every mode shared, and
    nothing in them says reliably which mode wrote them (simulator and Kalshi orders
    both carry UUIDs), so they get the scope of the bot that migrates the ledger: the
    operator who points ``DATABASE_URL`` at an old ledger chooses its mode by starting
    the bot in it. A migration run without a scope labels them ``unknown``
    (``?mode=all`` still shows them). No row is dropped or rewritten otherwise.
    """
    scope: Scope = conn.info.get(SCOPE_INFO, Scope())
    inspector = sa.inspect(conn)
    for table in SCOPED_TABLES:
        present = {c["name"] for c in inspector.get_columns(table.name)}
        for name in SCOPE_COLUMNS:
            if name not in present:  # a fresh ledger made them with the table (v1)
                conn.execute(sa.text(f"ALTER TABLE {table.name} ADD COLUMN {name} VARCHAR(40)"))
        conn.execute(
            table.update().where(table.c.mode.is_(None)).values(mode=scope.mode, env=scope.env)
        )
        for index in table.indexes:
            index.create(conn, checkfirst=True)


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "journal, signals, intents, orders, fills, settlements, positions, daily P&L, risk state",
        _create_v1,
    ),
    Migration(2, "operator controls (strategy switches) kept across restarts", _create_v2),
    Migration(
        3, "the live scoreboard: model and market at fixed moments of each window", _create_v3
    ),
    Migration(
        4, "history per mode: mode and exchange environment on every history row", _add_scope_v4
    ),
)


def reason_of(exc: BaseException) -> str:
    """The driver's own message, first line only (never the URL)."""
    inner = getattr(exc, "orig", None) or exc
    text = str(inner).strip().splitlines()
    return text[0] if text else type(inner).__name__


def connect(db: Database, engine: sa.Engine | None = None) -> Connection:
    """A connection, or the ledger error an operator can act on (unreachable, not a database)."""
    try:
        return (engine or db.engine).connect()
    except sa.exc.OperationalError as exc:
        raise LedgerUnavailable(
            f"cannot reach the database at DATABASE_URL {db.safe_url}: {reason_of(exc)}"
        ) from None
    except sa.exc.DBAPIError as exc:
        raise ForeignDatabase(
            f"DATABASE_URL {db.safe_url} is not a usable database (corrupt, or not "
            f"SQLite): {reason_of(exc)}; refusing to use it as the ledger"
        ) from None


def _foreign(db: Database, what: str) -> ForeignDatabase:
    return ForeignDatabase(
        f"DATABASE_URL {db.safe_url} {what}: it is not a sol15 ledger; refusing to use it "
        "(point DATABASE_URL at a new file or an empty database)"
    )


_ALL = dict(metadata.tables)


def _ours(conn: Connection, names: set[str], allowed: frozenset[str]) -> bool:
    """Every table present is one of ours with (at least) our columns: an interrupted creation."""
    inspector = sa.inspect(conn)
    for name in names:
        if name not in allowed:
            return False
        columns = {c["name"] for c in inspector.get_columns(name)}
        # mode and env came with version 4: a creation by an older sol15 lacks them
        if not set(_ALL[name].columns.keys()) - set(SCOPE_COLUMNS) <= columns:
            return False
    return True


def _allowed(db: Database) -> frozenset[str]:
    """Our tables."""
    return LEDGER_TABLES


def _installed(db: Database, conn: Connection) -> int | None:
    """The schema version in the database; None for an empty one."""
    names = set(sa.inspect(conn).get_table_names())
    if "schema_version" not in names:
        if names and not _ours(conn, names, _allowed(db)):
            shown = ", ".join(sorted(names)[:5]) + (", …" if len(names) > 5 else "")
            raise _foreign(db, f"already has tables ({shown})")
        return None
    try:
        rows = conn.execute(sa.select(schema_version.c.version, schema_version.c.app)).all()
    except sa.exc.DBAPIError:
        raise _foreign(db, "has a schema_version table of another shape") from None
    if not rows:
        return None
    if any(app != APP for _, app in rows):
        raise _foreign(db, "has a schema_version table written by another application")
    return max(int(version) for version, _ in rows)


def _check_complete(db: Database, conn: Connection) -> None:
    missing = LEDGER_TABLES - set(sa.inspect(conn).get_table_names())
    if missing:
        raise ForeignDatabase(
            f"DATABASE_URL {db.safe_url}: the ledger is incomplete (missing "
            f"{', '.join(sorted(missing))}); refusing to use it"
        )


def _too_new(db: Database, version: int) -> SchemaTooNew:
    return SchemaTooNew(
        f"DATABASE_URL {db.safe_url}: the ledger's schema is version {version}, newer than "
        f"this sol15 understands ({SCHEMA_VERSION}); upgrade sol15 (the ledger is left as is)"
    )


def check(db: Database) -> int:
    """Read-only: the ledger's schema version, or an error if it is not a usable sol15 ledger."""
    with connect(db) as conn:
        try:
            version = _installed(db, conn)
            if version is None:
                raise ForeignDatabase(f"DATABASE_URL {db.safe_url} holds no sol15 ledger")
            if version > SCHEMA_VERSION:
                raise _too_new(db, version)
            _check_complete(db, conn)
        except sa.exc.OperationalError as exc:
            raise LedgerUnavailable(f"cannot read {db.safe_url}: {reason_of(exc)}") from None
        except sa.exc.DBAPIError as exc:
            raise _foreign(db, f"cannot be read ({reason_of(exc)})") from None
        return version


def prepare(db: Database) -> int:
    """Connect, refuse what is not ours, create or migrate the schema; returns its version."""
    with connect(db) as conn:
        try:
            version = _installed(db, conn)
            conn.rollback()
        except sa.exc.OperationalError as exc:
            raise LedgerUnavailable(f"cannot read {db.safe_url}: {reason_of(exc)}") from None
        except sa.exc.DBAPIError as exc:
            raise _foreign(db, f"cannot be read ({reason_of(exc)})") from None
        if version is not None and version > SCHEMA_VERSION:
            raise _too_new(db, version)
        current = version or 0
        conn.info[SCOPE_INFO] = db.scope
        try:
            for step in MIGRATIONS:
                if step.version <= current:
                    continue
                with conn.begin():
                    step.apply(conn)
                    conn.execute(
                        schema_version.insert().values(
                            version=step.version,
                            app=APP,
                            applied_at=time.time(),
                            description=step.description,
                        )
                    )
                current = step.version
            _check_complete(db, conn)
        except sa.exc.OperationalError as exc:
            raise LedgerUnavailable(
                f"cannot create the ledger at {db.safe_url}: {reason_of(exc)}"
            ) from None
    check_intent_file(db.intents_path)  # the write-ahead log: ours, or not there yet
    return current


LEGACY_LEDGER = "sol15.db"  # the default ledger before version 4: every mode shared it


def legacy_notice(data_dir: Path, url: str) -> str | None:
    """What became of the old shared ledger, said once: when ``DATA_DIR/sol15.db`` exists and
    the default per-mode ledger ``url`` is about to be created. Nothing is moved or split
    (nothing in its rows tells the modes apart); the operator chooses."""
    old = data_dir / LEGACY_LEDGER
    new = sa.make_url(url).database if url.startswith("sqlite") else None
    if not old.is_file() or new is None or Path(new).exists():
        return None
    return (
        f"the ledger is now one file per mode ({new}); the old ledger {old}, shared by "
        f"every mode, is left as it is with all its rows. To go on with it in this mode, "
        f"set DATABASE_URL=sqlite:///{old.as_posix()} (its rows are then labeled with this "
        f"mode); to read it, run.py export --db sqlite:///{old.as_posix()} --mode all"
    )
