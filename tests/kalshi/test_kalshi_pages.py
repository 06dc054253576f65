"""``kalshi.rest.every_page``: the one loop that follows a list endpoint's cursor."""

from __future__ import annotations

from collections.abc import Callable

from kalshi.models import Page
from kalshi.rest import every_page


def _reader(
    pages: dict[str | None, Page[int]], asked: list[str | None]
) -> Callable[[str | None], Page[int]]:
    def read(cursor: str | None) -> Page[int]:
        asked.append(cursor)
        return pages[cursor]

    return read


def test_it_follows_the_cursor_to_the_last_page() -> None:
    asked: list[str | None] = []
    pages = {None: Page((1, 2), "a"), "a": Page((3,), "b"), "b": Page((4,), None)}
    assert list(every_page(_reader(pages, asked), 10, "test")) == [1, 2, 3, 4]
    assert asked == [None, "a", "b"]


def test_a_repeated_cursor_ends_it_instead_of_looping() -> None:
    asked: list[str | None] = []
    pages = {None: Page((1,), "a"), "a": Page((2,), "b"), "b": Page((3,), "a")}
    assert list(every_page(_reader(pages, asked), 10, "test")) == [1, 2, 3]
    assert asked == [None, "a", "b"]


def test_it_reads_no_more_than_max_pages() -> None:
    asked: list[str | None] = []
    pages = {None: Page((1,), "a"), "a": Page((2,), "b"), "b": Page((3,), None)}
    assert list(every_page(_reader(pages, asked), 2, "test")) == [1, 2]
    assert asked == [None, "a"]
