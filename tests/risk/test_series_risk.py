"""Several series under one RiskEngine: per-series limits, the total-exposure limit, the
same-direction cap per window, and one reservation counting against all of them at once."""

from __future__ import annotations

from decimal import Decimal as D
from types import SimpleNamespace

import orjson
import pytest

from config.series import SeriesOverrides, SeriesSettings
from kalshi.tickers import series_of
from risk import Reason, RiskEngine, RiskLimits, RiskState
from risk.exposure import Position, order_cost
from tests.risk.risk_builders import BTC1, ETH1, NOW, T1, T2, engine, fill, market, signal

BTC2 = "KXBTC15M-26MAY300030-30"  # BTC's next window (closes with T2)


def test_a_markets_series_is_its_tickers_prefix() -> None:
    assert series_of("KXBTC15M-26MAY300015-15") == "KXBTC15M"
    assert series_of("KXBTC15M-26MAY300015") == "KXBTC15M"
    assert series_of("KXBTC15M") == "KXBTC15M"


def test_a_series_position_limit_binds_when_tighter_than_the_global_one() -> None:
    eng = engine(series_max_position_size={"KXBTC15M": D(5), "KXSOL15M": D(500)})
    assert eng.limits.position_limit("KXBTC15M") == D(5)
    assert eng.limits.position_limit("KXSOL15M") == D(100)  # the global $100 is tighter
    assert eng.limits.position_limit("KXETH15M") == D(100)
    btc = eng.evaluate(signal(BTC1, quantity=100), NOW, market(BTC1))
    assert btc.approved and btc.quantity == 9  # $4.6575; 10 would cost $5.175
    refused = eng.evaluate(signal(BTC1, quantity=1), NOW, market(BTC1))
    assert (refused.approved, refused.reason) == (False, Reason.POSITION_LIMIT)
    sol = eng.evaluate(signal(T1, quantity=40), NOW, market(T1))
    assert sol.approved and sol.quantity == 40


def test_a_series_exposure_limit_spans_its_markets_and_spares_the_others() -> None:
    eng = engine(series_max_exposure={"KXBTC15M": D(10)}, max_concurrent_positions=4)
    first = eng.evaluate(signal(BTC1, quantity=12), NOW, market(BTC1))
    assert first.quantity == 12  # $6.21
    second = eng.evaluate(signal(BTC2, quantity=12), NOW, market(BTC2))
    assert second.approved and second.quantity == 7  # cut to $10 across BTC's two markets
    assert eng.book.series_exposure("KXBTC15M") <= D(10)
    refused = eng.evaluate(signal(BTC2, quantity=1), NOW, market(BTC2))
    assert refused.reason == Reason.SERIES_EXPOSURE_LIMIT
    assert eng.evaluate(signal(T1, quantity=12), NOW, market(T1)).quantity == 12  # SOL: free


def test_the_total_exposure_limit_spans_every_series() -> None:
    eng = engine(max_total_exposure=D(10), max_concurrent_positions=4)
    assert eng.evaluate(signal(T1, quantity=12), NOW, market(T1)).quantity == 12  # $6.21
    cut = eng.evaluate(signal(BTC1, quantity=12), NOW, market(BTC1))
    assert cut.quantity == 7 and eng.book.total_exposure() <= D(10)
    assert eng.evaluate(signal(ETH1, quantity=1), NOW, market(ETH1)).reason == (
        Reason.TOTAL_EXPOSURE_LIMIT
    )


def test_the_correlation_cap_counts_one_direction_in_one_window() -> None:
    eng = engine(max_correlated_exposure=D(10), max_concurrent_positions=5)
    assert eng.evaluate(signal(T1, quantity=12), NOW, market(T1)).approved
    cut = eng.evaluate(signal(BTC1, quantity=12), NOW, market(BTC1))
    assert cut.quantity == 7  # YES on SOL and BTC in one window: one $10 bet
    assert eng.correlated_exposure(ETH1, "yes") == eng.book.total_exposure()
    refused = eng.evaluate(signal(ETH1, quantity=1), NOW, market(ETH1))
    assert refused.reason == Reason.CORRELATED_EXPOSURE
    # the other direction in the same window, and the same direction in the next one, are free
    down = eng.evaluate(signal(ETH1, direction="no", quantity=12), NOW, market(ETH1))
    assert down.quantity == 12
    later = eng.evaluate(signal(BTC2, quantity=12), NOW, market(BTC2))
    assert later.quantity == 12
    assert eng.correlated_exposure(T1, "yes") <= D(10)
    assert eng.correlated_exposure(T1, "no") == order_cost(D("0.50"), 12, D(1))


