"""The ledger's tables (SQLAlchemy Core), version :data:`SCHEMA_VERSION`.

``journal`` is the append-only record of every event, in arrival order; the
other tables hold the current state that restarts, the dashboard and exports
read. Money is stored as fixed-point decimal text (``messages.formats.money``), times as
Unix seconds, so SQLite and PostgreSQL hold identical values. Every history row
(journal, signals, orders, fills, settlements) carries the ``mode`` that wrote it
(sim | paper | live) and the exchange ``env`` (sim | demo | prod): one database may
hold several modes (a shared PostgreSQL), and the history shows one at a time.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ColumnElement,
    Double,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    true,
)

APP = "sol15"
SCHEMA_VERSION = 4

ID = String(200)  # exchange and client ids, tickers
SHORT = String(40)
MONEY = String(40)  # Decimal as text: exact on every backend

MODES = ("sim", "paper", "live")
ENVS = ("sim", "demo", "prod")
UNKNOWN = "unknown"  # rows of a ledger older than version 4 whose mode nothing tells


@dataclass(frozen=True, slots=True)
class Scope:
    """Which bot writes: its mode and the exchange environment it trades on."""

    mode: str = UNKNOWN
    env: str = UNKNOWN

    def __post_init__(self) -> None:
        # Written into SQL as literals by the ledger's writer: only these words are allowed.
        if self.mode not in (*MODES, UNKNOWN) or self.env not in (*ENVS, UNKNOWN):
            raise ValueError(f"not a ledger scope: mode {self.mode!r}, env {self.env!r}")

    @classmethod
    def of(cls, mode: str, kalshi_env: str) -> Scope:
        """The scope of a bot in ``mode`` on Kalshi's ``kalshi_env`` (sim runs on a simulator)."""
        return cls(mode, "sim" if mode == "sim" else kalshi_env)


NO_SCOPE = Scope()  # a reader or tool that runs in no mode: rows get 'unknown', reads see all

metadata = MetaData()

# What a column's ``info`` says, so writers, readers and the export derive their column
# lists from these tables instead of copying them.
SET_BY = "set_by"  # which write sets it: the table's own row unless it says (see below)
BOTH = {SET_BY: "both"}  # signals: written by the signal and by its decision
BY_DECISION = {SET_BY: "decision"}  # signals: written by the risk decision only
BY_UPDATE = {SET_BY: "update"}  # orders: written by the exchange's updates, not the intent
UNEXPORTED = {"exported": False}  # left out of ``run.py export``
NOT_EXPORTED_UPDATE = {**BY_UPDATE, **UNEXPORTED}


def _scoped() -> tuple[Column[str], Column[str]]:
    """The ``mode`` and ``env`` columns of a history table (null only before a migration)."""
    return Column("mode", SHORT), Column("env", SHORT)


schema_version = Table(
    "schema_version",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("app", SHORT, nullable=False),
    Column("applied_at", Double, nullable=False),
    Column("description", Text, nullable=False),
)

journal = Table(
    "journal",
    metadata,
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("ts", Double, nullable=False),  # when it happened (the message's own time)
    Column("recorded_at", Double, nullable=False),  # when the ledger received it
    Column("kind", SHORT, nullable=False),  # the message's wire type
    Column("ref", ID),  # signal_id, client_order_id, trade_id, ticker or actor name
    Column("ticker", ID),
    Column("payload", Text, nullable=False),  # the whole message as JSON
    *_scoped(),
    Index("ix_journal_kind_ts", "kind", "ts"),
    Index("ix_journal_ref", "ref"),
)

