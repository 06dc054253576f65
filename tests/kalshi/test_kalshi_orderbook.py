"""The order book: snapshot + signed deltas, derived asks, walking, and a property test."""

from __future__ import annotations

import time
from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kalshi.orderbook import BookIntegrityError, OrderBook, PriceLevel

L = PriceLevel


def sample_book() -> OrderBook:
    # Wire order: ascending, best bid last.
    return OrderBook(
        "T",
        yes=[(D("0.40"), D(5)), (D("0.42"), D(13)), (D("0.44"), D(2))],
        no=[(D("0.50"), D(4)), (D("0.53"), D(7)), (D("0.54"), D(3))],
    )


def test_best_bids_and_derived_asks() -> None:
    book = sample_book()
    assert book.best_yes_bid() == L(D("0.44"), D(2))
    assert book.best_no_bid() == L(D("0.54"), D(3))
    assert book.best_yes_ask() == L(D("0.46"), D(3))  # 1 − best NO bid
    assert book.best_no_ask() == L(D("0.56"), D(2))  # 1 − best YES bid
    assert book.spread() == D("0.02")
    assert book.mid() == D("0.45")
    assert not book.is_crossed()


def test_depth_lists_best_first() -> None:
    book = sample_book()
    assert book.yes_depth() == [L(D("0.44"), D(2)), L(D("0.42"), D(13)), L(D("0.40"), D(5))]
    assert book.no_depth(2) == [L(D("0.54"), D(3)), L(D("0.53"), D(7))]
    assert book.asks("yes") == [L(D("0.46"), D(3)), L(D("0.47"), D(7)), L(D("0.50"), D(4))]
    assert book.asks("no", 1) == [L(D("0.56"), D(2))]
    assert book.snapshot() == (
        [L(D("0.40"), D(5)), L(D("0.42"), D(13)), L(D("0.44"), D(2))],
        [L(D("0.50"), D(4)), L(D("0.53"), D(7)), L(D("0.54"), D(3))],
    )


def test_delta_adds_reduces_and_removes_levels() -> None:
    book = sample_book()
    assert book.apply_delta("yes", D("0.45"), D(6)) == D(6)  # new best
    assert book.best_yes_bid() == L(D("0.45"), D(6))
    assert book.best_no_ask() == L(D("0.55"), D(6))
    assert book.apply_delta("yes", D("0.45"), D(-6)) == D(0)  # level removed
    assert book.size_at("yes", D("0.45")) == D(0)
    assert D("0.45") not in dict(book.yes_depth())
    assert book.best_yes_bid() == L(D("0.44"), D(2))  # best falls back
    book.apply_delta("no", D("0.54"), D("-1.5"))
    assert book.best_no_bid() == L(D("0.54"), D("1.5"))


def test_negative_result_is_an_integrity_error_and_changes_nothing() -> None:
    book = sample_book()
    before = book.copy()
    with pytest.raises(BookIntegrityError, match="would become -1"):
        book.apply_delta("yes", D("0.44"), D(-3))
    with pytest.raises(BookIntegrityError):
        book.apply_delta("no", D("0.10"), D(-1))  # removing from an empty level
    with pytest.raises(BookIntegrityError, match="outside"):
        book.apply_delta("yes", D("1.00"), D(1))
    with pytest.raises(BookIntegrityError, match="unknown side"):
        book.apply_delta("maybe", D("0.5"), D(1))
    assert book == before


def test_snapshot_replaces_everything_and_validates() -> None:
    book = sample_book()
    book.apply_snapshot([(D("0.10"), D(1)), (D("0.11"), D(0))], [])
    assert book.yes_depth() == [L(D("0.10"), D(1))]  # zero levels dropped
    assert book.best_no_bid() is None
    assert book.best_yes_ask() is None
    assert book.spread() is None and book.mid() is None
    with pytest.raises(BookIntegrityError):
        book.apply_snapshot([(D("0.10"), D(-1))], [])
    book.clear()
    assert book.is_empty


