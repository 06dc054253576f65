"""Buys in flight: counted per market and side, reduced oldest first, expired after the timeout."""

from __future__ import annotations

import random

from strategies.pending import PendingBuys

T = 1_000.0


def test_counts_per_market_and_side_until_filled_or_refused() -> None:
    pending = PendingBuys(timeout=30)
    pending.add("s1", "A", "yes", 10, T)
    pending.add("s2", "A", "yes", 5, T + 1)
    pending.add("s3", "A", "no", 7, T + 2)
    pending.add("s4", "B", "yes", 3, T + 3)
    assert pending.quantity("A", "yes", T + 4) == 15
    assert pending.quantity("A", "no", T + 4) == 7
    pending.approved("s2", 2)  # risk cut it to 2
    pending.approved("s4", 0)  # and turned this one down
    assert pending.quantity("A", "yes", T + 4) == 12
    assert pending.quantity("B", "yes", T + 4) == 0
    pending.reduce("A", "yes", 11)  # fills take the oldest first: s1 whole, then 1 of s2
    assert pending.quantity("A", "yes", T + 4) == 1
    assert len(pending) == 2 and pending.total() == 8
    pending.drop_market("A")
    assert len(pending) == 0 and pending.quantity("A", "no", T + 4) == 0


def test_a_signal_nobody_answers_stops_counting_after_the_timeout() -> None:
    pending = PendingBuys(timeout=30)
    pending.add("s1", "A", "yes", 10, T)
    pending.add("s2", "A", "yes", 4, T + 10)
    assert pending.quantity("A", "yes", T + 30) == 14  # exactly the timeout: still counts
    assert pending.quantity("A", "yes", T + 30.5) == 4
    assert pending.quantity("A", "yes", T + 40.5) == 0
    assert len(pending) == 0


class _Reference:
    """The same rules, scanning everything on every question."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.items: dict[str, list[object]] = {}

    def quantity(self, ticker: str, side: str, now: float) -> int:
        for key in [k for k, v in self.items.items() if now - v[3] > self.timeout]:  # type: ignore[operator]
            del self.items[key]
        return sum(
            v[2]  # type: ignore[misc]
            for v in self.items.values()
            if v[0] == ticker and v[1] == side
        )


def test_the_kept_sums_agree_with_a_full_scan_through_any_sequence() -> None:
    rng = random.Random(7)
    pending, reference = PendingBuys(timeout=5), _Reference(timeout=5)
    now, n = T, 0
    for _ in range(5_000):
        now += rng.choice((0.0, 0.1, 0.5, 2.0))
        ticker, side = rng.choice("AB"), rng.choice(("yes", "no"))
        action = rng.random()
        if action < 0.3:
            n += 1
            count = rng.randint(1, 20)
            pending.add(f"s{n}", ticker, side, count, now)
            reference.items[f"s{n}"] = [ticker, side, count, now]
        elif action < 0.45 and n:
            key, quantity = f"s{rng.randint(1, n)}", rng.randint(0, 20)
            pending.approved(key, quantity)
            if key in reference.items:
                if quantity <= 0:
                    del reference.items[key]
                else:
                    reference.items[key][2] = min(reference.items[key][2], quantity)  # type: ignore[call-overload]
        elif action < 0.65:
            count = rng.randint(1, 30)
            pending.reduce(ticker, side, count)
            for key in list(reference.items):
                item = reference.items[key]
                if count > 0 and item[0] == ticker and item[1] == side:
                    used = min(count, item[2])  # type: ignore[call-overload]
                    item[2] -= used
                    count -= used
                    if item[2] <= 0:  # type: ignore[operator]
                        del reference.items[key]
        assert pending.quantity(ticker, side, now) == reference.quantity(ticker, side, now)
