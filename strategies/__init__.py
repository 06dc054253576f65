"""Pure decision logic: pricing, volatility, sizing and the strategies the StrategyActor wraps.

``create_strategy(name, **params)`` builds a registered strategy; ``STRATEGIES``
maps names to classes (the built-in ones load on first use).
"""

from strategies.base import (
    STRATEGIES,
    Strategy,
    StrategyConfigError,
    StrategyParams,
    available_strategies,
    create_strategy,
    register,
)

__all__ = [
    "STRATEGIES",
    "Strategy",
    "StrategyConfigError",
    "StrategyParams",
    "available_strategies",
    "create_strategy",
    "register",
]
