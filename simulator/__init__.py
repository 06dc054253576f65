"""A local exchange that speaks Kalshi's REST and WebSocket protocol (15-minute crypto markets).

KXSOL15M by default; ``catalog`` lists every series it can run at once (BTC, ETH, SOL,
XRP, DOGE, HYPE, BNB), each on its own index with its own calibrated makers.
Pure core (no I/O, time passed in): ``config`` (settings and calibration),
``index`` (each series' index, 1 and 5 ticks a second, correlated through a common
factor), ``pricing`` (fair value),
``orders``, ``book``, ``matching``, ``modify`` (amend, decrease), ``groups`` and
``group_desk`` (order groups), ``portfolio``, ``markets``, ``ticks``,
``traders`` (market makers and noise traders), ``events`` and ``exchange`` (the
orchestrator). Wire and server: ``order_entry`` (V2 order bodies), ``requests``,
``wire``, ``wire_orders``, ``responses``, ``keys``, ``faults``, ``clock``,
``rest``, ``rest_orders``, ``rest_account``, ``ws``, ``server``. Entry points:
``testing.running_exchange`` for tests, ``cli.main`` for ``exchange-sim``. See
``README.md`` beside this file.
"""
