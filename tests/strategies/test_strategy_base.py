"""The strategy interface: registry, validated parameters, and the position book."""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

import orjson
import pytest
from pydantic import ValidationError

from messages.market_data import BookUpdate, SpotTick
from messages.trading import Settlement, Signal
from strategies import STRATEGIES, Strategy, StrategyConfigError, StrategyParams, create_strategy
from strategies.base import available_strategies, register
from strategies.kelly_volatility import KellyVolatility, KellyVolatilityParams
from strategies.mean_reversion import MeanReversion
from strategies.positions import Positions
from tests.strategies.strategy_builders import TICKER, fill


def test_builtin_strategies_are_registered() -> None:
    names = available_strategies()
    assert names["kelly_volatility"] is KellyVolatility
    assert names["mean_reversion"] is MeanReversion
    assert set(names) <= set(STRATEGIES)


def test_create_strategy_with_params() -> None:
    strategy = create_strategy("kelly_volatility", min_edge="0.05", half_life_seconds=120)
    assert isinstance(strategy, KellyVolatility)
    assert strategy.params.min_edge == D("0.05")  # type: ignore[attr-defined]
    assert strategy.params.half_life_seconds == 120.0  # type: ignore[attr-defined]
    assert strategy.params.kelly_fraction == D("0.25")  # type: ignore[attr-defined]


def test_unknown_parameter_is_refused_with_the_valid_list() -> None:
    with pytest.raises(StrategyConfigError) as info:
        create_strategy("kelly_volatility", min_egde=0.05)
    text = str(info.value)
    assert "min_egde: unknown parameter" in text
    for valid in ("min_edge", "half_life_seconds", "kelly_fraction", "no_entry_seconds"):
        assert valid in text


def test_bad_values_are_refused() -> None:
    with pytest.raises(StrategyConfigError) as info:
        create_strategy("kelly_volatility", min_edge=-1, kelly_fraction=2)
    assert len(info.value.problems) == 2
    assert "min_edge" in str(info.value) and "kelly_fraction" in str(info.value)
    with pytest.raises(StrategyConfigError, match="exit_z must be below entry_z"):
        create_strategy("mean_reversion", entry_z=1.0, exit_z=1.5)
    with pytest.raises(StrategyConfigError, match="window_unit"):
        create_strategy("mean_reversion", window_unit="minutes")


def test_unknown_strategy_lists_the_available_ones() -> None:
    with pytest.raises(StrategyConfigError, match="available: kelly_volatility, mean_reversion"):
        create_strategy("martingale")


def test_params_are_frozen() -> None:
    params = KellyVolatilityParams()
    with pytest.raises(ValidationError):
        params.min_edge = D("0.5")  # type: ignore[misc]
    with pytest.raises(StrategyConfigError, match="params or keyword"):
        KellyVolatility(params, min_edge=0.1)
    with pytest.raises(StrategyConfigError, match="must be MeanReversionParams"):
        MeanReversion(params)  # type: ignore[arg-type]


def test_a_user_strategy_plugs_in() -> None:
    class EchoParams(StrategyParams):
        every: int = 2

    @register
    class Echo(Strategy):
        name = "echo_test"
        Params = EchoParams

        def on_spot(self, tick: SpotTick) -> list[Signal]:
            return []

        def on_book(self, book: BookUpdate) -> list[Signal]:
            return []

    try:
        made = create_strategy("echo_test", every=3)
        assert isinstance(made, Echo)
        assert made.on_timer(1.0) == []
        assert made.describe()["params"] == {"every": 3}
        with pytest.raises(TypeError, match="registered twice"):

            @register
            class Other(Echo):
                name = "echo_test"

    finally:
        STRATEGIES.pop("echo_test", None)


def test_describe_is_json_ready() -> None:
    for name in ("kelly_volatility", "mean_reversion"):
        described: dict[str, Any] = create_strategy(name).describe()
        assert described["name"] == name
        orjson.dumps(described)


def test_signal_ids_are_unique_and_reproducible() -> None:
    a, b = create_strategy("mean_reversion"), create_strategy("mean_reversion")
    ids_a = [a.next_signal_id(TICKER, 12.5) for _ in range(3)]
    ids_b = [b.next_signal_id(TICKER, 12.5) for _ in range(3)]
    assert ids_a == ids_b and len(set(ids_a)) == 3


def test_positions_net_like_kalshi() -> None:
    book = Positions()
    book.apply_fill(fill("yes", 10, "0.40", fee="0.17"))
    assert book.held(TICKER, "yes") == 10
    book.apply_fill(fill("no", 4, "0.55"))  # closes 4 pairs: each pays 1 − 0.55 − 0.40
    assert book.held(TICKER, "yes") == 6
    assert book.realized_pnl == D(4) * D("0.05") - D("0.17")
    book.apply_fill(fill("yes", 6, "0.50", action="sell"))  # sell = buy NO at 0.50
    assert book.holding(TICKER) is None
    assert book.realized_pnl == D("0.20") - D("0.17") + D(6) * D("0.10")
    book.apply_fill(fill("no", 3, "0.30", action="sell"))  # selling unheld NO opens YES at 0.70
    assert book.held(TICKER, "yes") == 3
    pnl = book.settle(Settlement(TICKER, "yes", 3, 0, D(3), 0.0))
    assert pnl == D(3) - D("2.10")
    assert book.holding(TICKER) is None