def test_the_correlation_cap_counts_positions_filled_before_a_restart() -> None:
    """After a restore no market state has been seen yet: the window comes from the ticker."""
    eng = engine(max_correlated_exposure=D(10))
    eng.restore(
        RiskState(
            cash=D(990),
            day_start_equity=D(1000),
            positions=[Position(BTC1, "yes", 20, D("9.60"))],
        )
    )
    assert eng.window_of(BTC1) == eng.window_of(T1) is not None
    assert eng.window_of(T2) != eng.window_of(T1)
    assert eng.correlated_exposure(T1, "yes") == D("9.60")
    decision = eng.evaluate(signal(T1, quantity=5), NOW, market(T1))
    assert decision.reason == Reason.CORRELATED_EXPOSURE  # $0.40 left, 1 contract costs $0.5175


def test_markets_with_tickers_in_another_format_share_a_window_by_close_time() -> None:
    eng = engine(max_correlated_exposure=D(10), max_concurrent_positions=5)
    a, b, c = "UP-A", "UP-B", "UP-C"
    assert eng.window_of(a) is None  # never seen: its own window
    assert eng.evaluate(signal(a, quantity=12), NOW, market(a, close_time=NOW + 60)).approved
    assert eng.evaluate(signal(b, quantity=12), NOW, market(b, close_time=NOW + 60)).quantity == 7
    assert eng.evaluate(signal(c, quantity=12), NOW, market(c, close_time=NOW + 90)).quantity == 12


def test_one_reservation_counts_against_every_limit_or_none() -> None:
    """Atomic: an approval moves every exposure by the same reservation; a rejection by none
    (even when the binding limit is the last one checked)."""
    eng = engine(
        series_max_position_size={"KXBTC15M": D(50)},
        series_max_exposure={"KXBTC15M": D(60)},
        max_total_exposure=D(80),
        max_correlated_exposure=D(30),
        max_concurrent_positions=4,
    )

    def exposures() -> tuple[D, ...]:
        book = eng.book
        return (
            book.market_exposure(BTC1),
            book.series_exposure("KXBTC15M"),
            book.total_exposure(),
            eng.correlated_exposure(BTC1, "yes"),
            book.available_cash(),
        )

    before = exposures()
    sig = signal(BTC1, quantity=20)
    assert eng.evaluate(sig, NOW, market(BTC1)).quantity == 20
    cost = order_cost(D("0.50"), 20, D(1))
    after = exposures()
    assert after == (*(b + cost for b in before[:4]), before[4] - cost)
    # the correlation cap binds: nothing at all is reserved
    assert eng.evaluate(signal(T1, quantity=40), NOW, market(T1)).quantity < 40
    full = exposures()
    refused = eng.evaluate(signal(ETH1, quantity=5), NOW, market(ETH1))
    assert refused.reason == Reason.CORRELATED_EXPOSURE
    assert exposures() == full
    # a fill turns the reservation into a position at cost (its fee reserved, not held):
    # every exposure moves by the same amount
    fee = cost - D(10)
    eng.on_fill(fill(sig.signal_id, 20, "0.50", ticker=BTC1), NOW)
    assert exposures()[:4] == tuple(f - fee for f in full[:4])
    # releasing an order frees it for every limit at once
    eng.release(next(iter(eng.book.reservations)))
    assert eng.correlated_exposure(BTC1, "yes") == D("10.00")
    assert eng.evaluate(signal(ETH1, quantity=5), NOW, market(ETH1)).approved


def test_series_limits_come_from_the_series_settings() -> None:
    series = SeriesSettings(
        ("KXSOL15M", "KXBTC15M"),
        False,
        {
            "KXBTC15M": SeriesOverrides(max_position_size=D(40), max_exposure=D(90)),
            "KXSOL15M": SeriesOverrides(strategies=("kelly_volatility",)),
        },
    )
    settings = SimpleNamespace(
        max_position_size=D(100), max_correlated_exposure=D(25), series_settings=series
    )
    limits = RiskLimits.from_settings(settings)
    assert limits.series_max_position_size == {"KXBTC15M": D(40)}
    assert limits.series_max_exposure == {"KXBTC15M": D(90)}
    assert limits.max_correlated_exposure == D(25) and limits.max_total_exposure is None
    assert RiskLimits.from_settings(SimpleNamespace()) == RiskLimits()


