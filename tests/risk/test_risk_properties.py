"""Property: random bursts of signals from two strategies, interleaved with fills, cancels,
marks, settlements and time, never take exposure or positions past a limit."""

from __future__ import annotations

from collections import deque
from decimal import Decimal as D
from typing import Any, Literal

from hypothesis import HealthCheck, Phase, event, given, settings
from hypothesis import strategies as st

from kalshi.fees import taker_fee
from messages.trading import Settlement
from risk import RiskEngine, RiskLimits, TradingState
from tests.risk.risk_builders import NOW, T1, T2, T3, fill, market, signal, update

LIMITS = RiskLimits(
    max_position_size=D(30),
    max_daily_loss=D(40),
    circuit_breaker_pct=D("0.25"),
    max_concurrent_positions=2,
    min_edge=D("0.03"),
    max_orders_per_minute=8,
)
TICKERS = (T1, T2, T3)
STRATEGIES = ("kelly_volatility", "mean_reversion")
PRICES = ("0.05", "0.099", "0.20", "0.45", "0.50", "0.73", "0.91", "0.995")

signals = st.tuples(
    st.sampled_from(STRATEGIES),
    st.sampled_from(TICKERS),
    st.sampled_from(("yes", "no")),
    st.sampled_from(("buy", "buy", "sell")),
    st.integers(1, 120),
    st.sampled_from(PRICES),
    st.sampled_from(("0.01", "0.03", "0.08")),
)
rounds = st.tuples(
    st.lists(signals, min_size=1, max_size=8),  # a burst at one instant
    st.lists(st.tuples(st.floats(0.0, 1.0), st.integers(0, 3)), max_size=6),  # fills
    st.sampled_from((None, None, "cancel", "executed", "canceled")),  # one order ends
    st.floats(0.0, 20.0),  # time passes
    st.one_of(st.none(), st.tuples(st.sampled_from(TICKERS), st.integers(1, 99))),  # re-mark
    st.one_of(
        st.none(), st.none(), st.tuples(st.sampled_from(TICKERS), st.sampled_from(("yes", "no")))
    ),  # a settlement
    st.sampled_from((None, None, None, "reset", "stop", "start")),  # the operator
)


def _check_invariants(eng: RiskEngine, approvals: list[float]) -> None:
    book = eng.book
    for ticker in TICKERS:
        assert book.market_exposure(ticker) <= LIMITS.max_position_size, ticker
        for side in ("yes", "no"):
            assert book.reserved_sells(ticker, side) <= book.held(ticker, side)
    assert len(book.open_markets()) <= LIMITS.max_concurrent_positions
    assert all(p.contracts > 0 and p.cost >= 0 for p in book.positions.values())
    assert all(r.count > 0 for r in book.reservations.values())
    window: deque[float] = deque()
    for t in approvals:
        window.append(t)
        while window[0] <= t - 60:
            window.popleft()
        assert len(window) <= LIMITS.max_orders_per_minute


@settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    phases=(Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink),
    suppress_health_check=[HealthCheck.too_slow],
)
@given(st.lists(rounds, min_size=1, max_size=25))
def test_limits_hold_under_random_bursts(plan: list[tuple[Any, ...]]) -> None:
    eng = RiskEngine(LIMITS, D(100))
    now = NOW
    mids = dict.fromkeys(TICKERS, D("0.50"))
    approvals: list[float] = []
    for burst, fills, ending, wait, mark, settle, operator in plan:
        for drawn in burst:
            _signal(eng, drawn, mids, now, approvals)
        _fills(eng, fills, now, approvals)
        _end_one(eng, ending)
        now += wait
        _mark_and_settle(eng, mark, settle, mids, now)
        if operator == "reset":
            eng.reset_circuit_breaker(now)
        elif operator == "stop":
            eng.stop(now)
        elif operator == "start":
            eng.start(now)
        _check_invariants(eng, approvals)
    # and the whole state survives a restore
    copy = RiskEngine(LIMITS, D(0))
    copy.restore(eng.export_state())
    snap, restored = eng.snapshot(now), copy.snapshot(now)
    for key in ("daily_pnl", "exposure", "equity", "open_markets", "trading_state", "drawdown"):
        assert restored[key] == snap[key], key


