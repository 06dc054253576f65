"""How the hub listens and whom it trusts; validated once, before any socket is opened."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from runtime.net import is_loopback_host

if TYPE_CHECKING:
    from config.settings import Settings

WEB_DIR = Path(__file__).resolve().parent.parent / "web"


class HubConfigError(ValueError):
    """The hub refuses this configuration; the message says what to change."""


@dataclass(frozen=True, slots=True)
class HubConfig:
    host: str = "127.0.0.1"
    port: int = 8000  # 0 = any free port (the bound one is reported by ``GetEndpoint``)
    api_token: str | None = field(default=None, repr=False)  # never printed
    cors_origins: Sequence[str] = ()  # stored as a tuple
    mode: str = "sim"
    max_body: int = 64 * 1024  # bytes; larger request bodies get 413
    client_queue: int = 256  # ordered events waiting per WebSocket client before a resync
    coalesce_interval: float = 0.1  # seconds between coalesced (market/status) frames per client
    send_timeout: float = 10.0  # a client whose socket accepts nothing this long is dropped
    ask_timeout: float = 5.0  # seconds to wait for a trading actor to answer a control
    ws_heartbeat: float | None = 20.0
    ws_max_message: int = 64 * 1024
    # replies a client may leave unread; its commands then wait (ws_reply_wait seconds at
    # most) for it to read some, else it is closed with code 4029 for commanding too fast
    ws_max_unread_replies: int = 64
    ws_reply_wait: float = 2.0
    max_pending: int = 50_000  # events waiting for the loop before every client is resynced
    history_limit: int = 5_000  # trades/orders and signals kept in memory
    counts_interval: float = 1.0  # seconds between re-reads of the ledger's order counts
    web_dir: Path = WEB_DIR
    start_timeout: float = 10.0

    def __post_init__(self) -> None:
        if not 0 <= self.port <= 65535:
            raise HubConfigError(f"port must be between 0 and 65535, got {self.port}")
        if self.api_token is not None and len(self.api_token) < 8:
            raise HubConfigError("API_TOKEN is too short: use at least 8 characters")
        if not is_loopback_host(self.host) and not self.api_token:
            raise HubConfigError(
                f"refusing to listen on {self.host}: the dashboard and control API would be "
                "reachable from other machines without a password. Set API_TOKEN, or use "
                "--host 127.0.0.1"
            )
        for name in (
            "max_body",
            "client_queue",
            "ws_max_message",
            "max_pending",
            "ws_max_unread_replies",
        ):
            if getattr(self, name) < 1:
                raise HubConfigError(f"{name} must be >= 1")
        if self.coalesce_interval < 0 or self.send_timeout <= 0 or self.ask_timeout <= 0:
            raise HubConfigError("coalesce_interval, send_timeout and ask_timeout must be > 0")
        if self.ws_reply_wait <= 0:
            raise HubConfigError("ws_reply_wait must be > 0")
        origins = tuple(o.rstrip("/") for o in self.cors_origins)
        object.__setattr__(self, "cors_origins", origins)

    @property
    def auth_required(self) -> bool:
        """Controls need the token when one is set or anyone beyond this machine can connect."""
        return self.api_token is not None or not is_loopback_host(self.host)

    @property
    def reads_need_token(self) -> bool:
        """Beyond loopback, positions, trades, P&L, the feed and metrics need the token too."""
        return not is_loopback_host(self.host)

    @classmethod
    def from_settings(
        cls, settings: Settings, host: str = "127.0.0.1", port: int = 8000, mode: str = "sim"
    ) -> HubConfig:
        token = settings.api_token.get_secret_value() if settings.api_token else None
        return cls(
            host=host,
            port=port,
            api_token=token or None,
            cors_origins=tuple(settings.cors_origin_list),
            mode=mode,
        )