signals = Table(
    "signals",
    metadata,
    Column("signal_id", ID, primary_key=True),
    Column("strategy_name", ID, info=BOTH),
    Column("ticker", ID, info=BOTH),
    Column("direction", SHORT),
    Column("action", SHORT),
    Column("edge", MONEY),
    Column("model_prob", MONEY),
    Column("market_price", MONEY),
    Column("quantity", Integer),
    Column("ts", Double),  # None until the signal itself arrives (its decision may come first)
    Column("payload", Text),
    Column("approved", Boolean, info=BY_DECISION),  # None: no decision yet
    Column("decision_reason", SHORT, info=BY_DECISION),
    Column("decision_quantity", Integer, info=BY_DECISION),
    Column("decided_at", Double, info=BY_DECISION),
    Column("decision_payload", Text, info=BY_DECISION),
    *_scoped(),
    Index("ix_signals_ts", "ts"),
    Index("ix_signals_ticker_ts", "ticker", "ts"),
    Index("ix_signals_mode_ts", "mode", "ts"),
)

orders = Table(
    "orders",
    metadata,
    Column("client_order_id", ID, primary_key=True),
    Column("order_id", ID, unique=True, info=BY_UPDATE),
    Column("signal_id", ID, info=UNEXPORTED),
    Column("ticker", ID),
    Column("strategy_name", ID),
    Column("side", SHORT),
    Column("action", SHORT),
    Column("quantity", Integer),
    Column("price", MONEY),
    Column("time_in_force", SHORT, info=UNEXPORTED),
    Column("reduce_only", Boolean, info=UNEXPORTED),
    # pending | resting | executed | canceled | ...
    Column("status", SHORT, nullable=False, info=BY_UPDATE),
    Column("filled", Integer, nullable=False, info=BY_UPDATE),
    Column("remaining", Integer, nullable=False, info=BY_UPDATE),
    Column("fees", MONEY, nullable=False, info=BY_UPDATE),
    Column("reason", Text, nullable=False, info=BY_UPDATE),
    Column("origin", SHORT, nullable=False, info=UNEXPORTED),  # intent | update | adopted
    Column("created_at", Double, nullable=False),  # the export's ``ts``
    Column("updated_at", Double, nullable=False, info=NOT_EXPORTED_UPDATE),
    *_scoped(),
    Index("ix_orders_created_at", "created_at"),
    Index("ix_orders_status", "status"),
    Index("ix_orders_ticker_created_at", "ticker", "created_at"),
    Index("ix_orders_mode_created_at", "mode", "created_at"),
)

fills = Table(
    "fills",
    metadata,
    Column("trade_id", ID, primary_key=True),  # the exchange's fill id: booked once
    Column("order_id", ID),
    Column("client_order_id", ID),
    Column("ticker", ID, nullable=False),
    Column("strategy_name", ID, nullable=False),
    Column("side", SHORT, nullable=False),
    Column("action", SHORT, nullable=False),
    Column("count", Integer, nullable=False),
    Column("price", MONEY, nullable=False),
    Column("fee", MONEY, nullable=False),
    Column("is_taker", Boolean, nullable=False),
    Column("ts", Double, nullable=False),
    *_scoped(),
    Index("ix_fills_ts", "ts"),
    Index("ix_fills_client_order_id", "client_order_id"),
)

settlements = Table(
    "settlements",
    metadata,
    Column("ticker", ID, primary_key=True),
    Column("result", SHORT, nullable=False),
    Column("yes_contracts", Integer, nullable=False),
    Column("no_contracts", Integer, nullable=False),
    Column("payout", MONEY, nullable=False),
    Column("ts", Double, nullable=False),
    *_scoped(),
    Index("ix_settlements_ts", "ts"),
)

positions = Table(
    "positions",
    metadata,
    Column("ticker", ID, primary_key=True),
    Column("rank", Integer, nullable=False),  # the order the risk engine lists them in
    Column("side", SHORT, nullable=False),
    Column("contracts", Integer, nullable=False),
    Column("average_price", MONEY, nullable=False),
    Column("cost", MONEY, nullable=False),
    Column("market_value", MONEY),
    Column("unrealized_pnl", MONEY),
    Column("realized_pnl", MONEY, nullable=False),
    Column("updated_at", Double, nullable=False),
)

