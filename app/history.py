"""``python run.py history download``: Kalshi's own history of a series, into a folder.

    python run.py history download --series KXSOL15M --since 2026-05-01 --until 2026-06-01 \\
        --out data/kalshi/sol-may

The folder (format: :mod:`backtest.kalshi_layout`, and the README) replays with
``run.py backtest --market kalshi:DIR``. Running the same command again resumes an
interrupted download. Exit codes: 0 done, 1 stopped by the exchange (resumable),
2 bad input, 130 interrupted by Ctrl-C (resumable).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import httpx

from app.exchange import simulator_identity
from app.history_download import Downloader, DownloadInterrupted, DownloadRequest
from app.history_store import FolderStore, StoreError
from backtest.progress import ProgressBar
from config.settings import ConfigError, KalshiEnv, Settings, load_settings
from kalshi.auth import Signer
from kalshi.environment import DEMO, PRODUCTION
from kalshi.errors import KalshiError
from kalshi.indices import SERIES_INDEX
from kalshi.rate_limit import tier_named
from kalshi.rest import KalshiRestClient

EXIT_OK, EXIT_STOPPED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
RESUME = "everything fetched so far is kept: run the same command again to resume"


def _time(text: str) -> int:
    """``YYYY-MM-DD`` (midnight UTC), an ISO 8601 time (UTC unless it says otherwise) or
    Unix seconds."""
    if text.strip().isdigit():
        return int(text)
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not a date: {text!r} (use 2026-05-01 or 2026-05-01T12:00)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="run.py history",
        description="Download Kalshi's own history of a series (settled markets, 1-minute "
        "candlesticks, public trades, CF Benchmarks index values) as the API's JSON, "
        "unmodified; replay it with: run.py backtest --market kalshi:DIR",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    download = commands.add_parser("download", help="download (or resume) into a folder")
    download.add_argument("--series", required=True, help="series ticker, e.g. KXSOL15M")
    download.add_argument(
        "--since", required=True, type=_time, metavar="DATE", help="first close time (UTC)"
    )
    download.add_argument(
        "--until",
        required=True,
        type=_time,
        metavar="DATE",
        help="close times before this (UTC; a bare date is that day's midnight)",
    )
    download.add_argument("--out", required=True, type=Path, metavar="DIR", help="the folder")
    download.add_argument(
        "--index",
        metavar="ID",
        help="CF Benchmarks index to fetch (default: the series' own, e.g. SOLUSD_RTI)",
    )
    download.add_argument(
        "--api-base",
        metavar="URL",
        help="REST base (default: KALSHI_API_BASE, else KALSHI_ENV's; an exchange-sim's works)",
    )
    download.add_argument(
        "--env-file", default=".env", metavar="FILE", help="settings file (default: .env)"
    )
    return parser


def client_for(settings: Settings, api_base: str | None) -> tuple[KalshiRestClient, bool]:
    """A client for the configured exchange; signed when a key is configured."""
    environment = DEMO if settings.kalshi_env is KalshiEnv.DEMO else PRODUCTION
    base = api_base or settings.kalshi_api_base or environment.api_base
    signer = None
    if settings.kalshi_api_key is not None and settings.kalshi_private_key_path is not None:
        signer = Signer.from_file(
            settings.kalshi_api_key.get_secret_value(), settings.kalshi_private_key_path
        )
    client = KalshiRestClient(base, signer, tier=tier_named(settings.kalshi_rate_tier))
    if signer is not None:
        client.adopt_account_limits()
    return client, signer is not None


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    except SystemExit as exc:
        return int(exc.code) if isinstance(exc.code, int) else EXIT_USAGE
    if args.until <= args.since:
        return _fail("--until must be after --since", EXIT_USAGE)
    try:
        settings = load_settings(args.env_file)
    except ConfigError as exc:
        return _fail(f"bad settings:\n{exc}", EXIT_USAGE)
    index = args.index or SERIES_INDEX.get(args.series)
    client, signed = client_for(settings, args.api_base)
    request = DownloadRequest(args.series, args.since, args.until, index, _source(client))
    bar = ProgressBar(f"history {args.series}")

    def progress(done: int, total: int, ticker: str) -> None:
        bar.set_range(0, total)
        bar(done, ticker)

    try:
        with client:
            downloader = Downloader(
                client, FolderStore(args.out), request, signed=signed, say=_say, progress=progress
            )
            report = downloader.run()
    except StoreError as exc:
        return _fail(str(exc), EXIT_USAGE)
    except DownloadInterrupted as exc:
        return _fail(f"stopped: the exchange kept refusing ({exc}); {RESUME}", EXIT_STOPPED)
    except KalshiError as exc:
        return _fail(f"stopped: {exc}; {RESUME}", EXIT_STOPPED)
    except KeyboardInterrupt:
        return _fail(f"interrupted; {RESUME}", EXIT_INTERRUPTED)
    finally:
        bar.close()
    lines = [
        f"{args.out}: {report.markets} settled market{'' if report.markets == 1 else 's'} "
        f"of {args.series} closing "
        f"{_day(args.since)} to {_day(args.until)}"
        + (" (resumed)" if report.resumed else "")
        + f"; {report.trades} trades written by this run",
        f"  index: {report.index}",
    ]
    if report.without_candles:
        lines.append(
            f"  no candlesticks for {len(report.without_candles)} markets (the exchange "
            f"answered 404): {', '.join(report.without_candles[:5])}"
        )
    print("\n".join(lines))
    return EXIT_OK


def _source(client: KalshiRestClient) -> dict[str, str]:
    """The exchange's address, and the simulator's name when it is sol15's exchange-sim."""
    source = {"api_base": client.api_base}
    try:
        name = simulator_identity(client.api_base + "/exchange/status")
    except httpx.HTTPError:
        name = None  # the download itself will say what is wrong
    if name:
        source["simulator"] = name
    return source


def _day(ts: int) -> str:
    moment = datetime.fromtimestamp(ts, tz=UTC)
    if moment == moment.replace(hour=0, minute=0, second=0):
        return f"{moment:%Y-%m-%d}" if ts else "0"
    return f"{moment:%Y-%m-%d %H:%M}"


def _say(text: str) -> None:
    print(text, file=sys.stderr)


def _fail(message: str, code: int) -> int:
    print(f"run.py history: {message}", file=sys.stderr)
    return code
