"""The scoreboard in paper mode against the simulator's feed: the real kelly_volatility and
the real market data feed it, a window settles and is scored, and the score comes back
from the ledger after a restart."""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from actors.scoreboard import SCOREBOARD_ADDRESS, ScoreboardActor
from actors.strategy import StrategyActor, strategy_address
from app.bot import scored_market
from app.modes import Mode
from messages.ledger import LEDGER
from messages.market_data import MarketLifecycle, SpotTick
from messages.queries import GetReport
from messages.trading import Fill
from runtime.supervisor import ChildSpec, SupervisorSpec
from scoring.scoreboard import WindowRecord
from scoring.scoreboard_summary import summarize
from storage import open_database, prepare
from tests.actors.pipeline_rig import SMALL_LIMITS, Fire, Pipeline, running_pipeline

WINDOW = 180  # seconds: the 2- and 1-minute moments fall inside it (the 2-minute one 60 s in)
KELLY = "kelly_volatility"


def quick(records: Sequence[WindowRecord]) -> dict[str, Any]:
    """The real scores, in process and with fewer draws (the child process has its own test)."""
    return summarize(records, draws=300)


def children(market: str) -> tuple[ChildSpec | SupervisorSpec, ...]:
    kelly = ChildSpec.of(
        strategy_address(KELLY),
        StrategyActor,
        KELLY,
        {"initial_sigma": 0.8, "min_edge": 0.9},  # it forecasts; the test strategy trades
        ledger=LEDGER,
    )
    return (
        SupervisorSpec("strategies", (kelly,)),
        ChildSpec.of(
            SCOREBOARD_ADDRESS,
            ScoreboardActor,
            market=market,
            mode="paper",
            ledger=LEDGER,
            summarizer=quick,
        ),
    )


def step(p: Pipeline) -> None:
    """One simulated second, once its index print has reached the bot and everything in
    process has been handled."""
    seen = len(p.log.messages)
    p.advance(1)
    now = p.clock.now()
    p.log.wait_until(
        lambda: any(isinstance(m, SpotTick) and m.ts >= now - 1 for m in p.log.messages[seen:]),
        what=f"the index print of {now}",
    )
    p.quiesce()


def report(p: Pipeline) -> dict[str, Any]:
    body: dict[str, Any] = p.system.ask(SCOREBOARD_ADDRESS, GetReport(), timeout=10)
    return body


def test_a_paper_window_is_scored_and_its_score_survives_a_restart() -> None:
    with tempfile.TemporaryDirectory(prefix="scoreboard-") as scratch:
        url = f"sqlite:///{scratch}/ledger.db"
        first = open_database(url)
        prepare(first)
        with running_pipeline(
            SMALL_LIMITS,
            paper=True,
            window_seconds=WINDOW,
            database=first,
            extra=children("custom"),
        ) as p:
            market = scored_market(Mode.PAPER, p.connection)
            assert market == "custom"  # the simulator on 127.0.0.1 is not Kalshi, and says so
            ticker = p.ticker
            assert [w["ticker"] for w in report(p)["open"]][:1] == [ticker]
            for _ in range(30):  # a fill to score: at the book's ask, through the paper broker
                step(p)
            [signal] = p.fire(Fire(ticker, quantity=2))
            assert p.decision_for(signal).approved
            p.log.wait_until(lambda: any(isinstance(f, Fill) for f in p.log.messages))
            while not p.log.of(MarketLifecycle):  # through the close to the settlement
                step(p)
            settled = p.log.wait_for(MarketLifecycle, lambda e: e.event_type == "settled")
            assert settled.ticker == ticker
            p.log.wait_until(lambda: report(p)["status"] == "ready", what="the scores")
            before = report(p)
        again = open_database(url)  # a new process would see only what the ledger holds
        with running_pipeline(
            SMALL_LIMITS, paper=True, window_seconds=WINDOW, database=again, extra=children(market)
        ) as q:
            q.log.wait_until(lambda: report(q)["status"] == "ready", what="the scores again")
            after = report(q)

    assert before["market"] == "custom" and before["simulated"] is False
    assert "not known to be Kalshi" in before["scored_against"]
    assert before["settled_windows"] == 1 and before["summarized_windows"] == 1
    [window] = before["recent"]
    assert window["ticker"] == ticker and window["outcome"] == settled.result
    forecasts = {f["minutes"]: f for f in window["forecasts"]}
    assert set(forecasts) == {2, 1}  # a 3-minute window has no 14-, 10- or 5-minute moment
    one = forecasts[1]
    assert one["missing"] == [] and 0 < one["model_prob"] < 1 and 0 < Decimal(one["market_mid"]) < 1
    horizons = {h["minutes"]: h for h in before["horizons"]}
    assert horizons[1]["windows"] == 1 and horizons[14]["not_in_window"] == 1
    assert horizons[1]["model_brier"]["estimate"] is not None
    assert horizons[1]["verdict"] == "too few windows to judge (1 of at least 30)"
    trades = before["trades"]
    ours = trades["by_strategy"]["pipeline-test"]  # kelly_volatility may have traded too
    assert ours["fills"] >= 1 and ours["contracts"] == 2 and ours["cost_floor_cents"] > 0
    # after the restart: the same windows and the same scores, read back from the ledger
    for key in ("settled_windows", "horizons", "trades", "recent"):
        assert after[key] == before[key], key
