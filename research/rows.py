"""One result row per run: the contract's columns, their types, and how a backtest fills them.

Money stays exact: P&L, its interval, fees and drawdown are Decimal *text*; the
statistics are floats; counts are ints. A number that is undefined (no trades, one
day) is ``None`` — empty in CSV, null in parquet.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

from research.runs import RunSpec

if TYPE_CHECKING:
    from backtest.runner import BacktestResult

Row = dict[str, Any]
Kind = Literal["text", "int", "float"]
PARAM_PREFIX = "param."

HEAD: tuple[tuple[str, Kind], ...] = (
    ("run_id", "text"),
    ("status", "text"),
    ("error", "text"),
    ("attempts", "int"),
    ("series", "text"),
    ("data", "text"),
    ("start", "text"),
    ("end", "text"),
    ("seed", "int"),
)
TAIL: tuple[tuple[str, Kind], ...] = (
    ("pnl", "text"),
    ("pnl_low", "text"),
    ("pnl_high", "text"),
    ("return", "float"),
    ("trades", "int"),
    ("markets_traded", "int"),
    ("contracts", "int"),
    ("fees", "text"),
    ("edge_realized", "float"),
    ("edge_low", "float"),
    ("edge_high", "float"),
    ("cost_floor", "float"),
    ("verdict", "text"),
    ("brier_5m", "float"),
    ("brier_5m_market", "float"),
    ("sharpe", "float"),
    ("sharpe_low", "float"),
    ("sharpe_high", "float"),
    ("days", "int"),
    ("ret_skew", "float"),
    ("ret_kurt", "float"),
    ("max_drawdown", "text"),
    ("seconds", "float"),
)
TIMING_COLUMNS = ("seconds",)  # differ between identical runs
OK, FAILED = "ok", "failed"


def columns(param_keys: Iterable[str]) -> list[str]:
    """The table's columns in order, for these swept parameter keys."""
    params = [PARAM_PREFIX + k for k in sorted(set(param_keys))]
    return [name for name, _ in HEAD] + params + [name for name, _ in TAIL]


def kind_of(column: str) -> Kind:
    if column.startswith(PARAM_PREFIX):
        return "text"
    return _KINDS.get(column, "text")


_KINDS: dict[str, Kind] = dict(HEAD + TAIL)
_NULLABLE = frozenset(name for name, _ in TAIL)  # the figures: None when undefined


def iso_time(ts: int | None) -> str:
    """A row's timestamp: ISO 8601 in UTC, "" for none."""
    return "" if ts is None else datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def base_row(
    run: RunSpec, *, status: str, error: str = "", attempts: int = 1, run_id: str | None = None
) -> Row:
    """The columns every row has, whatever happened to the run (``run_id``: known already)."""
    row: Row = {name: None for name, _ in TAIL}
    row.update(
        run_id=run_id or run.run_id(),
        status=status,
        error=error,
        attempts=attempts,
        series=run.series or "",
        data=";".join(run.data),
        start=iso_time(run.start),
        end=iso_time(run.end),
        seed=run.seed,
    )
    row.update({PARAM_PREFIX + k: v for k, v in run.params})
    return row


def failed_row(
    run: RunSpec,
    error: str,
    *,
    attempts: int = 1,
    seconds: float | None = None,
    run_id: str | None = None,
) -> Row:
    row = base_row(run, status=FAILED, error=error, attempts=attempts, run_id=run_id)
    row["seconds"] = seconds
    return row


def _num(value: float | None) -> float | None:
    return None if value is None or math.isnan(value) else float(value)


def _money(value: float) -> str | None:
    return None if math.isnan(value) else f"{Decimal(repr(value)):.2f}"


def result_row(
    run: RunSpec, result: BacktestResult, seconds: float, run_id: str | None = None
) -> Row:
    """A finished run's figures (``seconds``: the run's wall time, data preparation included)."""
    from backtest.metrics import daily_pnl, max_drawdown, sharpe, strategy_figures

    honesty = result.judged()
    overall = strategy_figures(result.markets).get("all")
    first = result.first_ts or 0.0
    trading_days = {int(w.open_time // 86_400) for w in result.forecasts}
    days = daily_pnl(result.bankroll, result.equity, first, result.last_ts or first, trading_days)
    skew, kurt = moments(days)
    row = base_row(run, status=OK, run_id=run_id)
    row.update(
        pnl=str(result.pnl),
        pnl_low=_money(honesty.pnl.low),
        pnl_high=_money(honesty.pnl.high),
        trades=result.counters.fills,
        markets_traded=overall.markets_traded if overall else 0,
        contracts=overall.contracts if overall else 0,
        fees=str(sum((t.fee for t in result.trades), Decimal(0))),
        edge_realized=_num(honesty.edge.overall.estimate),
        edge_low=_num(honesty.edge.overall.low),
        edge_high=_num(honesty.edge.overall.high),
        cost_floor=_num(honesty.edge.floor.estimate),
        verdict=honesty.verdict,
        sharpe=_num(sharpe(days)),
        sharpe_low=_num(honesty.sharpe.low),
        sharpe_high=_num(honesty.sharpe.high),
        days=len(days),
        ret_skew=skew,
        ret_kurt=kurt,
        max_drawdown=str(max_drawdown(result.bankroll, result.equity).amount),
        seconds=seconds,
    )
    row["return"] = float(result.pnl / result.bankroll)
    row["brier_5m"], row["brier_5m_market"] = brier_5m(result)
    return row


def brier_5m(result: BacktestResult) -> tuple[float | None, float | None]:
    """The model's and the market mid's Brier score 5 minutes before the close."""
    from backtest.calibration import summary

    bucket = summary(result.forecasts)["buckets"].get("5", {})
    return (
        _num(bucket.get("model", {}).get("brier")),
        _num(bucket.get("market", {}).get("brier")),
    )


def moments(values: Sequence[Decimal]) -> tuple[float | None, float | None]:
    """Skewness and kurtosis (NOT excess: a normal gives 3) of daily P&L, population moments.

    ``None`` with fewer than 3 values or no variation: the deflated Sharpe ratio needs both.
    """
    if len(values) < 3:
        return None, None
    xs = [float(v) for v in values]
    mean = math.fsum(xs) / len(xs)
    m2 = math.fsum((x - mean) ** 2 for x in xs) / len(xs)
    if m2 <= 0:
        return None, None
    m3 = math.fsum((x - mean) ** 3 for x in xs) / len(xs)
    m4 = math.fsum((x - mean) ** 4 for x in xs) / len(xs)
    return m3 / m2**1.5, m4 / m2**2


def coerce(row: Row) -> Row:
    """A row read back from CSV (all text) with each column's own type again."""
    out: Row = {}
    for column, value in row.items():
        kind = kind_of(column)
        if value is None or (value == "" and (kind != "text" or column in _NULLABLE)):
            out[column] = None
        elif kind == "int":
            out[column] = int(value)
        elif kind == "float":
            out[column] = float(value)
        else:
            out[column] = str(value)
    return out
