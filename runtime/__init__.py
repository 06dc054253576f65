"""The actor runtime: supervision, stable addresses, topic bus, clocks and timers, faults, quiescence.

pykka gives threads, mailboxes and futures; this package adds what a trading
system needs on top: restarts with intensity limits and backoff, names that
survive restarts, and tools that make all of it testable without sleeps.
"""
