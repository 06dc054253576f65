"""A local exchange that speaks Kalshi's REST and WebSocket protocol (KXSOL15M markets).

Pure core (no I/O, time passed in): ``config`` (settings and calibration),
``index`` (the SOL index), ``pricing`` (fair value), ``orders``, ``book``,
``matching``, ``portfolio``, ``markets``, ``ticks``, ``traders`` (market makers
and noise traders), ``events`` and ``exchange`` (the orchestrator).
Wire and server: ``wire``, ``requests``, ``keys``, ``faults``, ``clock``,
``rest``, ``ws``, ``server``. Entry points: ``testing.running_exchange`` for
tests, ``cli.main`` for ``exchange-sim``. See ``README.md`` beside this file.
"""
