"""The alert policy: which bus events become a message for the operator, deduplicated.

Pure and single-threaded: the ``AlertActor`` feeds it events and the time (an injected
clock, so tests are exact), and sends what it returns. One message per cause per
``dedupe_seconds``; what is held back is counted, and once the window has passed the
latest held message goes out with that count, so a burst is never silently lost.
"""

from __future__ import annotations

import dataclasses
import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from alerting.daily import DailySummary, summary_text
from alerting.rules import AlertConfig, Rule
from messages.market_data import FeedState
from messages.status import Alert
from messages.system import ActorRestarted, Escalated
from messages.trading import Fill, OrderUpdate
from messages.vocabulary import OrderStatus
from runtime.restart_policy import RestartWindow

DAY = 86_400.0

# The alert types other actors publish on ``alerts`` that a rule covers.
ALERT_RULES = {
    "circuit_breaker": Rule.CIRCUIT_BREAKER,
    "daily_loss_limit": Rule.DAILY_LOSS,
    "ledger_unavailable": Rule.LEDGER_HALT,
    "halted": Rule.HALT,
}
ERRORS = frozenset({OrderStatus.REJECTED, OrderStatus.FAILED})


@dataclass(frozen=True, slots=True)
class Notice:
    """One message to send. ``suppressed``: like ones held back before it."""

    rule: Rule
    cause: str
    level: str
    headline: str
    body: str
    at: float
    suppressed: int = 0
    window_seconds: float = 0.0

    def title(self, source: str) -> str:
        return f"{source} {self.level.upper()}: {self.headline}"

    def text(self) -> str:
        if not self.suppressed:
            return self.body
        minutes = self.window_seconds / 60
        return (
            f"{self.body}\n({self.suppressed} like this were held back in the last "
            f"{minutes:g} min; this is the latest)"
        )


