"""Creating and migrating the ledger's schema, and refusing databases that are not ours."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from storage import (
    Database,
    ForeignDatabase,
    LedgerUnavailable,
    SchemaTooNew,
    migrate,
    open_database,
    prepare,
)
from storage.errors import UnsupportedDatabase
from storage.migrate import MIGRATIONS, Migration, check
from storage.schema import SCHEMA_VERSION, controls, metadata, schema_version
from tests.storage.backends import Backend


def _tables(db: Database) -> set[str]:
    with db.engine.connect() as conn:
        return set(sa.inspect(conn).get_table_names())


def _versions(db: Database) -> list[int]:
    with db.engine.connect() as conn:
        return sorted(conn.execute(sa.select(schema_version.c.version)).scalars())


def test_an_empty_database_gets_the_current_schema_and_a_second_start_changes_nothing(
    backend: Backend,
) -> None:
    db = backend.open()
    try:
        assert prepare(db) == SCHEMA_VERSION
        assert _tables(db) == backend.tables
        assert prepare(db) == SCHEMA_VERSION
        assert _versions(db) == list(range(1, SCHEMA_VERSION + 1))
        assert check(db) == SCHEMA_VERSION
    finally:
        db.dispose()


def test_a_newer_schema_stops_start_up_with_a_clear_message(database: Database) -> None:
    with database.engine.begin() as conn:
        conn.execute(
            schema_version.insert().values(
                version=SCHEMA_VERSION + 1, app="sol15", applied_at=0.0, description="future"
            )
        )
    newer = rf"version {SCHEMA_VERSION + 1}, newer than this sol15 understands \({SCHEMA_VERSION}\)"
    with pytest.raises(SchemaTooNew, match=newer):
        prepare(database)
    with pytest.raises(SchemaTooNew, match="upgrade sol15"):
        check(database)


def test_an_older_schema_is_migrated_step_by_step(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    def add_notes(conn: sa.Connection) -> None:
        conn.execute(sa.text("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)"))

    step = Migration(SCHEMA_VERSION + 1, "notes", add_notes)
    monkeypatch.setattr(migrate, "MIGRATIONS", (*MIGRATIONS, step))
    monkeypatch.setattr(migrate, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    assert prepare(database) == SCHEMA_VERSION + 1
    assert "notes" in _tables(database)
    assert _versions(database) == list(range(1, SCHEMA_VERSION + 2))


def _ledger_at(db: Database, version: int, without: set[str]) -> None:
    """A ledger as an older sol15 left it: its tables (all but ``without``) and versions."""
    with db.engine.begin() as conn:
        for table in metadata.sorted_tables:
            if table.name not in without:
                table.create(conn)
        for n in range(1, version + 1):
            conn.execute(
                schema_version.insert().values(
                    version=n, app="sol15", applied_at=0.0, description=f"v{n}"
                )
            )


def test_a_version_1_ledger_gains_the_operators_switches_and_the_scoreboard(
    backend: Backend,
) -> None:
    """A ledger written before switches were kept: migrated in place, nothing else touched."""
    db = backend.open()
    try:
        _ledger_at(db, 1, {"controls", "scoreboard"})
        assert not {"controls", "scoreboard"} & _tables(db)
        assert prepare(db) == SCHEMA_VERSION == 4
        assert {"controls", "scoreboard"} <= _tables(db) and _versions(db) == [1, 2, 3, 4]
    finally:
        db.dispose()


def test_a_version_2_ledger_gains_the_scoreboard(backend: Backend) -> None:
    db = backend.open()
    try:
        _ledger_at(db, 2, {"scoreboard"})
        with db.engine.begin() as conn:
            conn.execute(
                controls.insert().values(name="x", value="1", requested_by="api", updated_at=1.0)
            )
        assert prepare(db) == 4
        assert "scoreboard" in _tables(db) and _versions(db) == [1, 2, 3, 4]
        with db.engine.connect() as conn:  # what was there is still there
            assert conn.execute(sa.select(controls.c.name)).scalars().all() == ["x"]
    finally:
        db.dispose()


def test_a_database_with_other_tables_is_refused_and_left_untouched(backend: Backend) -> None:
    backend.run_sql("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
    db = backend.open()
    try:
        with pytest.raises(ForeignDatabase, match=r"already has tables \(customers\)"):
            prepare(db)
        assert _tables(db) == {"customers"}
    finally:
        db.dispose()


def test_a_table_named_like_ours_but_shaped_otherwise_is_foreign(backend: Backend) -> None:
    backend.run_sql("CREATE TABLE orders (id INTEGER PRIMARY KEY, customer TEXT)")
    db = backend.open()
    try:
        with pytest.raises(ForeignDatabase, match="not a sol15 ledger"):
            prepare(db)
        assert _tables(db) == {"orders"}
    finally:
        db.dispose()


def test_a_schema_version_of_another_application_is_foreign(backend: Backend) -> None:
    backend.run_sql(
        "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, app VARCHAR(40), "
        "applied_at DOUBLE PRECISION, description TEXT);"
        "INSERT INTO schema_version VALUES (1, 'other', 0, 'theirs');"
    )
    db = backend.open()
    try:
        with pytest.raises(ForeignDatabase, match="another application"):
            prepare(db)
    finally:
        db.dispose()


def test_an_interrupted_creation_is_completed(backend: Backend) -> None:
    db = backend.open()
    try:
        prepare(db)
        with db.engine.begin() as conn:  # as if the process died before the version row
            conn.execute(schema_version.delete())
            conn.execute(sa.text("DROP TABLE risk_state"))
        assert prepare(db) == SCHEMA_VERSION
        assert _tables(db) == backend.tables
    finally:
        db.dispose()


def test_a_missing_table_in_a_versioned_ledger_is_refused(database: Database) -> None:
    with database.engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE fills"))
    with pytest.raises(ForeignDatabase, match=r"incomplete.*fills"):
        prepare(database)


# -- SQLite files -----------------------------------------------------------------------------


def test_a_file_that_is_not_sqlite_is_refused_and_not_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_bytes(b"my tax notes, not a database\n" * 10)
    before = path.read_bytes()
    with pytest.raises(ForeignDatabase, match="is not a SQLite database"):
        open_database(f"sqlite:///{path}")
    assert path.read_bytes() == before


def test_a_corrupt_sqlite_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "broken.db"
    path.write_bytes(b"SQLite format 3\x00" + b"\xff" * 4000)
    before = path.read_bytes()
    db = open_database(f"sqlite:///{path}")
    try:
        with pytest.raises(ForeignDatabase, match=r"not a usable database|cannot be read"):
            prepare(db)
    finally:
        db.dispose()
    assert path.read_bytes() == before


def test_the_folder_of_a_new_sqlite_ledger_is_created_in_wal_mode(tmp_path: Path) -> None:
    db = open_database(f"sqlite:///{tmp_path}/a/b/ledger.db")
    try:
        prepare(db)
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    finally:
        db.dispose()
    assert (tmp_path / "a" / "b" / "ledger.db").is_file()
    assert db.intents_path == tmp_path / "a" / "b" / "ledger-intents.log"  # the write-ahead log


def test_a_write_ahead_file_that_is_a_database_is_refused(tmp_path: Path) -> None:
    import sqlite3

    with sqlite3.connect(tmp_path / "ledger-intents.log") as conn:
        conn.execute("CREATE TABLE recipes (id INTEGER PRIMARY KEY)")
    db = open_database(f"sqlite:///{tmp_path}/ledger.db")
    try:
        with pytest.raises(ForeignDatabase, match="not a sol15 write-ahead log"):
            prepare(db)
    finally:
        db.dispose()


def test_an_in_memory_ledger_is_refused() -> None:
    with pytest.raises(UnsupportedDatabase, match="would not survive a restart"):
        open_database("sqlite:///:memory:")


def test_an_unsupported_database_is_refused() -> None:
    with pytest.raises(UnsupportedDatabase, match="only SQLite and PostgreSQL"):
        open_database("mysql://root:hunter2@localhost/db")


# -- unreachable ------------------------------------------------------------------------------


def test_an_unreachable_postgresql_names_the_url_without_its_password() -> None:
    db = open_database("postgresql+psycopg://trader:hunter2@127.0.0.1:1/sol15", connect_timeout=2)
    try:
        with pytest.raises(LedgerUnavailable) as raised:
            prepare(db)
    finally:
        db.dispose()
    text = str(raised.value)
    assert "DATABASE_URL postgresql+psycopg://trader:***@127.0.0.1:1/sol15" in text
    assert "hunter2" not in text


def test_an_unwritable_sqlite_location_is_unavailable(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(LedgerUnavailable, match="cannot create the folder"):
        open_database(f"sqlite:///{blocker}/ledger.db")
