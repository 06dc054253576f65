"""How the bot reaches an exchange: URLs, the signing key and one shared rate limiter.

All clients made from one connection share the limiter, because Kalshi's read and
write budgets are per API key, not per socket. The limiter is sized from the account
(``GET /account/limits`` and ``/account/endpoint_costs``) when the connection opens, and
from the configured tier when the account cannot say.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

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
    limiter: RateLimiter | None = None  # None: one made from ``tier``

    def __post_init__(self) -> None:
        if self.limiter is None:
            object.__setattr__(self, "limiter", RateLimiter(self.tier))

    def __repr__(self) -> str:
        return f"ExchangeConnection({self.api_base!r}, {self.ws_url!r})"

    def rest(
        self, *, presign_orders: bool = False, timeout: float = 5.0, max_attempts: int = 4
    ) -> KalshiRestClient:
        """A REST client on this connection (each actor owns its own; they share the limiter)."""
        return KalshiRestClient(
            self.api_base,
            self.signer,
            rate_limiter=self.limiter,
            rate_limit=self.rate_limited,
            presign_orders=presign_orders,
            timeout=timeout,
            max_attempts=max_attempts,
        )

    def with_account_limits(self) -> ExchangeConnection:
        """This connection with its limiter sized from the account's own limits (read once,
        at start); unchanged when it does not rate-limit. Reads that fail fall back to
        ``tier`` (logged), so a start never fails here."""
        if not self.rate_limited:
            return self
        with self.rest() as client:
            limiter = client.adopt_account_limits(self.tier)
        return self if limiter is None else replace(self, limiter=limiter)
