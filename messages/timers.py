"""The timers actors set: one ``Tick`` subclass each, so an actor dispatches on type.

A timer's class is its name: ``every(5.0, DiscoverTick)`` delivers ``DiscoverTick``
messages, and a misspelt timer is an import error rather than a tick no branch matches.
"""

from __future__ import annotations

from messages.base import message
from messages.system import Tick


@message("tick.discover")
class DiscoverTick(Tick):
    """Discovery: look for new and finished markets."""


@message("tick.flush")
class FlushTick(Tick):
    """Ledger, recorder, console: write out what is buffered."""


@message("tick.status")
class StatusTick(Tick):
    """Risk, strategy: publish a status; console: write the status line."""


@message("tick.presign")
class PresignTick(Tick):
    """Order actor: refresh the pre-signed request headers."""


@message("tick.reconcile")
class ReconcileTick(Tick):
    """Order actor: compare its orders with the exchange's."""


@message("tick.close_watch")
class CloseWatchTick(Tick):
    """Order actor: cancel resting orders in markets about to close."""


@message("tick.staleness")
class StalenessTick(Tick):
    """Spot feed, market watcher: notice a feed that went quiet."""


@message("tick.rest_poll")
class RestPollTick(Tick):
    """Market watcher: poll the book over REST while the stream is down."""


@message("tick.health")
class HealthTick(Tick):
    """Health monitor: publish a ``HealthReport``."""


@message("tick.counts")
class CountsTick(Tick):
    """WebSocket hub: publish its connection counts."""


@message("tick.alerts")
class AlertsTick(Tick):
    """Alerts: time-based notices and the daily summary."""


@message("tick.scoreboard")
class ScoreboardTick(Tick):
    """Scoreboard: recompute what is due."""


@message("tick.chaos")
class ChaosTick(Tick):
    """Chaos monkey (a one-shot): crash a random actor."""
