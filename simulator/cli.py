"""``exchange-sim``: run the simulated Kalshi exchange on its own.

Without ``--public-key`` a demo key pair is created (once) under the data
directory and its key id, private-key path, REST base and WebSocket URL are
printed, so any Kalshi client can connect. SIGINT/SIGTERM stop it cleanly
(exit 0). ``--series`` lists several 15-minute crypto series at once, each on its own
correlated index; every index is logged at INFO once per second.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import uuid
from dataclasses import replace
from decimal import Decimal, InvalidOperation
from pathlib import Path

from loguru import logger

from kalshi.auth import KeyFileError, generate_private_key, private_key_pem, public_key_pem
from runtime.net import is_loopback_host
from simulator.catalog import CATALOG, map_calibrations, parse_series, with_preset, with_series
from simulator.clock import wall_clock
from simulator.config import DEFAULT_MARKET_PRESET, MARKET_PRESETS, ConfigError, ExchangeConfig
from simulator.exchange import Exchange
from simulator.faults import Faults
from simulator.keys import KeyRegistry
from simulator.server import SimServer

DEFAULT_DATA_DIR = Path("data/exchange-sim")
DEFAULT_SERIES = "KXSOL15M"
DEMO_USER = "demo"


def _decimal(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value.is_finite() or value < 0:
        raise argparse.ArgumentTypeError(f"must be a non-negative number: {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="exchange-sim",
        description="A local exchange that speaks Kalshi's REST and WebSocket API "
        "(15-minute crypto markets, KXSOL15M by default, each series on its own simulated "
        "index).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8100, help="port to listen on (0: any)")
    parser.add_argument("--seed", type=int, default=0, help="random seed of the whole run")
    parser.add_argument(
        "--window-seconds", type=int, default=900, help="market window length (>= 60)"
    )
    parser.add_argument(
        "--series",
        default=DEFAULT_SERIES,
        help="comma-separated series to list (or all: " + ", ".join(CATALOG) + "); "
        f"default {DEFAULT_SERIES}",
    )
    parser.add_argument(
        "--volatility",
        type=float,
        default=None,
        help="annualized volatility of the first series' index (SOL's when it is listed)",
    )
    parser.add_argument(
        "--market-preset",
        choices=sorted(MARKET_PRESETS),
        default=DEFAULT_MARKET_PRESET,
        help="market makers: sharp (as sharp as Kalshi's mid, default) or soft (lenient)",
    )
    parser.add_argument(
        "--lag-seconds",
        type=int,
        default=None,
        help="how far the market makers' fair value lags the index",
    )
    parser.add_argument(
        "--starting-balance", type=_decimal, default=None, help="dollars for each new user"
    )
    parser.add_argument(
        "--historical-after-seconds",
        type=int,
        default=None,
        help="archive markets and trades this long after they settle or trade (served only "
        "by /historical/*; default 90 days, as Kalshi's ~3 months)",
    )
    parser.add_argument("--key-id", help="API key id to register (with --public-key)")
    parser.add_argument("--public-key", type=Path, help="PEM public key of that API key")
    parser.add_argument(
        "--data-dir", type=Path, default=DEFAULT_DATA_DIR, help="where the demo key pair lives"
    )
    parser.add_argument("--heartbeat-seconds", type=float, default=10.0, help="WS ping interval")
    parser.add_argument(
        "--allow-remote-control",
        action="store_true",
        help="let clients beyond this machine use the unauthenticated /sim control endpoints "
        "(faults, clock); without it they answer loopback clients only",
    )
    return parser


def _demo_key(data_dir: Path) -> tuple[str, Path, bytes]:
    """The demo key pair under ``data_dir``, created on first use (private key 0600)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    private_path = data_dir / "demo-private-key.pem"
    public_path = data_dir / "demo-public-key.pem"
    id_path = data_dir / "demo-key-id.txt"
    if private_path.exists() and public_path.exists() and id_path.exists():
        os.chmod(private_path, 0o600)
        return id_path.read_text().strip(), private_path, public_path.read_bytes()
    key = generate_private_key()
    fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(private_key_pem(key))
    os.chmod(private_path, 0o600)
    public = public_key_pem(key.public_key())
    public_path.write_bytes(public)
    key_id = str(uuid.uuid4())
    id_path.write_text(key_id + "\n")
    return key_id, private_path, public


