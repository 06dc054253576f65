"""From bus messages to ledger writes: one journal row plus the state-table rows it changes.

The ledger actor pickles each message it keeps soon after it arrives, a few at a
time (:func:`pending`), and the ledger's writer process encodes them into rows
(:func:`entries_of`) and applies whole batches in one transaction.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from loguru import logger
from sqlalchemy import Table

from messages.base import Message
from messages.control import ControlChanged
from messages.formats import ledger_json, money
from messages.market_data import IndexPrints
from messages.scoreboard import ScoreboardWindow
from messages.status import Alert, RiskStatus
from messages.system import ActorCrashed, ActorRestarted, ActorStopped, Escalated
from messages.trading import Fill, OrderIntent, OrderUpdate, RiskDecision, Settlement, Signal
from risk.engine import TradingState
from storage import schema
from storage.risk_state import SavedRisk, utc_day

Row = dict[str, Any]

# State-table operations, in the order a batch applies them.
SIGNAL = "signal"
DECISION = "decision"
INTENT = "intent"
UPDATE = "update"
FILL = "fill"
SETTLEMENT = "settlement"
POSITIONS = "positions"
DAILY = "daily"
RISK = "risk"
CONTROL = "control"
SCOREBOARD = "scoreboard"
OPERATIONS = (
    SIGNAL,
    DECISION,
    INTENT,
    UPDATE,
    FILL,
    SETTLEMENT,
    POSITIONS,
    DAILY,
    RISK,
    CONTROL,
    SCOREBOARD,
)


# The journal's columns but its sequence number (the database counts it), in table order.
JOURNAL_COLUMNS = tuple(c for c in schema.row_columns(schema.journal) if c != "seq")
PAYLOAD = JOURNAL_COLUMNS.index("payload")
JournalRow = tuple[float, float, str, str | None, str | None, str]  # in JOURNAL_COLUMNS order

# The keys of each operation's rows, in the order of its statement's parameters.
ROW_KEYS: dict[str, tuple[str, ...]] = {
    SIGNAL: schema.set_by(schema.signals, "row", "both"),
    DECISION: schema.set_by(schema.signals, "decision", "both"),
    INTENT: schema.row_columns(schema.orders),
    UPDATE: schema.row_columns(schema.orders),
    FILL: schema.row_columns(schema.fills),
    SETTLEMENT: schema.row_columns(schema.settlements),
    POSITIONS: schema.row_columns(schema.positions),
    DAILY: schema.row_columns(schema.daily_pnl),
    RISK: schema.row_columns(schema.risk_state),
    CONTROL: schema.row_columns(schema.controls),
    SCOREBOARD: schema.row_columns(schema.scoreboard),
}


_TABLES = {
    SIGNAL: schema.signals,
    DECISION: schema.signals,
    INTENT: schema.orders,
    UPDATE: schema.orders,
    FILL: schema.fills,
    SETTLEMENT: schema.settlements,
    POSITIONS: schema.positions,
    DAILY: schema.daily_pnl,
    RISK: schema.risk_state,
    CONTROL: schema.controls,
    SCOREBOARD: schema.scoreboard,
}
# Per operation, its keys that hold money: written as fixed-point text.
_MONEY = {
    op: frozenset(c.name for c in table.columns if c.type is schema.MONEY)
    for op, table in _TABLES.items()
}


def row_of(m: object, op: str, **given: Any) -> Row:
    """``op``'s row for ``m``: each column its value in ``given``, else ``m``'s field of that
    name (money as fixed-point text), so a column and the field it mirrors are named once."""
    unknown = given.keys() - set(ROW_KEYS[op])
    if unknown:
        raise KeyError(f"{op}: no such columns: {sorted(unknown)}")
    money_keys = _MONEY[op]
    row: Row = {}
    for key in ROW_KEYS[op]:
        if key in given:
            row[key] = given[key]
            continue
        value = getattr(m, key)
        row[key] = money(value) if key in money_keys and value is not None else value
    return row


def fields_of(row: Any, table: Table, **renamed: str) -> dict[str, Any]:
    """The inverse of :func:`row_of`: a message's fields from ``table``'s row, money back as
    ``Decimal``; ``renamed``: column → field where the names differ (``ts="timestamp"``)."""
    found: dict[str, Any] = {}
    for name in schema.row_columns(table):
        value = row._mapping[name]
        if table.c[name].type is schema.MONEY and value is not None:
            value = Decimal(value)
        found[renamed.get(name, name)] = value
    return found


@dataclass(frozen=True, slots=True)
class Entry:
    """What one message writes: a journal row and/or one state-table operation.

    ``values`` is ``row`` as the statement's parameter tuple, made when the message
    arrives, so writing a batch is little more than handing tuples to the driver.
    """

    journal: JournalRow | None
    op: str | None = None
    row: Row | None = None
    values: Any = None  # a tuple; for POSITIONS a list of tuples


def make(journal: JournalRow | None, op: str, row: Row) -> Entry:
    keys = ROW_KEYS[op]
    if op == POSITIONS:
        values: Any = [tuple(r[k] for k in keys) for r in row["rows"]]
    else:
        values = tuple(row[k] for k in keys)
    return Entry(journal, op, row, values)


def journal_row(
    message: Message, ts: float, ref: str | None, ticker: str | None, now: float
) -> JournalRow:
    """A plain tuple: the writer hands a batch of them straight to the driver."""
    return (ts, now, message.type, ref, ticker, ledger_json(message))


def _signal(m: Signal, now: float) -> Entry:
    journal = journal_row(m, m.timestamp, m.signal_id, m.ticker, now)
    row = row_of(
        m,
        SIGNAL,
        model_prob=str(float(m.model_prob)),  # a probability: a number, as on the wire
        ts=m.timestamp,
        payload=journal[PAYLOAD],
    )
    return make(journal, SIGNAL, row)


def _decision(m: RiskDecision, now: float) -> Entry:
    journal = journal_row(m, m.timestamp, m.signal_id, m.ticker, now)
    row = row_of(
        m,
        DECISION,
        decision_reason=m.reason,
        decision_quantity=m.quantity,
        decided_at=m.timestamp,
        decision_payload=journal[PAYLOAD],
    )
    return make(journal, DECISION, row)


def intent_row(m: OrderIntent, now: float) -> Row:
    """The ``orders`` row of a new intent (also what the write-ahead handle inserts)."""
    return row_of(
        m,
        INTENT,
        order_id=None,
        quantity=m.count,
        status="pending",
        filled=0,
        remaining=m.count,
        fees=money(0),
        reason="",
        origin="intent",
        created_at=m.created_at or now,
        # its creation time, not ours: every update of the order is newer than this
        updated_at=m.created_at or now,
    )


def _intent(m: OrderIntent, now: float) -> Entry:
    journal = journal_row(m, m.created_at or now, m.client_order_id, m.ticker, now)
    return make(journal, INTENT, intent_row(m, now))


def _update(m: OrderUpdate, now: float) -> Entry:
    journal = journal_row(m, m.timestamp, m.client_order_id, m.ticker, now)
    row = row_of(
        m,
        UPDATE,
        signal_id=None,
        quantity=max(m.count, m.filled + m.remaining),  # a finished order has none left
        time_in_force=None,
        reduce_only=None,
        origin="adopted" if m.reason == "adopted" else "update",
        created_at=m.timestamp,
        updated_at=m.timestamp,
    )
    return make(journal, UPDATE, row)


def _fill(m: Fill, now: float) -> Entry:
    journal = journal_row(m, m.timestamp, m.trade_id, m.ticker, now)
    return make(journal, FILL, row_of(m, FILL, ts=m.timestamp))


def _settlement(m: Settlement, now: float) -> Entry:
    journal = journal_row(m, m.timestamp, m.ticker, m.ticker, now)
    return make(journal, SETTLEMENT, row_of(m, SETTLEMENT, ts=m.timestamp))


def _crashed(m: ActorCrashed, now: float) -> Entry:
    return Entry(journal_row(m, m.at, m.name, None, now))


def _restarted(m: ActorRestarted, now: float) -> Entry:
    return Entry(journal_row(m, m.at, m.name, None, now))


def _stopped(m: ActorStopped, now: float) -> Entry:
    return Entry(journal_row(m, m.at, m.name, None, now))


def _escalated(m: Escalated, now: float) -> Entry:
    return Entry(journal_row(m, m.at, m.name, None, now))


def _alert(m: Alert, now: float) -> Entry:
    return Entry(journal_row(m, m.timestamp, m.alert_type, None, now))


def _index_prints(m: IndexPrints, now: float) -> Entry:
    return Entry(journal_row(m, m.ts, m.index, None, now))  # read by storage.index_prints


def _control(m: ControlChanged, now: float) -> Entry:
    journal = journal_row(m, m.timestamp, m.name, None, now)
    return make(journal, CONTROL, row_of(m, CONTROL, updated_at=m.timestamp))


def _scoreboard(m: ScoreboardWindow, now: float) -> Entry:
    """The window's row, rewritten as it grows; journaled once, when it has its outcome."""
    journal = None
    if m.outcome is not None:
        journal = journal_row(m, m.settled_at or m.updated_at, m.ticker, m.ticker, now)
    return make(journal, SCOREBOARD, row_of(m, SCOREBOARD))


