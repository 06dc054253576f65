"""The WebSocketHub's parts: config, live state, history, fan-out, security, HTTP and WS routes.

``actors/ws_hub.py`` is the actor that owns them; each module here holds one idea
so the pieces can be tested (and later replaced, e.g. the history by the ledger)
on their own.
"""