def build_config(args: argparse.Namespace) -> ExchangeConfig:
    config = ExchangeConfig(seed=args.seed, window_seconds=args.window_seconds)
    config = with_series(config, parse_series(args.series, "--series"))
    config = with_preset(config, args.market_preset, "--market-preset")
    if args.lag_seconds is not None:
        lag = args.lag_seconds
        config = map_calibrations(config, lambda c: replace(c, fair_value_lag_seconds=lag))
    if args.volatility is not None:
        config = replace(config, index=replace(config.index, volatility=args.volatility))
    if args.starting_balance is not None:
        config = replace(config, starting_balance=args.starting_balance)
    if args.historical_after_seconds is not None:
        config = replace(config, historical_after_seconds=args.historical_after_seconds)
    config.validate()
    return config


def _say_who_controls(host: str, allow_remote: bool) -> None:
    """Exposing the unauthenticated /sim endpoints is never silent."""
    if allow_remote:
        logger.warning(
            "exchange-sim: --allow-remote-control: anyone who can reach {} may change faults "
            "and the clock through /sim (no authentication)",
            host,
        )
    elif not is_loopback_host(host):
        logger.info(
            "exchange-sim: listening on {}; the /sim control endpoints answer loopback clients "
            "only (--allow-remote-control exposes them)",
            host,
        )


class _Refused(Exception):
    """A start-up problem the operator must fix (flags, key files): printed, exit status 2."""


def _keys(args: argparse.Namespace) -> tuple[str, Path | None, bytes]:
    """The API key the simulator accepts: the operator's public key, or a demo key pair
    written to the data folder (its private half's path is printed for the bot)."""
    try:
        if args.public_key is not None:
            return args.key_id, None, args.public_key.read_bytes()
        return _demo_key(args.data_dir)
    except OSError as exc:
        raise _Refused(f"cannot read or write key files: {exc}") from None


def _exchange(
    config: ExchangeConfig, key_id: str, public: bytes, demo: bool
) -> tuple[Exchange, KeyRegistry]:
    """The exchange with one user, who owns the key (the demo user for the demo key)."""
    exchange = Exchange(config, start=wall_clock())
    keys = KeyRegistry()
    user_id = exchange.create_user(DEMO_USER if demo else f"key:{key_id}")
    try:
        keys.register(key_id, public, user_id)
    except KeyFileError as exc:
        raise _Refused(str(exc)) from None
    return exchange, keys


async def _serve(
    server: SimServer, args: argparse.Namespace, key_id: str, private_path: Path | None
) -> None:
    """Listen until SIGINT/SIGTERM, after printing the settings a bot needs to connect."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        await server.start()
    except OSError as exc:
        raise SystemExit(f"exchange-sim: cannot listen on {args.host}:{args.port}: {exc}") from None
    _say_who_controls(args.host, args.allow_remote_control)
    print(f"KALSHI_API_BASE={server.api_base}", flush=True)
    print(f"KALSHI_WS_URL={server.ws_url}", flush=True)
    print(f"KALSHI_API_KEY={key_id}", flush=True)
    if private_path is not None:
        print(f"KALSHI_PRIVATE_KEY_PATH={private_path.resolve()}", flush=True)
    try:
        await stop.wait()
    finally:
        logger.info("stopping the exchange simulator")
        await server.stop()


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    try:
        if (args.key_id is None) != (args.public_key is None):
            raise _Refused("--key-id and --public-key go together")
        try:
            config = build_config(args)
        except ConfigError as exc:
            raise _Refused(str(exc)) from None
        key_id, private_path, public = _keys(args)
        exchange, keys = _exchange(config, key_id, public, demo=private_path is not None)
    except _Refused as exc:
        print(f"exchange-sim: {exc}", file=sys.stderr)
        return 2
    server = SimServer(
        exchange,
        clock=wall_clock,
        keys=keys,
        faults=Faults(config.seed),
        host=args.host,
        port=args.port,
        heartbeat_seconds=args.heartbeat_seconds or None,
        log_index=True,
        allow_remote_control=args.allow_remote_control,
    )
    try:
        asyncio.run(_serve(server, args, key_id, private_path))
    except SystemExit as exc:
        if isinstance(exc.code, str):
            print(exc.code, file=sys.stderr)
            return 1
        raise
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main(sys.argv[1:]))
