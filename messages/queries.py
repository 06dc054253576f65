"""Questions one actor (or the hub, the app, a test) asks another with ``ask``.

Each question is its own class so an actor dispatches on its type: a misspelt query
is an import error, and a query sent to an actor that does not answer it becomes a
counted, logged dead letter (``runtime.actor.SupervisedActor.handle``), never a
silent ``None``.
"""

from __future__ import annotations

from messages.base import Message, message


class Query(Message):
    """Base of every question: an actor that does not answer one reports it as a dead letter."""

    __slots__ = ()


@message("get_orders")
class GetOrders(Query):
    """Order actor: every tracked order by client order id (copies)."""


@message("get_positions")
class GetPositions(Query):
    """Order actor: contracts held per ticker, as the order actor counts them."""


@message("get_open_orders")
class GetOpenOrders(Query):
    """Order actor: the open orders as ``OrderUpdate``s, for a restarted strategy."""


@message("get_stats")
class GetStats(Query):
    """Ledger, order, recorder, scoreboard: counters of the work done, as a dict."""


@message("describe")
class Describe(Query):
    """Strategy actor: its name, switch, parameters and metrics."""


@message("get_prints")
class GetPrints(Query):
    """Spot feed: the index prints it holds, oldest first."""


@message("get_last_tick")
class GetLastTick(Query):
    """Spot feed: the last ``SpotTick`` it published (None before the first)."""


@message("get_report")
class GetReport(Query):
    """Scoreboard: its report body; health monitor: a fresh ``HealthReport``."""


@message("get_book")
class GetBook(Query):
    """Market watcher: the book it holds."""


@message("get_markets")
class GetMarkets(Query):
    """Discovery: the markets it tracks, by ticker."""


@message("get_watched")
class GetWatched(Query):
    """Discovery: the tickers it watches, sorted."""


@message("get_series")
class GetSeries(Query):
    """Discovery: each series, its index and live markets."""


@message("get_deliveries")
class GetDeliveries(Query):
    """Alerts: the record of the alerts it delivered."""


@message("get_status")
class GetStatus(Query):
    """Risk: its ``RiskStatus`` now."""


@message("flush_lines")
class FlushLines(Query):
    """Console: answered once every line told before it is written (a barrier for tests)."""


@message("write_status_line")
class WriteStatusLine(Query):
    """Console: write the status line now."""


@message("get_judged")
class GetJudged(Query):
    """Fill watch: how the session's fills were judged (a ``scoring.fills.Judged``)."""


@message("get_endpoint")
class GetEndpoint(Query):
    """WebSocket hub: where it listens (the bound port when configured with port 0)."""


@message("get_chaos_report")
class ChaosReport(Query):
    """Chaos monkey: the names it has crashed so far, in order."""
