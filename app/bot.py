"""Assemble the supervision tree for a mode and run it until a signal, ``--duration`` or escalation."""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from types import FrameType
from typing import Any

from loguru import logger

from actors.alerts import alerter_child
from actors.console import CONSOLE, ConsoleReporter
from actors.discovery import MarketDiscovery
from actors.health_monitor import HealthMonitor
from actors.ledger import LedgerActor
from actors.market_stream import MarketStream, spot_feeds
from actors.order import OrderActor
from actors.risk import RiskActor
from actors.scoreboard import SCOREBOARD_ADDRESS, ScoreboardActor
from actors.spot_feed import SpotFeed, history_sources
from actors.strategy import StrategyActor, strategy_address
from actors.ws_hub import WebSocketHub
from alerting.targets import split_urls
from app.exchange import exchange_for
from app.feed_indices import check_offered, offered_indices
from app.fill_watch import FILL_WATCH, FillWatch
from app.modes import Mode, ModeError, resolve_mode
from app.series import SeriesError, fallback_series, resolve_series, series_client
from app.startup import StartupError, check_directories, check_port
from app.summary import SessionSummary, market_label
from config.settings import ConfigError, Settings, load_settings
from execution.kalshi_broker import SessionOrderGroup
from hub.config import HubConfig, HubConfigError
from hub.store import HubStore
from kalshi.auth import KeyFileError
from kalshi.connection import ExchangeConnection
from kalshi.environment import environment_name
from messages.ledger import LEDGER, Flush
from risk.limits import RiskLimits
from runtime.faults import ChaosMonkey
from runtime.log import setup_logging
from runtime.restart_policy import Strategy
from runtime.supervisor import ChildSpec, SupervisorSpec
from runtime.system import ActorSystem
from storage import Database, LedgerError, open_database, prepare
from storage.history import LedgerHistory
from storage.locks import InstanceLocked, Lock, lock_directory, lock_ledger
from storage.migrate import legacy_notice
from storage.performance import LedgerPerformance
from storage.schema import NO_SCOPE, Scope

EXIT_OK = 0
EXIT_ESCALATED = 1
EXIT_BAD_CONFIG = 2
EXIT_FORCED = 130


def build_tree(
    settings: Settings,
    mode: Mode,
    connection: ExchangeConnection,
    hub: HubConfig,
    store: HubStore,
    chaos: float | None = None,
    database: Database | None = None,
    markets: Mapping[str, str] | None = None,
) -> SupervisorSpec:
    """The supervision tree: hub, trading (rest_for_one), market data, strategies, health.

    With a ``database`` the trading subtree is ledger → risk → order: a restarted ledger
    also restarts the actors whose state it holds. ``markets``: series → index id (see
    :func:`app.series.resolve_series`; default: ``SERIES`` with the fallback table).
    """
    markets = dict(markets) if markets else fallback_series(settings.series_settings)
    feeds = spot_feeds(markets.values())  # one SpotFeed per index, on the one WebSocket
    children: list[ChildSpec | SupervisorSpec] = [
        ChildSpec.of("hub", WebSocketHub, hub, store, shutdown_timeout=15.0),
        ChildSpec.of(FILL_WATCH, FillWatch),  # before the market data: it sees every listing
        ChildSpec.of(CONSOLE, ConsoleReporter),  # before trading: a line for everything it does
        trading_tree(settings, mode, connection, database),
        market_data_tree(settings, mode, connection, database, markets, feeds),
        strategies_tree(settings, markets, feeds, database is not None),
        scoreboard_child(mode, connection, database is not None),
        ChildSpec.of("health", HealthMonitor, series=tuple(markets)),
    ]
    if settings.alert_urls is not None:  # alerts to the operator's phone, off the order path
        children.append(alerter_child(settings, f"sol15 {mode.value}", database))
    if chaos is not None:
        children.append(ChildSpec.of("chaos", ChaosMonkey, chaos, frozenset({"hub"})))
    return SupervisorSpec("root", tuple(children), max_restarts=20, within=60.0)


