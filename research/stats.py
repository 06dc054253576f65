"""The probabilistic and the deflated Sharpe ratio: how much of a best Sharpe is luck.

Picking the best of N configurations picks the luckiest one too: even if none has skill,
the largest of N noisy Sharpe ratios is well above zero. The deflated Sharpe ratio of
Bailey & López de Prado (2014) asks how likely the true Sharpe of the pick beats that
expected maximum, allowing for short, skewed and fat-tailed return series.

Source: D. H. Bailey and M. López de Prado, "The Deflated Sharpe Ratio: Correcting for
Selection Bias, Backtest Overfitting and Non-Normality", Journal of Portfolio
Management 40(5), 2014, pp. 94–107. With SR̂ the *per-period* (here: per-day) Sharpe of
the pick over T returns of skewness γ₃ and kurtosis γ₄ (not excess; 3 when normal):

    PSR(SR*) = Φ( (SR̂ − SR*) · √(T − 1) / √(1 − γ₃·SR̂ + (γ₄ − 1)/4 · SR̂²) )

    SR₀ = √V[SR_n] · ( (1 − γ)·Φ⁻¹(1 − 1/N) + γ·Φ⁻¹(1 − 1/(N·e)) )

    DSR = PSR(SR₀)

where N is the number of configurations tried, V[SR_n] the variance of their per-period
Sharpe ratios, γ ≈ 0.5772 the Euler–Mascheroni constant and Φ the standard normal CDF.
SR₀ is the expected maximum Sharpe of N skill-less trials. The paper's worked example
(N = 100, V = ½/250, T = 1250, γ₃ = −3, γ₄ = 10, annual SR 2.5 over 250 days) gives
SR₀ ≈ 0.1132 and DSR ≈ 0.9004; tests/research/test_stats.py checks both.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from scipy.stats import norm

EULER_GAMMA = 0.5772156649015329
DAYS_PER_YEAR = 365  # backtest Sharpe ratios are daily P&L × √365 (backtest/metrics.py)
NORMAL_SKEW = 0.0
NORMAL_KURTOSIS = 3.0


def per_period(annualized: float, periods_per_year: int = DAYS_PER_YEAR) -> float:
    """A √(periods)-annualized Sharpe back to one period's: the paper's formulas need it."""
    return annualized / math.sqrt(periods_per_year)


def probabilistic_sharpe(
    sharpe: float, benchmark: float, returns: int, skew: float, kurtosis: float
) -> float | None:
    """PSR: the probability that the true per-period Sharpe exceeds ``benchmark``.

    None when it is undefined: fewer than 2 returns, or moments so extreme that the
    variance term is not positive.
    """
    if returns < 2:
        return None
    spread = 1.0 - skew * sharpe + (kurtosis - 1.0) / 4.0 * sharpe * sharpe
    if not spread > 0.0:
        return None
    z = (sharpe - benchmark) * math.sqrt(returns - 1) / math.sqrt(spread)
    return float(norm.cdf(z))


def expected_max_sharpe(trials: int, variance: float) -> float:
    """SR₀: the expected largest per-period Sharpe of ``trials`` skill-less configurations.

    One trial is no selection at all, so the benchmark is zero.
    """
    if trials < 1:
        raise ValueError(f"trials must be at least 1, got {trials}")
    if trials == 1 or variance <= 0.0:
        return 0.0
    z = (1.0 - EULER_GAMMA) * norm.ppf(1.0 - 1.0 / trials) + EULER_GAMMA * norm.ppf(
        1.0 - 1.0 / (trials * math.e)
    )
    return math.sqrt(variance) * float(z)


def sample_variance(values: Sequence[float]) -> float:
    """Unbiased variance; 0 for fewer than two values (no spread to measure)."""
    if len(values) < 2:
        return 0.0
    mean = math.fsum(values) / len(values)
    return math.fsum((v - mean) ** 2 for v in values) / (len(values) - 1)


@dataclass(frozen=True, slots=True)
class Deflated:
    """The DSR of one pick and what went into it (all Sharpe ratios per period)."""

    dsr: float | None
    psr: float | None  # against zero: the pick alone, no selection accounted for
    sharpe: float
    benchmark: float  # SR₀
    returns: int
    skew: float
    kurtosis: float
    trials: int
    trials_variance: float
    moments_assumed: bool  # skew/kurtosis were missing and taken as normal's (0, 3)

    def as_dict(self) -> dict[str, object]:
        def shown(value: float | None) -> float | None:
            return None if value is None or math.isnan(value) else round(value, 6)

        return {
            "dsr": shown(self.dsr),
            "psr_vs_zero": shown(self.psr),
            "sharpe_per_day": shown(self.sharpe),
            "sharpe_annualized": shown(self.sharpe * math.sqrt(DAYS_PER_YEAR)),
            "expected_max_sharpe_per_day": shown(self.benchmark),
            "days": self.returns,
            "skew": shown(self.skew),
            "kurtosis": shown(self.kurtosis),
            "trials": self.trials,
            "trials_sharpe_variance": shown(self.trials_variance),
            "moments_assumed_normal": self.moments_assumed,
            "formula": "Bailey & López de Prado (2014), J. Portfolio Management 40(5)",
        }


def deflated_sharpe(
    sharpe: float,
    returns: int,
    skew: float | None,
    kurtosis: float | None,
    trials: int,
    trials_variance: float,
) -> Deflated:
    """DSR of a pick with per-period ``sharpe`` over ``returns`` periods, chosen from
    ``trials`` configurations whose per-period Sharpe ratios have ``trials_variance``.

    Missing moments (too few returns to estimate them) are taken as the normal
    distribution's, and the result says so.
    """
    assumed = skew is None or kurtosis is None or math.isnan(skew) or math.isnan(kurtosis)
    g3 = NORMAL_SKEW if assumed or skew is None else skew
    g4 = NORMAL_KURTOSIS if assumed or kurtosis is None else kurtosis
    benchmark = expected_max_sharpe(trials, trials_variance)
    return Deflated(
        dsr=probabilistic_sharpe(sharpe, benchmark, returns, g3, g4),
        psr=probabilistic_sharpe(sharpe, 0.0, returns, g3, g4),
        sharpe=sharpe,
        benchmark=benchmark,
        returns=returns,
        skew=g3,
        kurtosis=g4,
        trials=trials,
        trials_variance=trials_variance,
        moments_assumed=assumed,
    )


@dataclass(frozen=True, slots=True)
class DailyMoments:
    """Mean, sample standard deviation, skewness and kurtosis (population, not excess)
    of ``days`` daily returns; enough to pool several series without their values."""

    days: int
    mean: float
    sd: float
    skew: float
    kurtosis: float
    assumed: bool = False  # some moments were missing and taken as normal's

    @property
    def sharpe(self) -> float | None:
        """Per-day Sharpe; None without variation."""
        return self.mean / self.sd if self.sd > 0.0 else None


def pool_moments(groups: Sequence[DailyMoments]) -> DailyMoments | None:
    """The moments of the concatenated daily series, exactly, from each part's moments.

    Why: walk-forward folds are run separately, yet the out-of-sample answer is the
    Sharpe of all their days together. Central sums are shifted to the pooled mean
    (Σ(x−M)^k expanded about each part's own mean).
    """
    total = sum(g.days for g in groups)
    if total < 1:
        return None
    mean = math.fsum(g.days * g.mean for g in groups) / total
    s2 = s3 = s4 = 0.0
    for g in groups:
        m2 = g.sd * g.sd * (g.days - 1) / g.days if g.days > 0 else 0.0
        m3, m4 = g.skew * m2**1.5, g.kurtosis * m2 * m2
        d = g.mean - mean
        s2 += g.days * (m2 + d * d)
        s3 += g.days * (m3 + 3 * d * m2 + d**3)
        s4 += g.days * (m4 + 4 * d * m3 + 6 * d * d * m2 + d**4)
    pop2 = s2 / total
    sd = math.sqrt(s2 / (total - 1)) if total > 1 else 0.0
    skew = s3 / total / pop2**1.5 if pop2 > 0 else NORMAL_SKEW
    kurt = s4 / total / (pop2 * pop2) if pop2 > 0 else NORMAL_KURTOSIS
    return DailyMoments(total, mean, sd, skew, kurt, any(g.assumed for g in groups))


def sharpe_interval(
    sharpe: float, returns: int, skew: float, kurtosis: float, z: float = 1.959964
) -> tuple[float, float] | None:
    """A normal-approximation interval for a per-period Sharpe, from the standard error
    that the PSR above uses (Mertens 2002, as in Bailey & López de Prado)."""
    if returns < 2:
        return None
    spread = 1.0 - skew * sharpe + (kurtosis - 1.0) / 4.0 * sharpe * sharpe
    if not spread > 0.0:
        return None
    half = z * math.sqrt(spread / (returns - 1))
    return sharpe - half, sharpe + half