@pytest.mark.parametrize(
    ("values", "problem"),
    [
        ({"max_total_exposure": D(0)}, "max_total_exposure must be > 0"),
        ({"max_correlated_exposure": D(-1)}, "max_correlated_exposure must be > 0"),
        ({"series_max_exposure": {"KXBTC15M": D(0)}}, "series_max_exposure[KXBTC15M] must be"),
        ({"series_max_position_size": {"KXETH15M": D(-2)}}, "series_max_position_size[KXETH"),
    ],
)
def test_bad_series_limits_are_refused(values: dict[str, object], problem: str) -> None:
    with pytest.raises(ValueError, match=problem.replace("[", r"\[").replace("]", r"\]")):
        RiskLimits(**values)  # type: ignore[arg-type]


def test_the_snapshot_shows_exposure_per_series_and_serializes() -> None:
    eng: RiskEngine = engine(series_max_exposure={"KXBTC15M": D(60)}, max_total_exposure=D(80))
    eng.evaluate(signal(BTC1, quantity=10), NOW, market(BTC1))
    eng.evaluate(signal(T1, quantity=10), NOW, market(T1))
    snap = eng.snapshot(NOW)
    assert snap["series_exposure"] == {"KXBTC15M": 5.175, "KXSOL15M": 5.175}
    assert snap["limits"]["series_max_exposure"] == {"KXBTC15M": 60.0}
    assert snap["limits"]["max_total_exposure"] == 80.0
    orjson.dumps(snap)


def test_the_backtest_takes_series_limits_as_risk_params() -> None:
    """``--param risk.series_max_exposure.KXBTC15M=50`` (a grid too) reaches the RiskEngine."""
    from backtest.errors import BacktestInputError
    from backtest.params import build_configs

    configs = build_configs(
        ["kelly_volatility"],
        [
            "risk.series_max_exposure.kxbtc15m=50,60",
            "risk.series_max_position_size.KXSOL15M=5",
            "risk.max_correlated_exposure=30",
        ],
        seed=1,
    )
    assert [c.risk.limits.series_max_exposure for c in configs] == [
        {"KXBTC15M": D(50)},
        {"KXBTC15M": D(60)},
    ]
    limits = configs[0].risk.limits
    assert limits.series_max_position_size == {"KXSOL15M": D(5)}
    assert limits.max_correlated_exposure == D(30)
    assert configs[0].describe()["risk"]["series_max_exposure"] == {"KXBTC15M": 50.0}
    with pytest.raises(BacktestInputError, match=r"series_max_exposure\[KXBTC15M\] must be > 0"):
        build_configs(["kelly_volatility"], ["risk.series_max_exposure.KXBTC15M=0"], seed=1)
    with pytest.raises(BacktestInputError, match=r"risk\.series_max_exposure: unknown parameter"):
        build_configs(["kelly_volatility"], ["risk.series_max_exposure=5"], seed=1)


def test_each_market_is_judged_by_its_own_index() -> None:
    """The RiskActor's choice of print: a stale SOL index stops SOL entries, not BTC's."""
    from actors.risk import spot_of_market
    from messages.market_data import SpotTick

    btc = SpotTick("BRTI", D("70000"), NOW)
    sol = SpotTick("SOLUSD_RTI", D("80"), NOW - 30, stale=True)
    spots = {"BRTI": btc, "SOLUSD_RTI": sol}
    assert spot_of_market(SimpleNamespace(index="BRTI"), spots, sol) is btc  # type: ignore[arg-type]
    assert spot_of_market(SimpleNamespace(index="SOLUSD_RTI"), spots, btc) is sol  # type: ignore[arg-type]
    assert spot_of_market(SimpleNamespace(index="ETHUSD_RTI"), spots, btc) is None  # type: ignore[arg-type]
    # one series, its index not said (MarketInfo.index defaults to ""): the latest print
    assert spot_of_market(SimpleNamespace(index=""), spots, sol) is sol  # type: ignore[arg-type]


def test_the_total_and_correlation_caps_can_change_at_runtime() -> None:
    """``PATCH /api/risk/limits`` checks them as start-up does; per-series limits stay as set."""
    from config import risk_overrides as overrides

    assert {"max_total_exposure", "max_correlated_exposure"} <= set(overrides.CHANGEABLE)
    assert not {"series_max_exposure", "series_max_position_size"} & set(overrides.CHANGEABLE)
    base = RiskLimits(series_max_exposure={"KXBTC15M": D(60)})
    changed = overrides.apply(base, overrides.validate({"max_correlated_exposure": "40"}))
    assert changed.max_correlated_exposure == D(40)
    assert changed.series_max_exposure == {"KXBTC15M": D(60)}
    assert overrides.view(base)["max_correlated_exposure"] is None
    with pytest.raises(overrides.LimitRejected, match="MAX_CORRELATED_EXPOSURE"):
        overrides.validate({"max_correlated_exposure": "0"})