def trading_tree(
    settings: Settings, mode: Mode, connection: ExchangeConnection, database: Database | None
) -> SupervisorSpec:
    """Ledger → risk → order, rest_for_one: each holds state the next one relies on, so a
    restart of one restarts those after it. Paper mode sends nothing to the exchange."""
    paper = mode is Mode.PAPER
    limits = RiskLimits.from_settings(settings)
    # The session's order group: an exchange-side cap on contracts matched per 15 s that
    # also cancels everything when triggered (on a halt, at shutdown). Paper sends nothing.
    kill_switch = (
        None
        if paper
        else SessionOrderGroup(settings.order_group_contracts or limits.kill_switch_contracts())
    )
    ledger: tuple[ChildSpec, ...] = ()
    if database is not None:
        ledger = (ChildSpec.of(LEDGER, LedgerActor, database, shutdown_timeout=15.0),)
    return SupervisorSpec(
        "trading",
        (
            *ledger,
            ChildSpec.of(
                "risk",
                RiskActor,
                limits,
                None if paper else connection,
                settings.paper_bankroll,
                ledger=LEDGER if database is not None else None,
            ),
            ChildSpec.of(
                "order",
                OrderActor,
                connection,
                paper=paper,
                database=database,
                order_group=kill_switch,
                max_intent_age=settings.max_intent_age_seconds,
            ),
        ),
        strategy=Strategy.REST_FOR_ONE,
        max_restarts=10,
        within=60.0,
    )


def market_data_tree(
    settings: Settings,
    mode: Mode,
    connection: ExchangeConnection,
    database: Database | None,
    markets: Mapping[str, str],
    feeds: Mapping[str, str],
) -> SupervisorSpec:
    """Spot feeds, the market stream and discovery, one_for_one: a dropped feed or socket
    restarts alone while the trading subtree keeps its state."""
    window = settings.sim_window_seconds if mode is Mode.SIM else 900
    return SupervisorSpec(
        "market-data",
        (
            *(
                ChildSpec.of(
                    address,
                    SpotFeed,
                    index_id=index_id,
                    history=history_sources(connection, database),
                    ledger=LEDGER if database is not None else None,
                )
                for index_id, address in feeds.items()
            ),
            ChildSpec.of(
                "stream",
                MarketStream,
                connection,
                private_channels=mode is not Mode.PAPER,
                feeds=feeds,
            ),
            ChildSpec.of(
                "discovery", MarketDiscovery, connection, series=markets, window_seconds=window
            ),
        ),
        max_restarts=20,
        within=60.0,
    )


def scoreboard_child(mode: Mode, connection: ExchangeConnection, ledger: bool) -> ChildSpec:
    """The scoreboard, told whose market mids it scores against and, with a ledger, where
    to record its scores."""
    return ChildSpec.of(
        SCOREBOARD_ADDRESS,
        ScoreboardActor,
        market=scored_market(mode, connection),
        mode=mode.value,
        ledger=LEDGER if ledger else None,
    )


def strategies_tree(
    settings: Settings, markets: Mapping[str, str], feeds: Mapping[str, str], ledger: bool
) -> SupervisorSpec:
    """One actor per strategy, each trading the series that enable it
    (``SERIES_<TICKER>_STRATEGIES``, else ``STRATEGIES``) and reading their indices."""
    overrides = settings.strategy_overrides
    defaults: dict[str, dict[str, Any]] = {
        "kelly_volatility": {"bankroll": str(settings.paper_bankroll)}
    }
    chosen = settings.series_settings
    trading = {s: chosen.strategies_for(s, settings.strategy_names) for s in markets}
    names = list(dict.fromkeys([n for found in trading.values() for n in found]))
    children = []
    for name in names:
        series = frozenset(s for s, found in trading.items() if name in found)
        every = series == frozenset(markets)
        indices = {markets[s] for s in series}
        children.append(
            ChildSpec.of(
                strategy_address(name),
                StrategyActor,
                name,
                {**defaults.get(name, {}), **overrides.get(name, {})} or None,
                ledger=LEDGER if ledger else None,
                feeds=feeds if every else {i: a for i, a in feeds.items() if i in indices},
                series=None if every else series,
            )
        )
    return SupervisorSpec("strategies", tuple(children), max_restarts=10, within=60.0)


