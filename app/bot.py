"""Assemble the supervision tree for a mode and run it until a signal, ``--duration`` or escalation."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from types import FrameType

from loguru import logger

from actors.health_monitor import HealthMonitor
from app.modes import Mode, ModeError, resolve_mode
from config.settings import ConfigError, Settings, load_settings
from runtime.faults import ChaosMonkey
from runtime.log import setup_logging
from runtime.restart_policy import Strategy
from runtime.supervisor import ChildSpec, SupervisorSpec
from runtime.system import ActorSystem

EXIT_OK = 0
EXIT_ESCALATED = 1
EXIT_BAD_CONFIG = 2
EXIT_FORCED = 130


def build_tree(settings: Settings, chaos: float | None = None) -> SupervisorSpec:
    """The supervision tree: market data, strategies, trading (rest_for_one) and the runtime's own actors."""
    del settings  # the trading actors that read it arrive with the pipeline
    children: list[ChildSpec | SupervisorSpec] = [
        SupervisorSpec("market-data", max_restarts=10, within=60.0),
        SupervisorSpec("strategies", max_restarts=10, within=60.0),
        SupervisorSpec("trading", strategy=Strategy.REST_FOR_ONE, max_restarts=10, within=60.0),
        ChildSpec.of("health", HealthMonitor),
    ]
    if chaos is not None:
        children.append(ChildSpec.of("chaos", ChaosMonkey, chaos))
    return SupervisorSpec("root", tuple(children), max_restarts=20, within=60.0)


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


def run_bot(args: argparse.Namespace) -> int:
    try:
        overrides = {"database_url": args.db} if args.db else {}
        settings = load_settings(args.env_file, **overrides)
        mode = resolve_mode(args.mode, settings, args.live)
    except ConfigError as exc:
        for line in exc.lines:
            print(f"config error: {line}", file=sys.stderr)
        return EXIT_BAD_CONFIG
    except ModeError as exc:
        print(f"refusing to start: {exc}", file=sys.stderr)
        return EXIT_BAD_CONFIG
    api_key = settings.kalshi_api_key.get_secret_value() if settings.kalshi_api_key else None
    token = settings.api_token.get_secret_value() if settings.api_token else None
    setup_logging(
        settings.log_level.value,
        as_json=settings.log_json,
        log_dir=settings.log_dir,
        secrets=(api_key, token),
    )
    if mode is not Mode.SIM:
        logger.error("{} mode is not yet available in this version of sol15", mode.value)
        return EXIT_BAD_CONFIG

    stop = threading.Event()
    _Signals(stop).install()
    logger.info("sol15 starting in {} mode", mode.value)
    return supervise(
        ActorSystem(seed=args.seed), build_tree(settings, args.chaos), stop, args.duration
    )


def supervise(
    system: ActorSystem, spec: SupervisorSpec, stop: threading.Event, duration: float | None
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
    tree = system.tree() if not escalated else None
    system.shutdown()
    restarts = sum(node.restarts for node in tree.walk()) if tree else 0
    logger.info("stopped: {} restarts, {} dead letters", restarts, system.dead_letters.total)
    return EXIT_ESCALATED if escalated else EXIT_OK
