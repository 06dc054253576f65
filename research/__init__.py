"""Research at scale: parameter sweeps (and walk-forward studies) over the backtest.

Each run is one ordinary backtest (``backtest.runner``); this package plans the runs,
hashes what decides each result (so a finished run is never run twice), spreads them
over plain processes or Ray, and streams one row per run into ``results.csv`` and
``results.parquet``. See ``python run.py research --help``.
"""