def scored_market(mode: Mode, connection: ExchangeConnection) -> str:
    """What the scoreboard's market mids are: Kalshi's real book only in paper and live mode
    against Kalshi's production hosts."""
    if mode is Mode.SIM:
        return "simulated"
    where = environment_name(connection.api_base)
    return {"production": "kalshi", "demo": "kalshi-demo"}.get(where, "custom")


class _Signals:
    """First SIGINT/SIGTERM: orderly stop. A second SIGINT: exit at once."""

    def __init__(self, stop: threading.Event) -> None:
        self.stop = stop
        self.count = 0

    def install(self) -> None:
        signal.signal(signal.SIGINT, self._handle)
        signal.signal(signal.SIGTERM, self._handle)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        del frame
        self.count += 1
        if self.count > 1 and signum == signal.SIGINT:
            sys.stderr.write("second interrupt: forcing exit\n")
            os._exit(EXIT_FORCED)
        self.stop.set()


def _fail(text: str) -> int:
    print(text, file=sys.stderr)
    return EXIT_BAD_CONFIG


def _configure(args: argparse.Namespace) -> tuple[Settings, Mode, HubConfig]:
    """Settings, mode and hub configuration, and the checks that need no lock or network."""
    overrides = {"database_url": args.db} if args.db else {}
    settings = load_settings(args.env_file, **overrides)
    mode = resolve_mode(args.mode, settings, args.live)
    hub = HubConfig.from_settings(settings, args.host, args.port, mode.value)
    check_directories(settings)
    check_port(args.host, args.port)
    return settings, mode, hub


def run_bot(args: argparse.Namespace) -> int:
    """Configure, take the ledger, lock and exchange, then run the tree; the exit code."""
    try:
        settings, mode, hub = _configure(args)
    except ConfigError as exc:
        return _fail("\n".join(f"config error: {line}" for line in exc.lines))
    except (ModeError, HubConfigError, StartupError) as exc:
        return _fail(f"refusing to start: {exc}")
    _setup_logging(settings)
    stop = threading.Event()
    _Signals(stop).install()
    logger.info("sol15 starting in {} mode", mode.value)
    held = contextlib.ExitStack()  # the locks, the ledger and the exchange, closed in reverse
    try:
        try:
            database, connection, markets = _acquire(args, settings, mode, held)
        except (LedgerError, InstanceLocked, ModeError, SeriesError) as exc:
            return _fail(f"refusing to start: {exc}")
        except KeyFileError as exc:
            return _fail(f"config error: KALSHI_PRIVATE_KEY_PATH: {exc}")
        system = ActorSystem(seed=args.seed)
        history, store = _ledger_readers(system, database, settings, hub)
        spec = build_tree(
            settings, mode, connection, hub, store, args.chaos, database=database, markets=markets
        )
        logger.info("dashboard and API: http://{}:{}", args.host, args.port)
        summary = SessionSummary(
            history, system.clock.now(), market=market_label(mode, settings), seed=args.seed or 0
        )
        return supervise(system, spec, stop, args.duration, summary)
    finally:
        held.close()


def _setup_logging(settings: Settings) -> None:
    """Logging with every secret the bot holds masked, before anything can log one."""
    api_key = settings.kalshi_api_key.get_secret_value() if settings.kalshi_api_key else None
    token = settings.api_token.get_secret_value() if settings.api_token else None
    alert_urls = split_urls(settings.alert_urls.get_secret_value()) if settings.alert_urls else []
    setup_logging(
        settings.log_level.value,
        as_json=settings.log_json,
        log_dir=settings.log_dir,
        secrets=(api_key, token, *alert_urls),
    )


def _acquire(
    args: argparse.Namespace, settings: Settings, mode: Mode, held: contextlib.ExitStack
) -> tuple[Database, ExchangeConnection, dict[str, str]]:
    """The ledger (locked), the data directory's lock, the exchange and the series it offers:
    everything pushed on ``held`` so a refusal part-way releases what was taken."""
    database = open_ledger(
        settings.ledger_url(mode.value),
        settings.data_dir,
        held,
        scope=Scope.of(mode.value, settings.kalshi_env.value),
        legacy=settings.database_url is None,
    )
    held.enter_context(_held(lock_directory(settings.data_dir)))
    connection = held.enter_context(exchange_for(mode, settings, args.seed))
    with series_client(connection) as rest:
        markets = resolve_series(settings.series_settings, rest)
    check_offered(markets, offered_indices(connection.ws_url, connection.signer))
    return database, connection, markets


