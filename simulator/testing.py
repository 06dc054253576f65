"""A running exchange for tests: ``with running_exchange() as sim: ...``.

The server listens on 127.0.0.1 on an ephemeral port, in a background thread
with its own event loop. A fresh RSA key pair is registered for a fresh user
and the private key is written (mode 0600) to a temporary directory, so client
code under test connects exactly as it would to Kalshi::

    with running_exchange(seed=7) as sim:
        client = MyKalshiClient(sim.api_base, sim.ws_url, sim.key_id, sim.private_key_path)
        ticker = sim.current_ticker()
        ...
        sim.advance(60)          # manual clock: one simulated minute, WS messages sent
        sim.faults.update(error_5xx_next=1)

By default the clock is manual: time moves only through :meth:`SimHandle.advance`,
which returns once the resulting WebSocket messages have been written, so tests
need no sleeps. Pass ``manual_clock=False`` for the wall clock.

The handle is the stable API other tests build on; see :class:`SimHandle`.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from typing import TypeVar

from kalshi.auth import Signer, generate_private_key, private_key_pem
from simulator.clock import ManualClock, wall_clock
from simulator.config import ExchangeConfig
from simulator.exchange import Exchange
from simulator.faults import Faults
from simulator.ids import stable_id
from simulator.keys import KeyRegistry
from simulator.server import BackgroundServer, SimServer

T = TypeVar("T")

# 2026-05-28T20:30:00Z: a multiple of 900 (and of 60), so the first market opens at start.
DEFAULT_MANUAL_START = 1_780_000_200.0


@dataclass(frozen=True, slots=True)
class Credentials:
    """One API key of one user, with its private key on disk."""

    user_id: str
    key_id: str
    private_key_path: Path

    def signer(self) -> Signer:
        return Signer.from_file(self.key_id, self.private_key_path)


class SimHandle:
    """A running exchange. Attributes:

    - ``api_base``: ``http://127.0.0.1:PORT/trade-api/v2``
    - ``ws_url``: ``ws://127.0.0.1:PORT/trade-api/ws/v2``
    - ``host``, ``port``, ``control_base`` (``http://127.0.0.1:PORT/sim``)
    - ``key_id``, ``private_key_path``, ``user_id``: the registered user's credentials
    - ``exchange``: the core :class:`~simulator.exchange.Exchange` — touch it only
      through :meth:`call`, which runs code on the server loop
    - ``faults``: the :class:`~simulator.faults.Faults` knobs (thread-safe)
    - ``manual``: whether the clock is manual
    """

    def __init__(
        self,
        background: BackgroundServer,
        credentials: Credentials,
        key_dir: Path,
    ) -> None:
        server = background.server
        self._background = background
        self._server = server
        self._key_dir = key_dir
        self._users = 1
        self.credentials = credentials
        self.exchange: Exchange = server.exchange
        self.faults: Faults = server.faults
        self.host = server.host
        self.port = server.port
        self.api_base = server.api_base
        self.ws_url = server.ws_url
        self.control_base = f"http://{server.host}:{server.port}/sim"
        self.key_id = credentials.key_id
        self.private_key_path = credentials.private_key_path
        self.user_id = credentials.user_id
        self.manual = server.manual_clock is not None

    # --- running code on the server ---------------------------------------------------

    def call(self, fn: Callable[[Exchange], T], timeout: float = 30.0) -> T:
        """Run ``fn(exchange)`` on the server loop; WS events it causes are sent."""
        return self._background.call(lambda: fn(self.exchange), timeout)

    def now(self) -> float:
        """The exchange's current time (Unix seconds)."""
        return self.call(lambda ex: ex.now)

    def advance(self, seconds: float, timeout: float = 60.0) -> float:
        """Manual clock: move time on by ``seconds`` and process it; returns the new time.

        Returns once every WebSocket message it caused has been written to the
        sockets. Raises ``RuntimeError`` with the wall clock.
        """
        if not self.manual:
            raise RuntimeError("advance() needs running_exchange(manual_clock=True)")
        return self._background.run(self._server.advance_by(seconds), timeout)

    async def advance_async(self, seconds: float, timeout: float = 60.0) -> float:
        """:meth:`advance` for tests that are themselves running an event loop."""
        if not self.manual:
            raise RuntimeError("advance_async() needs running_exchange(manual_clock=True)")
        future = asyncio.run_coroutine_threadsafe(
            self._server.advance_by(seconds), self._background.loop
        )
        return await asyncio.wait_for(asyncio.wrap_future(future), timeout)

    def advance_to_next_window(self) -> float:
        """Advance to the open of the next window (its market becomes active)."""
        window = self.exchange.window
        now = self.now()
        target = (int(now) // window + 1) * window
        return self.advance(target - now)

    # --- convenience ------------------------------------------------------------------

    def current_ticker(self) -> str:
        """The ticker of the market open for trading now."""
        market = self.call(lambda ex: ex.current_market())
        if market is None:
            raise LookupError("no market is open right now")
        return market.ticker

    def balance(self, user_id: str | None = None) -> Decimal:
        """A user's available balance in dollars (exact)."""
        user = user_id or self.user_id
        return self.call(lambda ex: ex.balance(user))

    def signer(self) -> Signer:
        """A :class:`kalshi.auth.Signer` for the registered key."""
        return self.credentials.signer()

    def add_user(self, balance: Decimal | None = None) -> Credentials:
        """Register another user with a fresh key pair (multi-user tests)."""
        self._users += 1
        return _register_user(
            self._server, self._key_dir, f"user-{self._users}", balance, self._background
        )

    def register_key(self, key_id: str, public_key_pem: bytes, name: str) -> str:
        """Register a client's own public key (RSA or Ed25519) for a new user; its user id."""
        user_id = self.call(lambda ex: ex.create_user(name))
        self._server.keys.register(key_id, public_key_pem, user_id)
        return user_id

    def drop_websockets(self) -> int:
        """Drop every WebSocket connection now; returns how many were dropped."""
        return self._background.call(self._server.hub.drop_all)

    def websocket_count(self) -> int:
        return self._background.call(lambda: len(self._server.hub.connections))


def _register_user(
    server: SimServer,
    key_dir: Path,
    name: str,
    balance: Decimal | None,
    background: BackgroundServer | None,
) -> Credentials:
    private = generate_private_key()
    key_id = stable_id(f"key:{name}:{os.urandom(8).hex()}")
    path = key_dir / f"{name}.pem"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(private_key_pem(private))

    def create() -> str:
        return server.exchange.create_user(name, balance)

    user_id = background.call(create) if background is not None else create()
    server.keys.register(key_id, private.public_key(), user_id)
    return Credentials(user_id, key_id, path)


def _test_config(
    config: ExchangeConfig | None,
    seed: int,
    window_seconds: int,
    volatility: float | None,
    starting_balance: Decimal | None,
    market_makers: bool,
    noise_traders: bool,
) -> ExchangeConfig:
    """The exchange's settings: ``config`` wins over ``seed``/``window_seconds``; the other
    arguments override it when given, and may only switch the makers and traders off."""
    cfg = config or ExchangeConfig()
    cfg = replace(
        cfg,
        seed=seed if config is None else cfg.seed,
        window_seconds=window_seconds if config is None else cfg.window_seconds,
        market_makers=market_makers and cfg.market_makers,
        noise_traders=noise_traders and cfg.noise_traders,
    )
    if volatility is not None:
        cfg = replace(cfg, index=replace(cfg.index, volatility=volatility))
    if starting_balance is not None:
        cfg = replace(cfg, starting_balance=starting_balance)
    return cfg


@contextmanager
def running_exchange(
    *,
    seed: int = 0,
    window_seconds: int = 900,
    volatility: float | None = None,
    start_time: float | None = None,
    manual_clock: bool = True,
    now: Callable[[], float] | None = None,
    starting_balance: Decimal | None = None,
    market_makers: bool = True,
    noise_traders: bool = True,
    heartbeat_seconds: float | None = 10.0,
    config: ExchangeConfig | None = None,
    faults_seed: int | None = None,
    key_dir: Path | None = None,
) -> Iterator[SimHandle]:
    """Start an exchange on 127.0.0.1:<ephemeral>; stop it on exit.

    ``config`` gives full control (then ``seed`` and ``window_seconds`` come from it;
    ``volatility`` and ``starting_balance`` still override it when given, and
    ``market_makers=False`` / ``noise_traders=False`` still switch those off).
    ``start_time`` defaults to :data:`DEFAULT_MANUAL_START` with the manual clock
    and to the wall clock (or ``now()``) otherwise. ``now`` injects a clock for
    the non-manual mode.
    """
    cfg = _test_config(
        config, seed, window_seconds, volatility, starting_balance, market_makers, noise_traders
    )
    manual: ManualClock | None = None
    if manual_clock:
        manual = ManualClock(start_time if start_time is not None else DEFAULT_MANUAL_START)
    clock: Callable[[], float] = manual if manual is not None else now or wall_clock
    start = start_time if start_time is not None else clock()
    exchange = Exchange(cfg, start=start)
    server = SimServer(
        exchange,
        clock=clock,
        keys=KeyRegistry(),
        faults=Faults(faults_seed if faults_seed is not None else cfg.seed),
        manual_clock=manual,
        heartbeat_seconds=heartbeat_seconds,
    )
    with tempfile.TemporaryDirectory(prefix="exchange-sim-") as tmp:
        directory = key_dir or Path(tmp)
        credentials = _register_user(server, directory, "user-1", None, None)
        background = BackgroundServer(server)
        background.start()
        try:
            yield SimHandle(background, credentials, directory)
        finally:
            background.stop()
