"""The model's Brier score beside the market's, paired by window, by hand."""

from __future__ import annotations

import math

import pytest

from scoring.compare import compare_brier
from scoring.forecasts import REAL_SOL_MID_BRIER, Forecast


def test_model_and_market_brier_with_the_paired_difference() -> None:
    model = [Forecast("a", 5, 0.9, 1), Forecast("b", 5, 0.2, 0), Forecast("c", 5, 0.5, 1)]
    market = [Forecast("a", 5, 0.8, 1), Forecast("b", 5, 0.4, 0)]  # no quote in window c
    rows = {row.minutes: row for row in compare_brier(model, market)}
    five = rows[5]
    assert (
        five.model.estimate == pytest.approx((0.01 + 0.04 + 0.25) / 3) and five.model.windows == 3
    )
    assert five.market.estimate == pytest.approx((0.04 + 0.16) / 2)
    assert (five.market.low, five.market.high) == (pytest.approx(0.04), pytest.approx(0.16))
    # paired on a and b only: −0.03 and −0.12
    assert five.difference.estimate == pytest.approx(-0.075) and five.difference.windows == 2
    assert (five.difference.low, five.difference.high) == (
        pytest.approx(-0.12),
        pytest.approx(-0.03),
    )
    assert five.real_market == REAL_SOL_MID_BRIER[5]
    assert math.isnan(rows[14].model.estimate) and rows[14].difference.windows == 0
    assert five.as_dict()["model_minus_market"]["estimate"] == -0.075
