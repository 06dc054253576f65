"""Accounting read from the ledger: realized P&L, equity and the trading record."""
