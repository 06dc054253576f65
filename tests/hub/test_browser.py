"""The real dashboard in headless Chromium: it connects, shows live data, and its controls work."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from hub.store import HubStore
from messages.control import CancelOrder, HaltTrading, SetStrategyEnabled, StopTrading
from messages.status import Alert
from messages.trading import OrderIntent
from runtime.bus import ALERTS, BOOK, FILLS, MARKETS, SIGNALS, SPOT
from runtime.clock import SimClock
from runtime.faults import crash
from runtime.quiescence import quiesce, settle
from storage import Database
from storage.performance import LedgerPerformance
from tests.actors.test_risk_restart import database
from tests.hub import fakes
from tests.hub.conftest import STRATEGY, TOKEN, Harness, StartHub

__all__ = ["database"]  # the fixture: a prepared SQLite ledger

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

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="needs Debian's chromium at /usr/bin/chromium (apt-get install -y chromium)",
    ),
]


@pytest.fixture
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield instance
        finally:
            instance.close()


# Every column of every table, in view: as a column (its header and cells inside the page and
# inside its card, no sideways scrolling) or, stacked as cards, each cell under its label.
CUT_COLUMNS = """() => {
  const cut = [], width = document.documentElement.clientWidth;
  if (document.documentElement.scrollWidth > width) cut.push("the page scrolls sideways");
  const inside = (el, box) => {
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0 && r.left >= Math.max(0, box.left) - 0.5
      && r.right <= Math.min(width, box.right) + 0.5;
  };
  for (const table of document.querySelectorAll("main table")) {
    const wrap = table.closest(".table-wrap"), box = wrap.getBoundingClientRect();
    const names = [...table.tHead.rows[0].cells].map((th) => th.textContent.trim());
    const where = table.closest("section").getAttribute("aria-label");
    if (wrap.scrollWidth > wrap.clientWidth + 1) cut.push(`${where}: scrolls sideways`);
    const stacked = getComputedStyle(table.tBodies[0]).display === "block";
    if (!stacked) {
      table.tHead.rows[0].querySelectorAll("th").forEach((th, i) => {
        if (!inside(th, box)) cut.push(`${where}: column ${names[i] || i} cut or hidden`);
      });
    }
    for (const row of table.tBodies[0].rows) {
      if (row.classList.contains("empty")) continue;
      [...row.cells].forEach((td, i) => {
        if (!inside(td, box)) cut.push(`${where}: ${names[i] || i} cell cut or hidden`);
        const label = getComputedStyle(td, "::before").content;
        if (stacked && names[i] && label !== JSON.stringify(names[i]))
          cut.push(`${where}: ${names[i]} shown without its label (${label})`);
      });
    }
  }
  return cut;
}"""


def populate(hub: Harness) -> None:
    now = hub.clock.now()
    hub.publish(MARKETS, fakes.market(now))
    for n in range(300, 0, -5):  # the last five minutes of the index, rising through the strike
        price = 187.10 + (300 - n) * 0.0027 + (0.05 if n % 20 == 0 else 0)
        hub.publish(SPOT, fakes.spot(now - n, f"{price:.2f}"))
        bid = 0.40 + (300 - n) * 0.0006
        hub.publish(BOOK, fakes.book(now - n, seq=300 - n, bid=f"{bid:.2f}"))
    hub.publish(SPOT, fakes.spot(now, "187.90"))
    hub.publish(SIGNALS, fakes.signal(now - 40, "sig-1"))
    hub.publish(SIGNALS, fakes.decision(now - 40, "sig-1", approved=True))
    hub.publish(SIGNALS, fakes.signal(now - 10, "sig-2"))
    hub.publish(SIGNALS, fakes.decision(now - 10, "sig-2", approved=False))
    hub.publish(FILLS, fakes.fill(now - 39, "c-0", "t-1", count=10))
    hub.system.tell("order", fakes.Rest(fakes.order_update(now - 5, "c-1", "resting")))
    hub.publish(ALERTS, Alert("market_open", f"{fakes.TICKER} is open", "info", now - 300))
    hub.settle()


def test_dashboard_drives_the_bot(start_hub: StartHub, browser: object, tmp_path: Path) -> None:
    from playwright.sync_api import Browser, expect

    assert isinstance(browser, Browser)
    expect.set_options(timeout=10_000)
    hub = start_hub(api_token=TOKEN)
    populate(hub)
    page = browser.new_page(viewport={"width": 1280, "height": 1100})  # a laptop
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(hub.url)

    # It connects and shows the running state and the data the fake actors published.
    expect(page.locator("#conn")).to_have_attribute("data-state", "live")
    expect(page.locator("#trading-state")).to_have_text("running")
    expect(page.locator("#mode")).to_have_text("sim")
    expect(page.locator("#kpi-pnl")).to_have_text("$12.50")
    expect(page.locator("#win-ticker")).to_have_text(fakes.TICKER)
    expect(page.locator("#win-strike")).to_have_text("187.42")
    expect(page.locator('[data-signal="sig-1"]')).to_contain_text("approved")
    expect(page.locator('[data-signal="sig-2"]')).to_contain_text(
        "rejected: max_concurrent_positions"
    )
    expect(page.locator('[data-order="c-1"]')).to_have_attribute("data-status", "resting")
    expect(page.locator('[data-actor="risk"]')).to_have_attribute("data-state", "running")
    expect(page.locator("#positions")).to_contain_text("26JAN010015-15")

    # Live: new events show up without reloading.
    now = hub.clock.now()
    hub.publish(SPOT, fakes.spot(now, "188.25"))
    expect(page.locator("#win-spot")).to_have_text("188.25")
    expect(page.locator("#win-diff")).to_have_text("+0.83")
    hub.publish(SIGNALS, fakes.signal(now, "sig-live"))
    expect(page.locator('[data-signal="sig-live"]')).to_contain_text("pending")

    # Stop: the server wants the token; the page asks for it, keeps it and retries.
    page.click("#btn-stop")
    expect(page.locator("#token-dialog")).to_be_visible()
    page.fill("#token-input", TOKEN)
    page.click("#token-ok")
    expect(page.locator("#trading-state")).to_have_text("stopped")
    assert [c.requested_by for c in hub.controls.of(StopTrading)] == ["api"]

    # Cancel a resting order; the order actor's update turns the row to canceled.
    page.click('[data-cancel="c-1"]')
    expect(page.locator('[data-order="c-1"]')).to_have_attribute("data-status", "canceled")
    assert [c.order_id for c in hub.controls.of(CancelOrder)] == ["c-1"]

    # Switch a strategy off.
    page.click(f'li[data-strategy="{STRATEGY}"] .switch')
    expect(page.locator(f'input[data-strategy="{STRATEGY}"]')).not_to_be_checked()
    hub.settle()
    assert [(c.name, c.enabled) for c in hub.controls.of(SetStrategyEnabled)] == [(STRATEGY, False)]

    # A crash shows up as an event and in the tree.
    crash(hub.system, "risk", "chaos test")
    expect(page.locator("#events")).to_contain_text("risk crashed: InjectedCrash")
    settle(hub.system, hub.clock)
    expect(page.locator("#events")).to_contain_text("risk restarted (#1)")
    expect(page.locator('[data-actor="risk"]')).to_contain_text("↻1")
    hub.publish(ALERTS, Alert("circuit_breaker", "daily loss limit reached", "critical", now))
    expect(page.locator("#events")).to_contain_text("daily loss limit reached")

    page.evaluate("window.scrollTo(0, 0)")
    shot = tmp_path / "dashboard.png"
    page.screenshot(path=str(shot), full_page=True)
    assert page.evaluate(CUT_COLUMNS) == []  # every column of every table, on a laptop
    page.set_viewport_size({"width": 1400, "height": 1100})  # where Unreal. used to be cut
    assert page.evaluate(CUT_COLUMNS) == []
    phone = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2)
    phone.goto(hub.url)
    # (the fake risk actor came back from its crash with a fresh, running state)
    expect(phone.locator("#trading-state")).to_have_text("running")
    expect(phone.locator('[data-signal="sig-1"]')).to_be_attached()
    expect(phone.locator("#positions")).to_contain_text("26JAN010015-15")
    expect(phone.locator('[data-order="c-1"]')).to_be_attached()
    phone.screenshot(path=str(tmp_path / "dashboard-phone.png"), full_page=True)
    assert phone.evaluate(CUT_COLUMNS) == []  # and on a phone: rows become labelled cards
    assert shot.stat().st_size > 20_000
    phone.close()

    # The hub itself crashes: the page notices, backs off, and reconnects once it is back.
    crash(hub.system, "hub", "browser test")
    expect(page.locator("#conn")).to_have_attribute("data-state", "down")
    settle(hub.system, hub.clock)
    expect(page.locator("#conn")).to_have_attribute("data-state", "live", timeout=20_000)
    expect(page.locator('[data-actor="hub"]')).to_contain_text("↻1")
    expect(page.locator("#events")).to_contain_text("hub restarted (#1)")
    keep = os.environ.get("SOL15_SCREENSHOTS")
    if keep:
        for name in ("dashboard.png", "dashboard-phone.png"):
            shutil.copy(tmp_path / name, Path(keep) / name)
    assert errors == []


def test_the_scoreboard_panel(start_hub: StartHub, browser: object, tmp_path: Path) -> None:
    """The "does the model beat the market?" panel: a settled window scored, live, on a laptop
    and a phone, saying that the market it was scored against is the simulator's."""
    from playwright.sync_api import Browser, expect

    from tests.actors.scoreboard_feed import Feed
    from tests.hub.test_scoreboard_api import start_scoreboard

    assert isinstance(browser, Browser)
    expect.set_options(timeout=10_000)
    hub = start_hub()
    start_scoreboard(hub)  # sim mode: against the simulated makers
    page = browser.new_page(viewport={"width": 1440, "height": 1100})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(hub.url)
    expect(page.locator("#conn")).to_have_attribute("data-state", "live")
    expect(page.locator("#sb-badge")).to_have_text("simulated makers")
    expect(page.locator("#sb-against")).to_contain_text("the simulator's market makers, not Kalshi")
    expect(page.locator("#sb-against")).to_contain_text("0 settled windows")
    expect(page.locator('#sb-horizons tr[data-minutes="1"]')).to_contain_text(
        "no windows with both"
    )

    Feed(hub.system, hub.clock).window("KXSOL15M-T1", outcome="yes")  # arrives on the feed
    one = page.locator('#sb-horizons tr[data-minutes="1"]')
    expect(one).to_contain_text("0.0900")  # the model: 0.7 on a YES
    expect(one).to_contain_text("0.1444")  # the market's mid: 0.62
    expect(one).to_contain_text("-0.0544")  # model − market: negative, the model did better
    expect(page.locator("#sb-against")).to_contain_text("1 settled window ")
    expect(page.locator("#sb-trades")).to_contain_text("+34.40¢")
    expect(page.locator("#sb-verdict")).to_contain_text("too few settled windows to judge")
    page.click("#sb-recent-box summary")
    expect(page.locator('#sb-recent li[data-window="KXSOL15M-T1"]')).to_contain_text("→ YES")
    page.locator("#scoreboard").screenshot(path=str(tmp_path / "scoreboard.png"))

    phone = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2)
    phone.on("pageerror", lambda exc: errors.append(str(exc)))
    phone.goto(hub.url)
    expect(phone.locator('#sb-horizons tr[data-minutes="14"]')).to_contain_text("0.0900")
    table = phone.locator("#scoreboard .table-wrap")
    # fits the phone without scrolling sideways: the long columns fold away
    assert table.evaluate("el => el.scrollWidth <= el.clientWidth")
    # one window proves nothing: the difference is not coloured as a win
    diff = phone.locator('#sb-horizons tr[data-minutes="1"] td.sb-diff')
    expect(diff).to_have_class(re.compile(r"\bsb-diff\b"))
    expect(diff).not_to_have_class(re.compile(r"\bpos\b"))
    phone.locator("#scoreboard").screenshot(path=str(tmp_path / "scoreboard-phone.png"))
    phone.close()
    keep = os.environ.get("SOL15_SCREENSHOTS")
    if keep:
        for name in ("scoreboard.png", "scoreboard-phone.png"):
            shutil.copy(tmp_path / name, Path(keep) / name)
    assert errors == []