daily_pnl = Table(
    "daily_pnl",
    metadata,
    Column("day", String(10), primary_key=True),  # UTC date, YYYY-MM-DD
    Column("day_start_equity", MONEY, nullable=False),
    Column("daily_pnl", MONEY, nullable=False),
    Column("realized_pnl", MONEY, nullable=False),
    Column("fees", MONEY, nullable=False),
    Column("trading_state", SHORT, nullable=False),
    Column("circuit_breaker_triggered", Boolean, nullable=False),
    Column("updated_at", Double, nullable=False),
)

risk_state = Table(
    "risk_state",
    metadata,
    # whose state: a hash of the exchange and API key (a fresh simulator is a fresh account)
    Column("account", String(64), primary_key=True),
    Column("day", String(10), nullable=False),
    Column("trading_state", SHORT, nullable=False),
    Column("circuit_breaker_triggered", Boolean, nullable=False),
    Column("halt_reason", Text, nullable=False),
    Column("state", Text, nullable=False),  # RiskEngine.export_state() as JSON
    Column("updated_at", Double, nullable=False),
)

controls = Table(
    "controls",
    metadata,
    # an operator's switch that must outlive a restart, e.g. strategy:kelly_volatility:enabled
    Column("name", ID, primary_key=True),
    Column("value", Text, nullable=False),  # JSON
    Column("requested_by", SHORT, nullable=False),
    Column("updated_at", Double, nullable=False),
)

scoreboard = Table(
    "scoreboard",
    metadata,
    # the live scoreboard: one row per market window, rewritten as its snapshots are taken
    Column("ticker", ID, primary_key=True),
    Column("market", SHORT, primary_key=True),  # kalshi | kalshi-demo | simulated
    Column("model", ID, primary_key=True),  # the strategy whose probability is scored
    Column("open_time", Double),
    Column("close_time", Double),
    Column("outcome", SHORT),  # yes | no once settled
    Column("settled_at", Double),
    Column("updated_at", Double, nullable=False),
    Column("snapshots", Text, nullable=False),  # JSON: scoring.scoreboard.Snapshot each
    Column("trades", Text, nullable=False),  # JSON: scoring.scoreboard.TradeMark each
    Index("ix_scoreboard_market_model_close", "market", "model", "close_time"),
)

LEDGER_TABLES = frozenset(metadata.tables)
SCOPE_COLUMNS = ("mode", "env")
ALL_MODES = "all"


def of_mode(table: Table, mode: str) -> ColumnElement[bool]:
    """``table``'s rows written in ``mode``; every row for ``all`` or a reader in no mode."""
    if mode in (ALL_MODES, UNKNOWN):
        return true()
    return table.c.mode == mode


SCOPED_TABLES = (journal, signals, orders, fills, settlements)  # the tables with mode and env


# Names as plain ``str`` (SQLAlchemy's are a subclass, which orjson refuses as a key).


def key_of(table: Table) -> tuple[str, ...]:
    """The primary key's columns: what an upsert conflicts on and a batch keeps one row of."""
    return tuple(str(c.name) for c in table.primary_key.columns)


def row_columns(table: Table) -> tuple[str, ...]:
    """Every column a writer sets, in table order; never ``mode`` and ``env``, which the
    writer stamps on every row from its scope."""
    return tuple(str(c.name) for c in table.columns if c.name not in SCOPE_COLUMNS)


def set_by(table: Table, *writers: str) -> tuple[str, ...]:
    """The columns the named writes set (``row``: untagged ones), key first, in table order."""
    return tuple(
        name
        for name in row_columns(table)
        if table.c[name].primary_key or table.c[name].info.get(SET_BY, "row") in writers
    )


def exported(table: Table, ts: Column[float]) -> tuple[str, ...]:
    """``run.py export``'s columns of ``table``: time, ts, then the table's own with its scope."""
    own = [str(c.name) for c in table.columns if c is not ts and c.info.get("exported", True)]
    return ("time", "ts", *own)