def _signal(
    eng: RiskEngine,
    drawn: tuple[Any, ...],
    mids: dict[str, D],
    now: float,
    approvals: list[float],
) -> None:
    """One signal of a burst: evaluated, its decision checked, then the invariants."""
    strategy, ticker, side, action, qty, price, edge = drawn
    if action == "sell":  # sell what is held, when something is
        held = eng.book.positions.get(ticker)
        side = held.side if held is not None else side
    state_before = eng.state
    sig = signal(
        ticker,
        direction=side,
        quantity=qty,
        price=price,
        edge=edge,
        action=action,
        strategy=strategy,
        ts=now,
    )
    mid = mids[ticker]
    state = market(ticker, now, yes_bid=mid - D("0.01"), yes_ask=mid + D("0.01"))
    decision = eng.evaluate(sig, now, state)
    event(f"{action} {decision.reason}")
    if decision.approved:
        approvals.append(now)
        assert 1 <= decision.quantity <= qty
        assert state_before != TradingState.STOPPED
        if action == "buy":
            assert state_before == TradingState.RUNNING
            assert D(edge) >= LIMITS.min_edge
    else:
        assert decision.quantity == 0
    _check_invariants(eng, approvals)


def _fills(
    eng: RiskEngine, fills: list[tuple[float, int]], now: float, approvals: list[float]
) -> None:
    """Fill the open reservations (in order), each by a fraction at a price as good or better."""
    for (fraction, better_cents), order_id in zip(
        fills, sorted(eng.book.reservations), strict=False
    ):
        res = eng.book.reservations.get(order_id)
        if res is None:  # trimmed by an earlier fill in this round
            continue
        count = max(1, round(fraction * res.count))
        better = D(better_cents) / 100
        price = res.price - better if res.action == "buy" else res.price + better
        price = min(max(price, D("0.001")), D("0.999"))
        fee = taker_fee(price, D(count))
        eng.on_fill(
            fill(
                order_id,
                count,
                str(price),
                ticker=res.ticker,
                side=res.side,
                action=res.action,
                fee=str(fee),
                ts=now,
            ),
            now,
        )
        _check_invariants(eng, approvals)


def _end_one(eng: RiskEngine, ending: str | None) -> None:
    """The first open order ends (cancelled, canceled or executed), if one is drawn."""
    keys = sorted(eng.book.reservations)
    if ending is None or not keys:
        return
    res = eng.book.reservations[keys[0]]
    status = "canceled" if ending == "cancel" else ending
    # "executed" claims one more fill than booked: it stays reserved until it comes
    filled = res.booked + (1 if ending == "executed" else 0)
    eng.on_order_update(update(keys[0], status, filled=filled, ticker=res.ticker))


def _mark_and_settle(
    eng: RiskEngine,
    mark: tuple[str, int] | None,
    settle: tuple[str, Literal["yes", "no"]] | None,
    mids: dict[str, D],
    now: float,
) -> None:
    """A market re-marked (maybe tripping the breaker), then one settled, if drawn."""
    if mark is not None:
        ticker, cents = mark
        mids[ticker] = D(cents) / 100
        eng.update_mark(ticker, mids[ticker] - D("0.01"), mids[ticker] + D("0.01"), now)
        if eng.circuit_breaker_triggered:
            event("circuit breaker tripped")
    if settle is not None:
        ticker, result = settle
        yes, no = eng.book.held(ticker, "yes"), eng.book.held(ticker, "no")
        payout = D(yes if result == "yes" else no)
        eng.on_settlement(Settlement(ticker, result, yes, no, payout, now), now)
