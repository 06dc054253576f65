"""Logging: secrets redacted wherever they appear, JSON lines when asked, a rotating file."""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from loguru import logger

from kalshi.auth import generate_private_key, private_key_pem
from runtime.log import REDACTED, Throttle, setup_logging, throttle, throttled

KEY_ID = "3f1c2a9e-key-id-7788"


@pytest.fixture
def out() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    yield stream
    logger.remove()
    logger.add(sys.stderr)


def test_key_id_and_pem_are_redacted_in_messages_and_tracebacks(
    out: io.StringIO, tmp_path: Path
) -> None:
    pem = private_key_pem(generate_private_key()).decode()
    setup_logging("DEBUG", stream=out, log_dir=tmp_path, secrets=(KEY_ID,))
    logger.info("signing with {} and {}", KEY_ID, pem)
    try:
        raise ValueError(f"bad key {KEY_ID}: {pem[:80]}")
    except ValueError:
        logger.exception("load failed")
    text = out.getvalue()
    file_text = (tmp_path / "sol15.log").read_text()
    for written in (text, file_text):
        assert KEY_ID not in written
        assert "BEGIN PRIVATE KEY" not in written
        assert pem.splitlines()[1] not in written  # not even a line of the key body
        assert REDACTED in written
        assert "load failed" in written and "ValueError" in written


def test_json_lines(out: io.StringIO) -> None:
    setup_logging("INFO", as_json=True, stream=out, secrets=(KEY_ID,))
    logger.bind(actor="risk").warning("limit hit for {}", KEY_ID)
    logger.debug("below the level")
    lines = out.getvalue().splitlines()
    assert len(lines) == 1
    record = orjson.loads(lines[0])
    assert record["level"] == "WARNING"
    assert record["message"] == f"limit hit for {REDACTED}"
    assert record["extra"] == {"actor": "risk"}


def test_stdlib_logging_goes_through_redaction(out: io.StringIO) -> None:
    import logging

    setup_logging("INFO", stream=out, secrets=(KEY_ID,))
    logging.getLogger("aiohttp.access").warning("header %s", KEY_ID)
    assert f"header {REDACTED}" in out.getvalue()


def test_a_repeated_reason_is_written_once_a_minute_with_a_count(out: io.StringIO) -> None:
    now = [1000.0]
    clock = throttle.clock
    throttle.clock = lambda: now[0]
    try:
        setup_logging("INFO", stream=out)
        for attempt in range(1, 241):  # four a second for a minute, as a bot without network
            throttled("kalshi get_market retry").warning("attempt {} failed", attempt)
            logger.bind(throttle="discovery: market").warning("KX-{} unavailable", attempt)
            now[0] += 0.25
        logger.warning("an ordinary warning")
        throttled("kalshi get_market retry").warning("attempt {} failed", 241)
    finally:
        throttle.clock = clock
    lines = [line.split(" - ", 1)[1] for line in out.getvalue().splitlines()]
    assert lines == [
        "attempt 1 failed",
        "KX-1 unavailable",
        "an ordinary warning",
        "attempt 241 failed [239 more like this in the last 60 s not shown]",
    ]


def test_the_throttle_counts_per_reason() -> None:
    now = [0.0]
    gate = Throttle(interval=60.0, clock=lambda: now[0])
    assert gate.admit("a") == 0
    assert gate.admit("a") is None
    assert gate.admit("b") == 0
    now[0] = 59.9
    assert gate.admit("a") is None
    now[0] = 60.0
    assert gate.admit("a") == 2
    assert gate.admit("b") == 0
