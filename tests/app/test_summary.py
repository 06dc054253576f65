"""The session summary counts what the ledger recorded, not what the current actor
incarnations remember (a crashed order actor used to take its counts with it)."""

from __future__ import annotations

import io
from decimal import Decimal as D

from app.fill_watch import FILL_WATCH, FillWatch
from app.modes import Mode
from app.summary import SessionSummary, edge_lines, market_label
from config.settings import Settings
from messages.ledger import LEDGER, Flush
from messages.market_data import MarketLifecycle
from messages.trading import Fill
from risk.limits import RiskLimits
from runtime.bus import BOOK, FILLS, MARKETS
from runtime.faults import crash
from runtime.quiescence import quiesce
from runtime.supervisor import ChildSpec, SupervisorSpec
from runtime.system import ActorSystem
from scoring.edge import Entry
from scoring.fills import Judged
from storage.history import LedgerHistory, SessionCounts
from tests.actors.pipeline_rig import Fire, running_pipeline
from tests.strategies.strategy_builders import book, market

LIMITS = RiskLimits(
    max_position_size=D(20),
    max_daily_loss=D(100),
    circuit_breaker_pct=D("0.5"),
    max_concurrent_positions=2,
    min_edge=D("0.03"),
    max_orders_per_minute=60,
)


def _lines(text: str) -> dict[str, str]:
    return dict(line.strip().split(": ", 1) for line in text.splitlines() if line.startswith("  "))


def test_the_summary_counts_every_incarnation_of_the_order_actor() -> None:
    with running_pipeline(LIMITS, extra=(ChildSpec.of(FILL_WATCH, FillWatch),)) as p:
        assert p.database is not None
        since = p.clock.now()
        history = LedgerHistory(p.database, flush=lambda: p.system.ask(LEDGER, Flush(), timeout=10))
        [first] = p.fire(Fire(p.ticker, quantity=2))
        assert p.decision_for(first).approved
        p.wait_fills_published()
        crash(p.system, "order")  # its next incarnation starts its counters at zero
        p.settle()
        p.fresh_market_data()
        [second] = p.fire(Fire(p.ticker, quantity=1))
        assert p.decision_for(second).approved
        p.wait_fills_published()
        out = io.StringIO()
        SessionSummary(history, since, out=out, market="our simulated makers")(p.system)
        exchange_fills = len(p.exchange_fills())
        exchange_orders = len(p.exchange_orders())
    summary = _lines(out.getvalue())
    assert summary["signals sent to risk"] == "2"
    assert summary["orders"].startswith(f"{exchange_orders} (")
    assert exchange_orders == 2
    assert summary["fills"] == str(exchange_fills)
    assert summary["P&L today"].startswith("$")
    # the fill watch saw every fill (it started after the listing: it asked discovery)
    assert summary["measured against"] == "our simulated makers"
    assert summary["settled P&L"].endswith(
        f"(0 fills judged, {exchange_fills} in markets not settled yet)"
    )


# --- the realized edge and the settled P&L, by hand ----------------------------------------


def _judged() -> Judged:
    # the backtest figures' two markets: +$5.832 (10 YES at 0.40, won), −$1.5735 (5 NO at 0.30)
    entries = (
        Entry("A", 14.0, "buy", 10, D("0.40"), D("0.1680"), True, D("0.0268")),
        Entry("B", 14.0, "buy", 5, D("0.30"), D("0.0735"), False, D("0.0247")),
    )
    return Judged(entries, unsettled=1, quiet=(), window_seconds=300.0)


def test_the_summary_judges_the_edge_against_the_cost_floor_and_names_the_market() -> None:
    lines = edge_lines(
        _judged(), "our simulated makers (the built-in exchange simulator), not Kalshi"
    )
    text = "\n".join(lines)
    summary = _lines(text)
    assert summary["measured against"].startswith("our simulated makers")
    assert summary["settled P&L"] == (
        "$4.26 [-$3.15, $11.66] (95% interval, resampling 2 windows: too few to trust the "
        "interval) (2 fills judged, 1 in markets not settled yet)"
    )
    assert summary["verdict"] == (
        "realized edge: too few windows to judge "
        "(+28.39¢/contract over 2 windows; an interval needs at least 10)"
    )
    assert summary["14 (≥12) min left"] == (
        "2 fills, 15 contracts, floor 2.61 [2.47, 2.68] (real KXSOL15M 2.89), "
        "edge +28.39 [-31.47, +58.32]"
    )
    assert "scaled from 300-s markets to 15 minutes" in text


def test_a_session_without_settled_fills_says_there_is_nothing_to_judge() -> None:
    summary = _lines("\n".join(edge_lines(Judged((), 0, (), None), "m")))
    assert summary["settled P&L"].startswith("$0.00, no settled windows (no interval)")
    assert summary["verdict"] == "realized edge: no settled trades to judge"
    assert summary["no settled fills"] == "none to judge"


def test_the_market_is_named_by_mode() -> None:
    settings = Settings(_env_file=None)
    assert market_label(Mode.SIM, settings) == (
        "our simulated makers (the built-in exchange simulator, preset sharp), not Kalshi"
    )
    soft = Settings(_env_file=None, sim_market_preset="soft")
    assert "preset soft" in market_label(Mode.SIM, soft)
    assert market_label(Mode.PAPER, settings).startswith("the books of Kalshi prod, paper fills")
    assert market_label(Mode.LIVE, settings) == "Kalshi prod, real fills"


def test_the_fill_watch_hands_the_summary_what_it_judged() -> None:
    """The actor end to end on the bus: a listing, a book, a fill, the settlement."""
    system = ActorSystem(seed=1)
    system.start(SupervisorSpec("root", (ChildSpec.of(FILL_WATCH, FillWatch),)))
    try:
        info = market("KXSOL15M-A", strike=D(100), open_time=0.0, close_time=900.0)
        for topic, message in (
            (MARKETS, info),
            (BOOK, book(59.0, [("0.38", 5)], [("0.40", 5)], ticker="KXSOL15M-A")),
            (
                FILLS,
                Fill(
                    "t1",
                    "o",
                    "c",
                    "KXSOL15M-A",
                    "yes",
                    "buy",
                    10,
                    D("0.40"),
                    D("0.168"),
                    True,
                    60.0,
                ),
            ),
            (MARKETS, MarketLifecycle("KXSOL15M-A", "settled", 902.0, "yes", D("100.1"))),
        ):
            system.bus.publish(topic, message)
            quiesce(system)
        out = io.StringIO()
        SessionSummary(FailingHistory(), 0.0, out=out, market="m")(system)
    finally:
        system.shutdown()
    summary = _lines(out.getvalue())
    assert summary["settled P&L"].startswith(
        "$5.83 [$5.83, $5.83] (95% interval, resampling 1 window: too few"
    )
    assert summary["14 (≥12) min left"].startswith("1 fill, 10 contracts, floor 2.68 [2.68, 2.68]")
    assert summary["signals, orders and fills"].startswith("unavailable")


class FailingHistory(LedgerHistory):
    """A ledger that cannot be read: the summary still prints what the watch judged."""

    def __init__(self) -> None:
        pass

    def session_counts(self, since: float) -> SessionCounts:
        raise RuntimeError("no ledger")
