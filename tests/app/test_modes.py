"""Mode selection: the whole table of flags, and the guard on where sim mode may send orders."""

from __future__ import annotations

import itertools
import re
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.exchange import check_sim_exchange, exchange_for, simulator_identity
from app.modes import Mode, ModeError, resolve_mode
from config.settings import Settings
from simulator.identity import SIMULATOR_HEADER
from simulator.testing import running_exchange

CREDS = "set KALSHI_API_KEY and KALSHI_PRIVATE_KEY_PATH"
DRY_OFF = "set DRY_RUN_MODE=false"
CONFIRM = "pass --live"


def _settings(credentials: bool, dry_run: bool = True, **extra: Any) -> Settings:
    if credentials:
        extra = {"kalshi_api_key": "kid", "kalshi_private_key_path": Path("k.pem"), **extra}
    return Settings(_env_file=None, dry_run_mode=dry_run, **extra)


def _expected(requested: str | None, creds: bool, dry: bool, live: bool) -> Mode | list[str]:
    """The rule, written out: a mode, or the phrases the refusal must contain."""
    if requested == "sim":
        return ["drop --live"] if live else Mode.SIM
    if requested == "paper":
        problems = ([CREDS] if not creds else []) + (["drop --live"] if live else [])
        return problems or Mode.PAPER
    if requested is None and dry and not live:
        return Mode.PAPER if creds else Mode.SIM
    # live: asked for by --mode live, by --live, or by DRY_RUN_MODE=false
    missing = ([CREDS] if not creds else []) + ([DRY_OFF] if dry else [])
    missing += [CONFIRM] if not live else []
    if not missing:
        return Mode.LIVE
    if requested is None:  # the way back to a run that sends nothing real
        missing += (["drop --live"] if live else []) + (["DRY_RUN_MODE=true"] if not dry else [])
    return missing


TABLE = list(
    itertools.product((None, "sim", "paper", "live"), (False, True), (True, False), (False, True))
)


@pytest.mark.parametrize(("requested", "creds", "dry", "live"), TABLE)
def test_every_combination_of_the_flags(
    requested: str | None, creds: bool, dry: bool, live: bool
) -> None:
    expected = _expected(requested, creds, dry, live)
    settings = _settings(creds, dry)
    if isinstance(expected, Mode):
        assert resolve_mode(requested, settings, live_flag=live) is expected
        return
    with pytest.raises(ModeError) as refused:
        resolve_mode(requested, settings, live_flag=live)
    for phrase in expected:
        assert phrase in str(refused.value), (phrase, str(refused.value))


def test_live_flag_with_dry_run_true_is_refused_not_paper() -> None:
    """The audit's case: credentials, DRY_RUN_MODE=true and --live used to run paper silently."""
    with pytest.raises(
        ModeError, match=r"set DRY_RUN_MODE=false.*or, to send nothing real, drop --live"
    ):
        resolve_mode(None, _settings(True, dry_run=True), live_flag=True)


def test_paper_with_the_live_flag_is_refused() -> None:
    with pytest.raises(ModeError, match="--mode paper sends none: drop --live"):
        resolve_mode("paper", _settings(True), live_flag=True)


def test_half_an_exchange_override_is_refused_in_every_mode() -> None:
    for requested, creds in (("sim", True), ("paper", True), (None, False)):
        with pytest.raises(ModeError, match="KALSHI_API_BASE is set but KALSHI_WS_URL is not"):
            resolve_mode(
                requested, _settings(creds, kalshi_api_base="http://127.0.0.1:8100"), False
            )
        with pytest.raises(ModeError, match="KALSHI_WS_URL is set but KALSHI_API_BASE is not"):
            resolve_mode(requested, _settings(creds, kalshi_ws_url="ws://127.0.0.1:8100/ws"), False)


def test_sim_urls_without_credentials_are_refused_not_ignored() -> None:
    urls: dict[str, Any] = {
        "kalshi_api_base": "http://127.0.0.1:8100",
        "kalshi_ws_url": "ws://127.0.0.1:8100/w",
    }
    with pytest.raises(ModeError, match="no credentials are set"):
        resolve_mode(None, _settings(False, **urls), live_flag=False)
    assert resolve_mode("sim", _settings(True, **urls), live_flag=False) is Mode.SIM


# -- where sim mode may send orders -----------------------------------------------------------


class FakeProbe:
    """Answers as an exchange would: with its identity header, or none."""

    def __init__(self, identity: str | None) -> None:
        self.identity = identity
        self.asked: list[str] = []

    def __call__(self, url: str) -> str | None:
        self.asked.append(url)
        return self.identity


