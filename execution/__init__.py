"""Execution logic that needs no exchange: paper fills and position bookkeeping."""
