"""What a strategy's actor remembers so the strategy never counts a trade twice or forgets one.

The bus delivers at least once: a restarted order actor reports the last hour's fills
again, and a restarted strategy learns its positions back from the ledger while new fills
arrive. So fills are taken once by ``trade_id`` and open orders once by
``client_order_id``. A restarted strategy also meets intents of signals its previous
incarnation sent (risk decided them after the restart): those are orders on their way
too. Fills read back for a market not known to be trading yet wait ("parked") until its
``MarketInfo`` arrives; a market that settled meanwhile never wakes them.
"""

from __future__ import annotations

from collections.abc import Iterable

from messages.trading import Fill, OrderIntent

SENT_MEMORY_SECONDS = 300.0  # a signal of ours still undecided after this is forgotten


class StrategyMemory:
    """Trade ids and order ids already counted, signals sent, fills parked — per market."""

    def __init__(self) -> None:
        self._trade_ids: dict[str, set[str]] = {}  # ticker → fills counted
        self._orders: dict[str, set[str]] = {}  # ticker → orders counted open (restore, echo)
        self._sent: dict[str, float] = {}  # signal_id → when this instance sent it
        self._parked: dict[str, list[Fill]] = {}  # ticker → fills read back, market not live

    def first_time(self, fill: Fill) -> bool:
        """True the first time ``fill`` is seen (then it is counted)."""
        seen = self._trade_ids.setdefault(fill.ticker, set())
        if fill.trade_id in seen:
            return False
        seen.add(fill.trade_id)
        return True

    def sent(self, signal_id: str, now: float) -> None:
        self._sent[signal_id] = now

    def decided(self, signal_id: str) -> None:
        self._sent.pop(signal_id, None)

    def new_order(self, ticker: str, client_order_id: str) -> bool:
        """True the first time an order is counted as open on a restore or an echo."""
        counted = self._orders.setdefault(ticker, set())
        if client_order_id in counted:
            return False
        counted.add(client_order_id)
        return True

    def inherited(self, intent: OrderIntent) -> bool:
        """An intent of a signal this instance did not send (its predecessor did), not
        counted yet: an order on its way that a restore could not have seen."""
        if intent.signal_id in self._sent:
            return False
        return self.new_order(intent.ticker, intent.client_order_id)

    def park(self, fills: Iterable[Fill]) -> None:
        for fill in fills:
            self._parked.setdefault(fill.ticker, []).append(fill)

    def wake(self, ticker: str) -> list[Fill]:
        """The parked fills of ``ticker`` (now known to trade) not counted yet."""
        return [f for f in self._parked.pop(ticker, []) if self.first_time(f)]

    def forget(self, ticker: str) -> None:
        """The market settled: nothing of it can come again that matters."""
        self._trade_ids.pop(ticker, None)
        self._orders.pop(ticker, None)
        self._parked.pop(ticker, None)

    def prune(self, now: float) -> None:
        """Forget signals whose decision never came (risk was down)."""
        stale = [s for s, at in self._sent.items() if now - at > SENT_MEMORY_SECONDS]
        for signal_id in stale:
            del self._sent[signal_id]