PROD = (
    "https://external-api.kalshi.com/trade-api/v2",
    "wss://external-api-ws.kalshi.com/trade-api/ws/v2",
)


def test_sim_refuses_an_exchange_beyond_loopback_that_is_not_a_simulator() -> None:
    probe = FakeProbe(None)
    with pytest.raises(ModeError, match=r"KALSHI_API_BASE .* does not say it is a simulator"):
        check_sim_exchange(*PROD, probe=probe)
    assert probe.asked == ["https://external-api.kalshi.com/trade-api/v2/exchange/status"]


def test_sim_accepts_a_remote_exchange_that_says_it_is_a_simulator() -> None:
    probe = FakeProbe("sol15 exchange-sim")
    check_sim_exchange(
        "http://sim.lan:8100/trade-api/v2", "ws://sim.lan:8100/trade-api/ws/v2", probe
    )
    assert probe.asked == [
        "http://sim.lan:8100/trade-api/v2/exchange/status",
        "http://sim.lan:8100/trade-api/ws/v2",
    ]


def test_a_loopback_exchange_is_not_asked() -> None:
    probe = FakeProbe(None)
    check_sim_exchange(
        "http://127.0.0.1:8100/trade-api/v2", "ws://localhost:8100/trade-api/ws/v2", probe
    )
    assert probe.asked == []


def test_an_unreachable_remote_exchange_is_refused() -> None:
    def unreachable(url: str) -> str | None:
        raise httpx.ConnectError("connection refused")

    with pytest.raises(ModeError, match="cannot reach KALSHI_API_BASE"):
        check_sim_exchange(*PROD, probe=unreachable)


def test_sim_mode_with_production_urls_refuses_before_any_signed_request(tmp_path: Path) -> None:
    """D1: credentials plus production URLs in sim mode used to trade for real."""
    settings = _settings(True, kalshi_api_base=PROD[0], kalshi_ws_url=PROD[1], data_dir=tmp_path)
    probe = FakeProbe(None)
    refused = pytest.raises(ModeError, match="does not say it is a simulator")
    with refused, exchange_for(Mode.SIM, settings, 1, probe=probe):
        pass
    assert len(probe.asked) == 1  # the key file k.pem was never even read


def test_the_simulator_says_what_it_is_on_every_answer() -> None:
    with running_exchange() as sim:
        assert simulator_identity(sim.api_base + "/exchange/status") == "sol15 exchange-sim"
        ws_as_http = sim.ws_url.replace("ws://", "http://")
        assert simulator_identity(ws_as_http) == "sol15 exchange-sim"  # a 401, still stamped
        response = httpx.get(sim.api_base + "/no/such/path")
        assert response.status_code == 404
        assert response.headers[SIMULATOR_HEADER] == "sol15 exchange-sim"


class _Lookalike(BaseHTTPRequestHandler):
    """Answers like Kalshi's exchange status, without the simulator's header."""

    def do_GET(self) -> None:
        body = b'{"exchange_active": true, "trading_active": true}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        del format, args


@contextmanager
def kalshi_lookalike() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Lookalike)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def _loopback_name() -> str:
    """This machine's own name when it resolves to loopback: 'beyond loopback' by name only."""
    name = socket.gethostname()
    try:
        address = socket.gethostbyname(name)
    except OSError:
        pytest.skip(f"the host name {name!r} does not resolve")
    if not address.startswith("127."):
        pytest.skip(f"the host name {name!r} resolves to {address}, not to loopback")
    return name


def test_a_kalshi_lookalike_named_beyond_loopback_is_refused(tmp_path: Path) -> None:
    name = _loopback_name()
    with kalshi_lookalike() as port:
        base = f"http://{name}:{port}/trade-api/v2"
        settings = _settings(
            True, kalshi_api_base=base, kalshi_ws_url=f"ws://{name}:{port}/trade-api/ws/v2"
        )
        refused = pytest.raises(ModeError, match=re.escape(f"KALSHI_API_BASE {base} is beyond"))
        with refused, exchange_for(Mode.SIM, settings, 1):
            pass


def test_an_exchange_sim_named_beyond_loopback_is_used(tmp_path: Path) -> None:
    name = _loopback_name()
    with running_exchange() as sim:
        settings = _settings(
            False,
            kalshi_api_key=sim.key_id,
            kalshi_private_key_path=sim.private_key_path,
            kalshi_api_base=sim.api_base.replace("127.0.0.1", name),
            kalshi_ws_url=sim.ws_url.replace("127.0.0.1", name),
            data_dir=tmp_path,
        )
        with exchange_for(Mode.SIM, settings, 1) as connection:
            assert name in connection.api_base