class Dedupe:
    """One notice per cause per ``interval`` seconds, counting (and keeping the latest of)
    the ones held back until the next goes out."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._last: dict[str, float] = {}  # cause -> when its last notice went out
        self._held: dict[str, tuple[int, Notice]] = {}

    def admit(self, notice: Notice) -> Notice | None:
        cause, now = notice.cause, notice.at
        last = self._last.get(cause)
        if last is not None and now - last < self.interval:
            count = self._held.get(cause, (0, notice))[0]
            self._held[cause] = (count + 1, notice)
            return None
        self._last[cause] = now
        held = self._held.pop(cause, None)
        return notice if held is None else self._counted(notice, held[0])

    def due(self, now: float) -> list[Notice]:
        """The latest held notice of each cause whose window has passed, with its count."""
        out = []
        for cause, (count, latest) in list(self._held.items()):
            if now - self._last[cause] >= self.interval:
                del self._held[cause]
                self._last[cause] = now
                out.append(self._counted(dataclasses.replace(latest, at=now), count))
        return out

    def _counted(self, notice: Notice, count: int) -> Notice:
        return dataclasses.replace(notice, suppressed=count, window_seconds=self.interval)


class Burst:
    """``threshold`` events inside a sliding window of ``within`` seconds make a burst."""

    def __init__(self, threshold: int, within: float) -> None:
        self.threshold = threshold
        self.window = RestartWindow(within)
        self.kinds: Counter[str] = Counter()  # what the events were, since the last burst

    def record(self, now: float, kind: str) -> tuple[int, str] | None:
        """None, or the events in the window and the three commonest kinds since the last."""
        count = self.window.record(now)
        self.kinds[kind] += 1
        if count < self.threshold:
            return None
        kinds = ", ".join(f"{k} ×{n}" for k, n in self.kinds.most_common(3))
        self.kinds.clear()
        return count, kinds


def next_daily(now: float, minute: int) -> float:
    """The first ``minute``-after-midnight UTC strictly after ``now``."""
    day = math.floor(now / DAY) * DAY
    at = day + minute * 60
    return at if at > now else at + DAY


class AlertPolicy:
    """Bus events in, notices out (already deduplicated), per :class:`AlertConfig`."""

    def __init__(self, config: AlertConfig, clock: Callable[[], float]) -> None:
        self.config = config
        self.clock = clock
        self.dedupe = Dedupe(config.dedupe_seconds)
        self.errors = Burst(config.error_burst, config.burst_window_seconds)
        self.restarts = Burst(config.restart_storm, config.burst_window_seconds)
        self.feed_down_since: float | None = None
        self.feed_alerted = False
        self.next_summary = next_daily(clock(), config.summary_minute)

    def consider(self, message: object) -> list[Notice]:
        """The notices ``message`` causes (most messages cause none)."""
        if isinstance(message, Alert):
            rule = ALERT_RULES.get(message.alert_type)
            if rule is None:
                return []
            headline = message.alert_type.replace("_", " ")
            return self._emit(rule, message.alert_type, headline, message.message)
        if isinstance(message, OrderUpdate):
            return self._order(message) if message.status in ERRORS else []
        if isinstance(message, Fill):
            return self._fill(message)
        if isinstance(message, FeedState):
            return self._feed(message)
        if isinstance(message, ActorRestarted):
            return self._restart(message)
        if isinstance(message, Escalated):
            body = (
                f"supervisor {message.name} gave up after {message.restarts} restarts in "
                f"{message.window:g} s"
            )
            return self._emit(Rule.RESTART_STORM, f"escalated:{message.name}", "escalated", body)
        return []

    def on_time(self) -> list[Notice]:
        """What time alone causes: a feed down too long, held notices whose window passed."""
        now = self.clock()
        out: list[Notice] = []
        down = self.feed_down_since
        stale = self.config.feed_stale_seconds
        if down is not None and not self.feed_alerted and now - down >= stale:
            self.feed_alerted = True
            body = f"no market data for {now - down:.0f} s (the feed went down)"
            out += self._emit(Rule.FEED_STALE, "feed_stale", "market data stale", body)
        enabled = (n for n in self.dedupe.due(now) if self.config.setting(n.rule).enabled)
        return out + list(enabled)

    def summary_due(self) -> tuple[float, float] | None:
        """The 24 hours a daily summary is due for (once each), or None."""
        now = self.clock()
        if now < self.next_summary:
            return None
        end = self.next_summary
        self.next_summary = next_daily(now, self.config.summary_minute)
        if not self.config.setting(Rule.DAILY_SUMMARY).enabled:
            return None
        return end - DAY, end

    def summary_notice(self, summary: DailySummary, scoreboard: Sequence[str] = ()) -> list[Notice]:
        """The summary's message; ``scoreboard``: its lines (``alerting.daily.scoreboard_lines``)."""
        body = "\n".join([summary_text(summary), *scoreboard])
        return self._emit(Rule.DAILY_SUMMARY, "daily_summary", "daily summary", body)

    # -- rules ---------------------------------------------------------------------------

    def _emit(self, rule: Rule, cause: str, headline: str, body: str) -> list[Notice]:
        setting = self.config.setting(rule)
        if not setting.enabled:
            return []
        notice = Notice(rule, cause, setting.level, headline, body, self.clock())
        admitted = self.dedupe.admit(notice)
        return [] if admitted is None else [admitted]

    def _order(self, update: OrderUpdate) -> list[Notice]:
        burst = self.errors.record(self.clock(), update.reason or str(update.status))
        if burst is None:
            return []
        window = self.config.burst_window_seconds
        body = f"{burst[0]} orders rejected or failed in the last {window:g} s ({burst[1]})"
        return self._emit(Rule.EXCHANGE_ERRORS, "exchange_errors", "exchange errors", body)

    def _restart(self, restarted: ActorRestarted) -> list[Notice]:
        burst = self.restarts.record(self.clock(), restarted.name)
        if burst is None:
            return []
        window = self.config.burst_window_seconds
        body = f"{burst[0]} actor restarts in the last {window:g} s ({burst[1]})"
        return self._emit(Rule.RESTART_STORM, "restart_storm", "actor restart storm", body)

    def _feed(self, state: FeedState) -> list[Notice]:
        if not state.connected:
            if self.feed_down_since is None:
                self.feed_down_since = self.clock()
            return []
        down, alerted = self.feed_down_since, self.feed_alerted
        self.feed_down_since, self.feed_alerted = None, False
        if down is None or not alerted:
            return []
        body = f"market data is back after {self.clock() - down:.0f} s ({state.reason})"
        return self._emit(Rule.FEED_STALE, "feed_recovered", "market data back", body)

    def _fill(self, fill: Fill) -> list[Notice]:
        body = (
            f"{fill.action} {fill.count} {fill.side.upper()} {fill.ticker} at ${fill.price} "
            f"(fee ${fill.fee}){f' by {fill.strategy_name}' if fill.strategy_name else ''}"
        )
        return self._emit(Rule.FILL, f"fill:{fill.ticker}", "fill", body)
