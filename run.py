#!/usr/bin/env python3
"""sol15 — start the bot (``python run.py``), the exchange simulator, a backtest or an export."""

import sys

from app.cli import main

if __name__ == "__main__":
    sys.exit(main())
