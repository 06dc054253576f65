"""The pure risk rules behind the RiskActor: limits, exposure with reservations, the engine."""

from risk.engine import MarketState, Reason, RiskAlert, RiskEngine, RiskState, TradingState
from risk.exposure import ExposureBook, Position, Reservation
from risk.limits import RiskLimits

__all__ = [
    "ExposureBook",
    "MarketState",
    "Position",
    "Reason",
    "Reservation",
    "RiskAlert",
    "RiskEngine",
    "RiskLimits",
    "RiskState",
    "TradingState",
]
