"""The real bot in sim mode, driven through its real dashboard in headless Chromium.

No fakes: ``python run.py`` runs as a subprocess (clean environment, no Kalshi
credentials, so the built-in simulated exchange and the full actor tree), the
page is the one users open, and the checks are what they would see: the
running state, the SOL index and the current market, a signal with the risk
decision and a trade, Stop/Start, the API's answers, and an orderly exit on
SIGTERM with the session summary.

A second test builds the same real tree in-process (to reach ``crash``) and
checks that the page reconnects after the hub crashes and is restarted while
the rest of the bot carries on.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Only what a process needs to run; nothing from the developer's shell (KALSHI_*, API_TOKEN, …).
PASS_THROUGH = ("PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TMPDIR", "TZ", "SYSTEMROOT")
STATUS_KEYS = {"running", "mode", "trading_state", "risk_metrics", "positions", "orders"}
RISK_KEYS = {"daily_pnl", "exposure", "open_positions", "circuit_breaker_triggered"}
TREE = {
    "hub",
    "trading",
    "risk",
    "order",
    "market-data",
    "spot",
    "stream",
    "discovery",
    "strategies",
    "strategy:kelly_volatility",
    "scoreboard",
    "health",
}
PRICE = re.compile(r"^\d+\.\d{2,4}$")
TRADE_TIMEOUT = 60_000  # ms: with a fresh window the sim bot trades within 10-40 s
WINDOW_LEFT = 220  # seconds the current sim market must still run when the bot starts

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="needs Debian's chromium at /usr/bin/chromium (apt-get install -y chromium)",
    ),
]


@pytest.fixture
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield instance
        finally:
            instance.close()


def sim_window(now: float) -> int:
    """A market length (``SIM_WINDOW_SECONDS``) whose current window runs ``WINDOW_LEFT`` more s.

    Sim windows are aligned to epoch multiples of their length, and neither
    strategy enters near the close (``mean_reversion`` not in the last 120 s,
    ``kelly_volatility`` not in the last 30 s and only after a 30 s volatility
    warm-up). Started late in a window, the bot would wait for the next one: the
    first trade could take two minutes instead of half of one. Some length
    between 5 and 15 minutes always leaves at least 241 s.
    """
    for seconds in range(300, 901, 60):
        if seconds - now % seconds >= WINDOW_LEFT:
            return seconds
    raise AssertionError("unreachable: some window length always leaves enough time")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Output:
    """Collects a pipe's lines on a thread (so the bot never blocks on it) and waits for one."""

    def __init__(self, stream: Any) -> None:
        self.lines: list[str] = []
        self._cond = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream: Any) -> None:
        for line in stream:
            with self._cond:
                self.lines.append(line)
                self._cond.notify_all()
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def text(self) -> str:
        with self._cond:
            return "".join(self.lines)

    def wait_for(self, needle: str, timeout: float) -> None:
        def seen() -> bool:
            return self._closed or any(needle in line for line in self.lines)

        with self._cond:
            self._cond.wait_for(seen, timeout)
            if not any(needle in line for line in self.lines):
                tail = "".join(self.lines[-30:])
                raise AssertionError(f"{needle!r} not seen within {timeout} s; last lines:\n{tail}")

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)


class Bot:
    """``python run.py`` in sim mode as a subprocess, on a free port, in its own directory."""

    def __init__(self, cwd: Path, duration: int = 120) -> None:
        self.port = free_port()
        env = {k: os.environ[k] for k in PASS_THROUGH if k in os.environ}
        self.window = sim_window(time.time() + 5)  # (the start-up takes a second or two)
        env.update(PYTHONUNBUFFERED="1", LOG_LEVEL="INFO", SIM_WINDOW_SECONDS=str(self.window))
        command = [sys.executable, str(ROOT / "run.py"), "--port", str(self.port)]
        self.proc = subprocess.Popen(
            [*command, "--duration", str(duration)],
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.stdout = Output(self.proc.stdout)
        self.stderr = Output(self.proc.stderr)
        self.url = f"http://127.0.0.1:{self.port}"

    def wait_ready(self, timeout: float = 30.0) -> None:
        self.stderr.wait_for("sol15 running", timeout)

    def terminate(self, timeout: float = 30.0) -> int:
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout)
        self.stdout.join(5)
        self.stderr.join(5)
        return code

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


