"""Backtests on real SOL history and on the bot's own recordings, with the live strategy and risk code.

``history`` reads 1-minute OHLCV and ``bridge`` expands it to 1-second index
prints; ``market`` quotes each 15-minute window with the simulator's
market-maker model; ``recording`` reads (and writes) what the bot recorded;
``session`` drives the real strategies, ``RiskEngine`` and ``PaperBroker`` on a
simulated clock; ``calibration`` and ``metrics`` score the result and
``report`` writes it. ``cli.main`` is ``python run.py backtest``.
"""
