"""The folder of Kalshi's own history that ``run.py history download`` writes and
``run.py backtest --market kalshi:DIR`` replays (any tool may write one).

Every file holds the API's JSON as Kalshi sent it (OpenAPI 3.31.0):

- ``markets.jsonl`` — one ``Market`` per line (``GET /markets`` or ``/historical/markets``);
- ``candlesticks/<TICKER>.json`` — one market's 1-minute candlesticks, a
  ``GetMarketCandlesticksResponse`` (or, for an archived market,
  ``GetMarketCandlesticksHistoricalResponse``: the same fields without ``_dollars``/``_fp``);
- ``trades.jsonl`` — one public ``Trade`` per line (optional);
- ``index_values.jsonl`` — one answer of the CF Benchmarks passthrough
  (``GET /cfbenchmarks/values?id=…``: ``{"data": {"serverTime", "payload": [{"value",
  "time"}]}}``) per line (optional);
- ``.download-state.json`` — the downloader's own progress, and where it downloaded from
  (a replay reads only that, to say whose market it replays).
"""

from __future__ import annotations

MARKETS_FILE = "markets.jsonl"
CANDLES_DIR = "candlesticks"
TRADES_FILE = "trades.jsonl"
INDEX_FILE = "index_values.jsonl"
STATE_FILE = ".download-state.json"
CANDLE_SUFFIX = ".json"