def test_walk_buying_yes_lifts_derived_asks() -> None:
    book = sample_book()
    walk = book.walk("yes", D(12))
    assert walk.levels == (L(D("0.46"), D(3)), L(D("0.47"), D(7)), L(D("0.50"), D(2)))
    assert walk.filled == D(12) and walk.complete
    assert walk.cost == D("0.46") * 3 + D("0.47") * 7 + D("0.50") * 2
    assert walk.average_price == walk.cost / 12
    assert walk.worst_price == D("0.50")


def test_walk_partial_fill_and_limit() -> None:
    book = sample_book()
    walk = book.walk("no", D(100))  # NO asks: 0.56×2, 0.58×13, 0.60×5
    assert walk.filled == D(20) and not walk.complete
    limited = book.walk("no", D(100), limit=D("0.58"))
    assert limited.filled == D(15)
    assert limited.worst_price == D("0.58")
    selling = book.walk("yes", D(4), action="sell")  # hit YES bids
    assert selling.levels == (L(D("0.44"), D(2)), L(D("0.42"), D(2)))
    assert book.walk("yes", D(0)).average_price is None
    assert OrderBook().walk("yes", D(5)).levels == ()


def test_crossed_book_is_reported() -> None:
    book = OrderBook("T", yes=[(D("0.50"), D(1))], no=[(D("0.50"), D(1))])
    assert book.is_crossed()


def test_throughput_is_well_above_20k_deltas_per_second() -> None:
    book = OrderBook("T", yes=[(D(p) / 100, D(10)) for p in range(1, 50)])
    deltas = [("yes", D(1 + i % 49) / 100, D(1) if i % 2 == 0 else D(-1)) for i in range(20_000)]
    start = time.perf_counter()
    for side, price, delta in deltas:
        book.apply_delta(side, price, delta)
    elapsed = time.perf_counter() - start
    assert elapsed < 1.0, f"20,000 deltas took {elapsed:.3f}s"
    assert book.best_yes_bid() == L(D("0.49"), D(10))


PRICES = [D(n) / 1000 for n in (1, 5, 50, 99, 100, 110, 450, 460, 500, 890, 900, 955, 999)]
sizes = st.integers(min_value=0, max_value=500).map(lambda n: D(n) / 100)
levels = st.dictionaries(st.sampled_from(PRICES), sizes, max_size=len(PRICES))
operations = st.lists(
    st.tuples(
        st.sampled_from(["yes", "no"]),
        st.sampled_from(PRICES),
        st.integers(min_value=-600, max_value=600).map(lambda n: D(n) / 100),
    ),
    max_size=200,
)


@settings(max_examples=300, deadline=None)
@given(yes=levels, no=levels, ops=operations)
def test_incremental_book_equals_book_rebuilt_from_snapshot(
    yes: dict[D, D], no: dict[D, D], ops: list[tuple[str, D, D]]
) -> None:
    book = OrderBook("T", yes.items(), no.items())
    model = {"yes": {p: s for p, s in yes.items() if s}, "no": {p: s for p, s in no.items() if s}}
    for side, price, raw in ops:
        current = model[side].get(price, D(0))
        # Turn the random number into a valid delta: never below zero.
        delta = raw if current + raw >= 0 else -current
        book.apply_delta(side, price, delta)
        new = current + delta
        if new:
            model[side][price] = new
        else:
            model[side].pop(price, None)
    rebuilt = OrderBook("T", *book.snapshot())
    assert book == rebuilt
    assert book == OrderBook("T", model["yes"].items(), model["no"].items())
    best_yes = max(model["yes"], default=None)
    best_no = max(model["no"], default=None)
    assert book.best_yes_bid() == (
        None if best_yes is None else L(best_yes, model["yes"][best_yes])
    )
    assert book.best_no_bid() == (None if best_no is None else L(best_no, model["no"][best_no]))
    assert rebuilt.best_yes_bid() == book.best_yes_bid()
    assert rebuilt.best_yes_ask() == book.best_yes_ask()
    assert all(size > 0 for _, size in book.yes_depth() + book.no_depth())
