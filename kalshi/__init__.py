"""The Kalshi wire layer: auth, REST and WebSocket clients, wire models, order book, errors."""