ENCODERS: dict[type, Callable[[Any, float], Entry]] = {
    Signal: _signal,
    RiskDecision: _decision,
    OrderIntent: _intent,
    OrderUpdate: _update,
    Fill: _fill,
    Settlement: _settlement,
    ActorCrashed: _crashed,
    ActorRestarted: _restarted,
    ActorStopped: _stopped,
    Escalated: _escalated,
    Alert: _alert,
    IndexPrints: _index_prints,
    ControlChanged: _control,
    ScoreboardWindow: _scoreboard,
}


def encode(message: object, now: float) -> Entry | None:
    """The writes for ``message``; None for a message the ledger does not keep."""
    encoder = ENCODERS.get(type(message))
    return None if encoder is None else encoder(message, now)


# A message the ledger keeps and when it arrived: the message pickled (``pending``), as it
# is (encoded when written), or already encoded (an ``Entry``).
Pending = tuple[Any, float]
Item = Entry | Pending


def pending(message: object, now: float) -> Pending | None:
    """``message`` as the ledger buffers it until a write: pickled, so that handing a batch
    to the writer process is a copy of bytes (pickling a whole batch at once would hold the
    interpreter, which the order path needs, for milliseconds). A message that cannot be
    pickled is encoded now; one that cannot be encoded either is logged and skipped."""
    try:
        return (pickle.dumps(message, pickle.HIGHEST_PROTOCOL), now)
    except Exception as exc:  # a malformed message must not stop the ledger
        why = exc
    try:
        entry = encode(message, now)
    except Exception as exc:
        logger.error(
            "ledger: a {} cannot be recorded (not picklable: {!r}; not encodable: {!r})",
            type(message).__name__,
            why,
            exc,
        )
        return None
    return None if entry is None else (entry, now)