def test_performance_flatten_and_limits_panels(
    browser: object, tmp_path: Path, database: Database
) -> None:
    """P&L read from the ledger, a position flattened, a limit changed (and refused), a halt
    that says what clears it: in the page, against the real RiskActor, on a laptop and a phone."""
    from playwright.sync_api import Browser, expect

    from tests.hub.test_controls_api import TICKER, holding, process
    from tests.hub.test_performance_api import seed

    assert isinstance(browser, Browser)
    expect.set_options(timeout=10_000)
    seed(database)
    store = HubStore(performance=LedgerPerformance(database, Decimal(5)))
    with process(database, store=store) as bot:
        holding(bot)
        assert isinstance(bot.system.clock, SimClock)
        bot.system.clock.advance(1.0)  # the risk actor's status tick: the position is shown
        quiesce(bot.system)
        page = browser.new_page(viewport={"width": 1280, "height": 1100})
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("dialog", lambda dialog: dialog.accept())
        page.goto(bot.endpoint.url)
        expect(page.locator("#conn")).to_have_attribute("data-state", "live")

        # the seeded session, as worked out by hand (tests/accounting/seeded.py)
        expect(page.locator("#perf-balance")).to_have_text("$1001.32")
        # the live risk actor has rewritten the positions table (it holds only the test's
        # position), so the ledger's open KXD counts at cost: 1001.32 + 1.50
        expect(page.locator("#perf-equity")).to_have_text("$1002.82")
        expect(page.locator("#perf-realized")).to_have_text("$2.82")
        expect(page.locator("#perf-fees")).to_have_text("$0.48")
        expect(page.locator("#perf-record")).to_have_text("1–2 · 33.3%")
        expect(page.locator("#perf-drawdown")).to_contain_text("$3.01")
        expect(page.locator('#perf-markets tr[data-market="KXA"]')).to_contain_text("$5.83")
        expect(page.locator('#perf-markets tr[data-market="KXC"]')).to_contain_text("−$2.27")
        expect(page.locator("#chart-equity path")).not_to_have_count(0)
        page.click("#perf-daily")
        expect(page.locator("#perf-daily")).to_have_attribute("aria-pressed", "true")

        # flatten: a sell of the whole position at the best bid, through risk
        page.click(f'[data-flatten="{TICKER}"]')
        expect(page.locator("#toasts")).to_contain_text("Flatten sent")
        [intent] = bot.log.of(OrderIntent)
        assert (intent.action, intent.count, intent.price) == ("sell", 10, Decimal("0.45"))

        # a limit changed, then one refused with the rule it broke, then reset
        row = page.locator('#limits-rows tr[data-limit="max_daily_loss"]')
        row.locator("input").fill("250")
        page.click("#limits-save")
        expect(page.locator("#limits-by")).to_contain_text("changed by loopback")
        expect(row).to_have_class(re.compile(r"\bchanged\b"))
        page.locator('#limits-rows tr[data-limit="circuit_breaker_pct"] input').fill("1.5")
        page.click("#limits-save")
        expect(page.locator("#toasts")).to_contain_text("CIRCUIT_BREAKER_PCT")
        page.click("#limits-reset")
        expect(row.locator("input")).to_have_value("500")

        # a halt: the banner says why and what clears it; start is refused with the reason
        bot.tell_risk(HaltTrading("circuit_breaker", "drawdown"))
        expect(page.locator("#halt-banner")).to_contain_text("Circuit breaker tripped")
        expect(page.locator("#halt-banner")).to_contain_text("POST /api/circuit-breaker/reset")
        page.locator("#performance").screenshot(path=str(tmp_path / "performance.png"))
        page.screenshot(path=str(tmp_path / "controls.png"), full_page=True)

        phone = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2)
        phone.on("pageerror", lambda exc: errors.append(str(exc)))
        phone.goto(bot.endpoint.url)
        expect(phone.locator("#perf-equity")).to_have_text("$1002.82")
        table = phone.locator("#performance .table-wrap").first
        assert table.evaluate("el => el.scrollWidth <= el.clientWidth")  # nothing cut off
        phone.locator("#performance").screenshot(path=str(tmp_path / "performance-phone.png"))
        phone.close()
    keep = os.environ.get("SOL15_SCREENSHOTS")
    if keep:
        for name in ("performance.png", "performance-phone.png", "controls.png"):
            shutil.copy(tmp_path / name, Path(keep) / name)
    assert errors == []
