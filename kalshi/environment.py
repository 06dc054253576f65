"""Which Kalshi environment a URL points at.

Keys work only in the environment that issued them, so every auth failure names
the environment the request went to: mixing demo and production keys is the most
common user error.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

# The Trade API hosts first; the shared hosts they replaced are still accepted.
PRODUCTION_HOSTS = frozenset(
    {"external-api.kalshi.com", "external-api-ws.kalshi.com", "api.elections.kalshi.com"}
)
DEMO_HOSTS = frozenset({"external-api.demo.kalshi.co", "demo-api.kalshi.co"})


@dataclass(frozen=True, slots=True)
class Environment:
    """A named pair of REST base and WebSocket URL."""

    name: str
    api_base: str
    ws_url: str


PRODUCTION = Environment(
    "production",
    "https://external-api.kalshi.com/trade-api/v2",
    "wss://external-api-ws.kalshi.com/trade-api/ws/v2",
)
DEMO = Environment(
    "demo",
    "https://external-api.demo.kalshi.co/trade-api/v2",
    "wss://demo-api.kalshi.co/trade-api/ws/v2",  # no separate demo WebSocket host is published
)


def environment_name(url: str) -> str:
    """``production``, ``demo`` or ``custom (host:port)`` for a REST or WebSocket URL."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if host in PRODUCTION_HOSTS:
        return "production"
    if host in DEMO_HOSTS:
        return "demo"
    return f"custom ({parts.netloc or url})"
