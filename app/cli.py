"""The command line (▶ Command line contract in DESIGN.md)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from app.modes import Mode

_SUBCOMMANDS = {
    "exchange-sim": "run only the simulated Kalshi exchange (see: run.py exchange-sim --help)",
    "backtest": "replay history through the strategies (see: run.py backtest --help)",
    "research": "parameter sweeps on processes or Ray (see: run.py research sweep --help)",
    "export": "export trades and fills as CSV or JSON (see: run.py export --help)",
    "history": "download Kalshi's own history of a series (see: run.py history download --help)",
    "alerts": "send a test alert to every ALERT_URLS destination (run.py alerts test)",
}


def _positive(kind: Callable[[str], float]) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
        return value

    return parse


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"must be between 0 and 65535, got {port}")
    return port


def bot_parser() -> argparse.ArgumentParser:
    commands = "\n".join(f"  {name:<14}{text}" for name, text in _SUBCOMMANDS.items())
    parser = argparse.ArgumentParser(
        prog="run.py",
        description=(
            "sol15: an actor-model trading bot for Kalshi's 15-minute SOL markets (KXSOL15M). "
            "Without Kalshi credentials it runs in sim mode against a built-in local exchange."
        ),
        epilog=f"other commands:\n{commands}\n\nSettings come from the environment and .env "
        "(see .env.example).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--mode",
        choices=[m.value for m in Mode],
        help="sim (local exchange, default without credentials), paper (real data, simulated "
        "fills; default with credentials) or live (real orders; also needs DRY_RUN_MODE=false "
        "and --live)",
    )
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="address the dashboard and API listen on (default: 127.0.0.1)",
    )
    parser.add_argument(
        "--port",
        type=_port,
        default=8000,
        help="port of the dashboard and API (default: 8000; 0 = any free port)",
    )
    parser.add_argument(
        "--duration",
        type=_positive(float),
        metavar="SECONDS",
        help="run this long, then shut down as on SIGTERM (default: until stopped)",
    )
    parser.add_argument(
        "--chaos",
        type=_positive(float),
        metavar="RATE",
        help="inject RATE random actor crashes per minute (to watch the supervisors heal)",
    )
    parser.add_argument("--db", metavar="URL", help="database URL (overrides DATABASE_URL)")
    parser.add_argument(
        "--live",
        action="store_true",
        help="confirm live trading with real money (needs credentials and DRY_RUN_MODE=false)",
    )
    parser.add_argument(
        "--env-file", default=".env", metavar="FILE", help="settings file to read (default: .env)"
    )
    parser.add_argument("--seed", type=int, help="seed for every random choice (reproducible runs)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list and args_list[0] in _SUBCOMMANDS:
        return _run_subcommand(args_list[0], args_list[1:])
    args = bot_parser().parse_args(args_list)
    from app.bot import run_bot

    return run_bot(args)


def _run_subcommand(name: str, argv: list[str]) -> int:
    if name == "exchange-sim":
        from simulator.cli import main as exchange_sim

        return int(exchange_sim(argv))
    if name == "backtest":
        from backtest.cli import main as backtest

        return backtest(argv)
    if name == "research":
        from research.cli import main as research

        return research(argv)
    if name == "export":
        from config.ledger import export_ledger
        from storage.export import main as export

        return export(argv, export_ledger)
    if name == "history":
        from app.history import main as history

        return history(argv)
    if name == "alerts":
        from app.alerts_cli import main as alerts

        return alerts(argv)
    print(f"run.py {name}: not yet available in this version of sol15", file=sys.stderr)
    return 2
