"""The RiskEngine's state as the ledger keeps it, and how a restart combines it with the exchange.

The exchange is the truth for cash, positions and resting orders; the ledger is
the only place that remembers what the exchange cannot know: the equity the day
started from (so the daily P&L and the daily-loss limit carry on), the circuit
breaker and any halt, and the breaker's reference.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import orjson

from risk.engine import RiskState, TradingState
from risk.exposure import Position, Reservation

FORMAT = 1
PAPER_ACCOUNT = "paper"
STOPPED_BY_SYSTEM = "system"  # a stop the bot made itself (its shutdown), not an operator's


class UnreadableRiskState(ValueError):
    """A saved risk state that cannot be decoded (corrupt, truncated, another format)."""


def account_of(api_base: str, key_id: str | None) -> str:
    """Whose risk state: the exchange and API key, hashed (the key id stays out of the ledger)."""
    return hashlib.sha256(f"{api_base}|{key_id or ''}".encode()).hexdigest()[:32]


def utc_day(ts: float) -> str:
    """The trading day (UTC date) a Unix time falls in."""
    return datetime.fromtimestamp(ts, tz=UTC).date().isoformat()


@dataclass(frozen=True, slots=True)
class SavedRisk:
    """``RiskEngine.export_state()`` plus the day it belongs to."""

    day: str
    state: RiskState
    saved_at: float

    def to_json(self) -> str:
        return encode(self)

    @classmethod
    def from_json(cls, text: str | bytes) -> SavedRisk:
        return decode(text)


def _money(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _dec(value: Any) -> Decimal:
    return Decimal(str(value))


def encode(saved: SavedRisk) -> str:
    state = saved.state
    body = {
        "format": FORMAT,
        "day": saved.day,
        "saved_at": saved.saved_at,
        "cash": str(state.cash),
        "day_start_equity": str(state.day_start_equity),
        "positions": [
            {"ticker": p.ticker, "side": p.side, "contracts": p.contracts, "cost": str(p.cost)}
            for p in state.positions
        ],
        "reservations": [
            {
                "order_id": r.order_id,
                "ticker": r.ticker,
                "side": r.side,
                "action": r.action,
                "count": r.count,
                "price": str(r.price),
                "fee_multiplier": str(r.fee_multiplier),
                "strategy_name": r.strategy_name,
                "created_at": r.created_at,
                "booked": r.booked,
                "terminal": r.terminal,
            }
            for r in state.reservations
        ],
        "realized_pnl": str(state.realized_pnl),
        "fees": str(state.fees),
        "marks": {ticker: str(mark) for ticker, mark in state.marks.items()},
        "trading_state": TradingState(state.trading_state).value,
        "circuit_breaker_triggered": state.circuit_breaker_triggered,
        "halt_reason": state.halt_reason,
        "breaker_reference": _money(state.breaker_reference),
        "approvals": list(state.approvals),
        "stopped_by": state.stopped_by,
    }
    return orjson.dumps(body).decode()


def decode(text: str | bytes) -> SavedRisk:
    """The saved state in ``text``; :class:`UnreadableRiskState` saying why when it is not one."""
    try:
        body = orjson.loads(text)
        if not isinstance(body, dict):
            raise TypeError(f"a JSON {type(body).__name__}, not an object")
        if body.get("format") != FORMAT:
            raise ValueError(f"unknown risk state format {body.get('format')!r}")
        return _decode(body)
    except UnreadableRiskState:
        raise
    except (ValueError, KeyError, TypeError, ArithmeticError, AttributeError) as exc:
        problem = f"missing field {exc}" if isinstance(exc, KeyError) else str(exc)
        raise UnreadableRiskState(f"unreadable saved risk state: {problem}") from None


def _decode(body: dict[str, Any]) -> SavedRisk:
    reference = body.get("breaker_reference")
    state = RiskState(
        cash=_dec(body["cash"]),
        day_start_equity=_dec(body["day_start_equity"]),
        positions=[
            Position(p["ticker"], p["side"], int(p["contracts"]), _dec(p["cost"]))
            for p in body["positions"]
        ],
        reservations=[
            Reservation(
                order_id=r["order_id"],
                ticker=r["ticker"],
                side=r["side"],
                action=r["action"],
                count=int(r["count"]),
                price=_dec(r["price"]),
                fee_multiplier=_dec(r["fee_multiplier"]),
                strategy_name=r["strategy_name"],
                created_at=float(r["created_at"]),
                booked=int(r["booked"]),
                terminal=bool(r["terminal"]),
            )
            for r in body["reservations"]
        ],
        realized_pnl=_dec(body["realized_pnl"]),
        fees=_dec(body["fees"]),
        marks={ticker: _dec(mark) for ticker, mark in body["marks"].items()},
        trading_state=TradingState(body["trading_state"]),
        circuit_breaker_triggered=bool(body["circuit_breaker_triggered"]),
        halt_reason=str(body["halt_reason"]),
        breaker_reference=None if reference is None else _dec(reference),
        approvals=[float(t) for t in body["approvals"]],
        # absent before operator stops were kept: such a stop was the bot's own (its shutdown)
        stopped_by=str(body.get("stopped_by", STOPPED_BY_SYSTEM)),
    )
    return SavedRisk(str(body["day"]), state, float(body["saved_at"]))


def _equity(state: RiskState) -> Decimal:
    """Cash plus positions at their marks (at cost where there is no mark), as the engine counts."""
    total = state.cash
    for position in state.positions:
        mark = state.marks.get(position.ticker)
        if mark is None:
            total += position.cost
        else:
            total += (mark if position.side == "yes" else 1 - mark) * position.contracts
    return total


def merge(current: RiskState, saved: SavedRisk, today: str, *, keep_stop: bool) -> RiskState:
    """``current`` (rebuilt from the exchange) with what only the ledger remembers.

    A halt (circuit breaker or by hand) survives any restart, and so does an operator's
    stop. The bot's own stop (``stopped_by`` :data:`STOPPED_BY_SYSTEM`: its shutdown)
    survives an actor restart (``keep_stop``) but not a new process, which starts
    trading as a fresh start would. On the same day the day's starting equity, the
    breaker's reference, today's realized P&L and fees, and the order-rate window
    carry on; on a new day they restart from the current equity.
    """
    old = saved.state
    held = {p.ticker for p in current.positions}
    marks = {t: m for t, m in old.marks.items() if t in held}
    marks.update(current.marks)
    trading_state = TradingState(old.trading_state)
    stopped_by = old.stopped_by if trading_state is TradingState.STOPPED else ""
    if stopped_by == STOPPED_BY_SYSTEM and not keep_stop:
        trading_state, stopped_by = TradingState.RUNNING, ""
    merged = replace(
        current,
        marks=marks,
        trading_state=trading_state,
        stopped_by=stopped_by,
        circuit_breaker_triggered=old.circuit_breaker_triggered,
        halt_reason=old.halt_reason,
    )
    if saved.day == today:
        return replace(
            merged,
            day_start_equity=old.day_start_equity,
            breaker_reference=old.breaker_reference,
            realized_pnl=old.realized_pnl,
            fees=old.fees,
            approvals=list(old.approvals),
        )
    equity = _equity(merged)
    return replace(
        merged,
        day_start_equity=equity,
        breaker_reference=equity,
        realized_pnl=Decimal(0),
        fees=Decimal(0),
        approvals=[],
    )
