"""How the bot reaches an exchange: URLs, the signing key and one shared rate limiter.

All clients made from one connection share the limiter, because Kalshi's read and
write budgets are per API key, not per socket.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kalshi.auth import Signer
from kalshi.rate_limit import BASIC, RateLimiter, RateLimitTier
from kalshi.rest import KalshiRestClient


@dataclass(frozen=True)
class ExchangeConnection:
    api_base: str
    ws_url: str
    signer: Signer | None
    tier: RateLimitTier = BASIC
    rate_limited: bool = True
    limiter: RateLimiter = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "limiter", RateLimiter(self.tier))

    def __repr__(self) -> str:
        return f"ExchangeConnection({self.api_base!r}, {self.ws_url!r})"

    def rest(self, *, presign_orders: bool = False) -> KalshiRestClient:
        """A REST client on this connection (each actor owns its own; they share the limiter)."""
        return KalshiRestClient(
            self.api_base,
            self.signer,
            rate_limiter=self.limiter,
            rate_limit=self.rate_limited,
            presign_orders=presign_orders,
        )
