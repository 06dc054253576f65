"""A local exchange that speaks Kalshi's REST and WebSocket protocol (KXSOL15M markets).

Pure core (no I/O, time passed in): ``config`` (settings and calibration),
``index`` (the SOL index, 1 and 5 ticks a second), ``pricing`` (fair value),
``orders``, ``book``, ``matching``, ``modify`` (amend, decrease), ``groups`` and
``group_desk`` (order groups), ``portfolio``, ``markets``, ``ticks``,
``traders`` (market makers and noise traders), ``events`` and ``exchange`` (the
orchestrator). Wire and server: ``order_entry`` (V2 order bodies), ``requests``,
``wire``, ``wire_orders``, ``responses``, ``keys``, ``faults``, ``clock``,
``rest``, ``rest_orders``, ``rest_account``, ``ws``, ``server``. Entry points:
``testing.running_exchange`` for tests, ``cli.main`` for ``exchange-sim``. See
``README.md`` beside this file.
"""