def entries_of(items: Sequence[Item]) -> list[Entry]:
    """The writes for ``items``: entries as they are, pending messages encoded now."""
    found: list[Entry] = []
    for item in items:
        if isinstance(item, Entry):
            found.append(item)
            continue
        message, now = item
        if type(message) is bytes:
            message = pickle.loads(message)
        entry = message if isinstance(message, Entry) else encode(message, now)
        if entry is not None:
            found.append(entry)
    return found


# -- the P&L mark (RiskStatus) and the risk engine's state ----------------------------------


def status_mark(m: RiskStatus, now: float) -> Entry:
    """A P&L mark for the journal (the actor decides how often)."""
    return Entry(journal_row(m, m.timestamp, m.trading_state, None, now))


def daily_row(m: RiskStatus) -> Entry:
    row = row_of(
        m,
        DAILY,
        day=utc_day(m.timestamp),
        day_start_equity=money(m.starting_bankroll),
        fees=money(m.fees_paid),
        updated_at=m.timestamp,
    )
    return make(None, DAILY, row)


def positions_rows(m: RiskStatus) -> Entry:
    rows = [
        row_of(p, POSITIONS, rank=rank, updated_at=m.timestamp)
        for rank, p in enumerate(m.positions)
    ]
    return make(None, POSITIONS, {"rows": rows})


def risk_row(account: str, saved: SavedRisk) -> Entry:
    state = saved.state
    row = {
        "account": account,
        "day": saved.day,
        "trading_state": TradingState(state.trading_state).value,
        "circuit_breaker_triggered": state.circuit_breaker_triggered,
        "halt_reason": state.halt_reason,
        "state": saved.to_json(),
        "updated_at": saved.saved_at,
    }
    return make(None, RISK, row)