def _ledger_readers(
    system: ActorSystem, database: Database, settings: Settings, hub: HubConfig
) -> tuple[LedgerHistory, HubStore]:
    """The API's history endpoints, the status's order counts and the session summary read
    the ledger, flushing the ledger actor first so they see what it still holds."""
    history = LedgerHistory(
        database,
        flush=ledger_flush(system, hub.ask_timeout),
    )
    # /api/performance: the P&L replayed from the ledger (the paper bankroll is the
    # starting balance only until the ledger has recorded a day)
    performance = LedgerPerformance(
        database,
        settings.paper_bankroll,
        flush=lambda: system.ask(LEDGER, Flush(), timeout=hub.ask_timeout),
    )
    store = HubStore(hub.history_limit, reader=history, performance=performance)
    return history, store


def ledger_flush(system: ActorSystem, timeout: float) -> Callable[[], object]:
    """Ask the ledger to write what it holds; before it has started (the dashboard may be
    read first) that fails quietly: a probe, not a dead letter at every start."""
    return lambda: system.ask(LEDGER, Flush(), timeout=timeout, probe=True)


@contextlib.contextmanager
def _held(lock: Lock) -> Iterator[None]:
    try:
        yield
    finally:
        lock.release()


def open_ledger(
    url: str,
    data_dir: Path | None = None,
    held: contextlib.ExitStack | None = None,
    *,
    scope: Scope = NO_SCOPE,
    legacy: bool = False,
) -> Database:
    """The ledger, created or migrated; raises ``LedgerError`` (unreachable, foreign, too new).

    With ``held`` it is locked first (``InstanceLocked`` when another bot uses it), and
    both lock and engine are released when ``held`` closes. The write-ahead log of
    intents is a local file: beside a SQLite ledger, or in ``data_dir`` with PostgreSQL.
    """
    server = not url.startswith("sqlite")
    # one write-ahead log per mode too: recovery never adopts another mode's intents
    log = "sol15-intents.log" if scope.mode == NO_SCOPE.mode else f"sol15-{scope.mode}-intents.log"
    intents = data_dir / log if server and data_dir is not None else None
    notice = legacy_notice(data_dir, url) if legacy and data_dir is not None else None
    if notice is not None:
        logger.warning("ledger: {}", notice)
    with contextlib.ExitStack() as own:
        database = open_database(url, intents_path=intents, scope=scope)
        own.callback(database.dispose)
        if held is not None:
            own.enter_context(_held(lock_ledger(database)))
        version = prepare(database)
        kept = own.pop_all()
    if held is not None:
        held.push(kept)
    logger.info(
        "ledger: {} (schema version {}, {} history)", database.safe_url, version, scope.mode
    )
    return database


def supervise(
    system: ActorSystem,
    spec: SupervisorSpec,
    stop: threading.Event,
    duration: float | None,
    before_stop: Callable[[ActorSystem], None] | None = None,
) -> int:
    """Run the tree until ``stop``, ``duration`` or an escalation of the root; the exit code."""
    system.on_escalation(lambda crash: stop.set())
    system.start(spec)
    logger.info(
        "sol15 running ({} actors){}",
        len(system.tree().walk()),
        f", stopping after {duration:g} s" if duration else "",
    )
    stop.wait(timeout=duration)
    escalated = system.escalated.is_set()
    logger.info("shutting down: {}", "root supervisor escalated" if escalated else "stop requested")
    if not escalated and before_stop is not None:
        before_stop(system)
    system.shutdown()
    kinds = system.dead_letters.kinds(5)
    logger.info(
        "stopped: {} dead letters{}",
        system.dead_letters.total,
        "".join(f"; {k['count']}× {k['message']} → {k['to']} ({k['reason']})" for k in kinds),
    )
    return EXIT_ESCALATED if escalated else EXIT_OK
