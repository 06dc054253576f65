"""Controls reach the trading actors only by message: an ``ask`` run off the event loop.

``Address.ask`` blocks its thread until the actor answers, so it runs on a small
thread pool; the loop only awaits the result. Errors map to API errors: nobody
at the address → 503, no answer in time → 504, the actor refused → 404/409 (409 with the
halt's reason and what clears it when trading is halted), a limit or parameter change
that breaks a start-up rule → 400 with the rule.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

import pykka

from config.risk_overrides import LimitRejected
from hub.errors import ApiError
from risk.halts import TradingHalted
from runtime.address import ActorUnavailable
from runtime.system import ActorSystem
from strategies.base import StrategyConfigError


class ControlGateway:
    def __init__(self, system: ActorSystem, timeout: float, workers: int = 4) -> None:
        self.system = system
        self.timeout = timeout
        self.executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="hub-ask")

    def known(self, name: str) -> bool:
        """Has any actor ever been addressed by ``name``? (Never creates an address.)"""
        return any(address.name == name for address in self.system.addresses())

    async def ask(self, target: str, message: object) -> Any:
        loop = asyncio.get_running_loop()
        address = self.system.address(target)
        call = partial(address.ask, message, self.timeout)
        try:
            return await loop.run_in_executor(self.executor, call)
        except (ActorUnavailable, pykka.ActorDeadError):
            raise ApiError(503, "unavailable", f"{target} is not running; try again") from None
        except pykka.Timeout:
            raise ApiError(504, "timeout", f"{target} did not answer in time") from None
        except LookupError as exc:
            raise ApiError(404, "not_found", f"{target}: {exc}") from None
        except TradingHalted as exc:
            raise ApiError(409, "halted", str(exc)) from None
        except LimitRejected as exc:
            raise ApiError(400, "invalid_limit", str(exc)) from None
        except StrategyConfigError as exc:
            raise ApiError(400, "invalid_params", str(exc)) from None
        except ValueError as exc:
            raise ApiError(409, "rejected", f"{target}: {exc}") from None
        except Exception as exc:
            raise ApiError(502, "actor_error", f"{target} failed: {type(exc).__name__}") from None

    async def off_loop(self, fn: Any, *args: Any) -> Any:
        """Run a blocking read (history, the tree, metrics) on the pool."""
        return await asyncio.get_running_loop().run_in_executor(self.executor, fn, *args)

    def close(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)
