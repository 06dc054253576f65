"""The Trade API hosts are the defaults; the shared hosts they replaced are still recognised."""

from __future__ import annotations

import pytest

from kalshi.environment import DEMO, PRODUCTION, environment_name


def test_defaults_are_the_trade_api_hosts() -> None:
    assert PRODUCTION.api_base == "https://external-api.kalshi.com/trade-api/v2"
    assert PRODUCTION.ws_url == "wss://external-api-ws.kalshi.com/trade-api/ws/v2"
    assert DEMO.api_base == "https://external-api.demo.kalshi.co/trade-api/v2"
    assert DEMO.ws_url == "wss://demo-api.kalshi.co/trade-api/ws/v2"


@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("https://external-api.kalshi.com/trade-api/v2", "production"),
        ("wss://external-api-ws.kalshi.com/trade-api/ws/v2", "production"),
        ("https://api.elections.kalshi.com/trade-api/v2", "production"),
        ("wss://api.elections.kalshi.com/trade-api/ws/v2", "production"),
        ("https://EXTERNAL-API.demo.kalshi.co/trade-api/v2", "demo"),
        ("https://demo-api.kalshi.co/trade-api/v2", "demo"),
        ("wss://demo-api.kalshi.co/trade-api/ws/v2", "demo"),
        ("http://127.0.0.1:8080/trade-api/v2", "custom (127.0.0.1:8080)"),
        ("https://kalshi.com.evil.example/trade-api/v2", "custom (kalshi.com.evil.example)"),
    ],
)
def test_environment_names(url: str, name: str) -> None:
    assert environment_name(url) == name