def walk(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("children") or ():
        yield from walk(child)


def metric_value(text: str, name: str) -> float:
    match = re.search(rf"^{re.escape(name)} (\S+)$", text, re.MULTILINE)
    assert match, f"{name} not in /metrics"
    return float(match.group(1))


def keep_screenshots(*paths: Path) -> None:
    keep = os.environ.get("SOL15_SCREENSHOTS")
    if keep:
        for path in paths:
            shutil.copy(path, Path(keep) / path.name)


def test_the_sim_bot_on_its_dashboard(browser: Any, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    expect.set_options(timeout=15_000)
    bot = Bot(tmp_path)
    errors: list[str] = []
    try:
        bot.wait_ready()
        page = browser.new_page(viewport={"width": 1440, "height": 1100})
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(bot.url)

        # Connected, running, and showing the simulator's live market data.
        expect(page.locator("#conn")).to_have_attribute("data-state", "live")
        expect(page.locator("#mode")).to_have_text("sim")
        expect(page.locator("#trading-state")).to_have_text("running")
        expect(page.locator("#win-ticker")).to_have_text(re.compile(r"^KXSOL15M-\w+-\w+$"))
        expect(page.locator("#win-spot")).to_have_text(PRICE)
        expect(page.locator("#win-strike")).to_have_text(PRICE)
        expect(page.locator("#win-left")).to_have_text(re.compile(r"^(\d+:\d\d|closed)$"))
        expect(page.locator("#chart-spot path").first).to_be_attached()
        expect(page.locator('[data-actor="risk"]')).to_have_attribute("data-state", "running")
        expect(page.locator('[data-actor^="watcher:KXSOL15M-"]').first).to_be_attached()
        expect(page.locator('li[data-strategy="kelly_volatility"]')).to_contain_text("sigma")
        expect(page.locator("#sb-badge")).to_have_text("simulated makers")

        # Stop and Start go to the real risk actor and come back in its status.
        page.click("#btn-stop")
        expect(page.locator("#trading-state")).to_have_text("stopped")
        expect(page.locator("#btn-start")).to_be_enabled()
        page.click("#btn-start")
        expect(page.locator("#trading-state")).to_have_text("running")

        # The bot trades: a signal with the risk decision joined to it, and a filled order.
        approved = page.locator("#signals tr[data-signal] .pill.approved").first
        expect(approved).to_be_visible(timeout=TRADE_TIMEOUT)
        # A fill opens a position; it shows until it is sold or settles (which can be soon).
        expect(page.locator("#positions tr:not(.empty)").first).to_be_attached(
            timeout=TRADE_TIMEOUT
        )
        expect(page.locator('#orders tr[data-status="executed"]').first).to_be_visible(
            timeout=TRADE_TIMEOUT
        )
        expect(page.locator("#kpi-orders")).not_to_have_text(re.compile(r"^\d+ · 0 · "))
        assert page.locator('#orders tr[data-status="executed"] [data-cancel]').count() == 0

        with httpx.Client(base_url=bot.url, timeout=10) as http:
            check_api(http)

        page.evaluate("window.scrollTo(0, 0)")
        shot = tmp_path / "sim-dashboard.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 20_000
        keep_screenshots(shot)
        page.close()
    finally:
        try:
            code = bot.terminate() if bot.proc.poll() is None else bot.proc.returncode
        finally:
            bot.kill()
            # Shown by pytest only when the test fails: what the bot was doing.
            print(f"bot log (SIM_WINDOW_SECONDS={bot.window}):\n{bot.stderr.text()[-6000:]}")
    assert errors == []
    assert code == 0, bot.stderr.text()[-3000:]
    summary = bot.stdout.text()
    assert "sol15 session summary" in summary
    assert re.search(r"orders: [1-9]\d* \([1-9]\d* filled\)", summary), summary
    assert "shutting down: stop requested" in bot.stderr.text()


def check_api(http: httpx.Client) -> None:
    """What an outside client sees once the bot has traded."""
    status = http.get("/api/status").json()
    assert set(status) >= STATUS_KEYS
    assert (status["running"], status["mode"], status["trading_state"]) == (True, "sim", "running")
    risk = status["risk_metrics"]
    assert set(risk) >= RISK_KEYS
    assert Decimal(risk["daily_pnl"]).is_finite() and Decimal(risk["exposure"]) >= 0
    assert status["orders"]["filled"] >= 1
    assert {s["name"] for s in status["strategies"]} == {"kelly_volatility"}  # the default
    assert status["market"]["ticker"].startswith("KXSOL15M-")
    assert Decimal(status["market"]["floor_strike"]) > 0
    for position in status["positions"]:
        assert position["side"] in ("yes", "no") and position["contracts"] > 0

    signals = http.get("/api/signals", params={"status": "approved"}).json()["signals"]
    assert signals and all(s["decision"]["approved"] for s in signals)
    assert all(s["decision"]["signal_id"] == s["signal_id"] for s in signals)

    actors = http.get("/api/actors").json()
    nodes = {n["name"]: n for n in walk(actors["tree"])}
    assert set(nodes) >= TREE
    assert any(name.startswith("watcher:KXSOL15M-") for name in nodes)
    assert all(n["state"] == "running" and n["restarts"] == 0 for n in nodes.values())

    # The scoreboard runs in sim mode too, and says what it scores against.
    scores = http.get("/api/scoreboard")
    assert scores.status_code == 200
    board = scores.json()
    assert (board["mode"], board["market"], board["simulated"]) == ("sim", "simulated", True)
    assert [h["minutes"] for h in board["horizons"]] == [14, 10, 5, 2, 1]
    assert board["kept_in"] == "ledger"

    metrics = http.get("/metrics").text
    assert metric_value(metrics, "sol15_order_latency_seconds_count") >= 1
    assert 'sol15_orders{status="executed"}' in metrics

    # Cancel: the bot's orders are immediate-or-cancel, so none rests; a filled one is refused.
    filled = http.get("/api/trades", params={"status": "filled", "limit": 1}).json()["trades"]
    assert (filled[0]["mode"], filled[0]["env"]) == ("sim", "sim")  # history per mode
    response = http.post(f"/api/trades/{filled[0]['trade_id']}/cancel")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "order_not_active"
    response = http.post("/api/trades/no-such-order-123/cancel")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "unknown_order"


def test_the_page_reconnects_when_the_real_hub_crashes(browser: Any, tmp_path: Path) -> None:
    """The production tree in-process (``crash`` needs the system): only the hub restarts."""
    from playwright.sync_api import expect

    from app.bot import build_tree
    from app.exchange import exchange_for
    from app.modes import Mode
    from config.settings import load_settings
    from hub.config import HubConfig
    from hub.store import HubStore
    from messages.queries import GetEndpoint
    from runtime.faults import crash
    from runtime.system import ActorSystem

    expect.set_options(timeout=15_000)
    settings = load_settings(
        None,
        kalshi_api_key=None,
        kalshi_private_key_path=None,
        kalshi_api_base=None,
        kalshi_ws_url=None,
        api_token=None,
        data_dir=tmp_path / "data",
        log_dir=tmp_path / "logs",
    )
    hub = HubConfig(port=0, mode="sim")
    system = ActorSystem(seed=1)
    errors: list[str] = []
    with exchange_for(Mode.SIM, settings, 1) as connection:
        try:
            system.start(build_tree(settings, Mode.SIM, connection, hub, HubStore()))
            url = system.ask("hub", GetEndpoint(), timeout=10).url
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(url)
            expect(page.locator("#conn")).to_have_attribute("data-state", "live")
            expect(page.locator("#win-spot")).to_have_text(PRICE)

            crash(system, "hub", "e2e test")
            expect(page.locator("#conn")).to_have_attribute("data-state", "down")
            expect(page.locator("#conn")).to_have_attribute("data-state", "live", timeout=20_000)
            expect(page.locator('[data-actor="hub"]')).to_contain_text("↻1")
            expect(page.locator("#events")).to_contain_text("hub restarted (#1)")
            # Live data flows again through the new hub (the index prints every second).
            before = page.locator("#win-spot").text_content()
            expect(page.locator("#win-spot")).not_to_have_text(before or "")
            nodes = {n.name: n for n in system.tree().walk()}
            assert nodes["hub"].restarts == 1
            assert all(n.restarts == 0 for name, n in nodes.items() if name != "hub")
            page.close()
        finally:
            system.shutdown(timeout=15)
    assert errors == []
