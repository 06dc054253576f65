"""Order create→ack and cancel→ack latency through sol15's Kalshi client (the V2 order
endpoints) against the local simulator.

The simulator runs in its own process (``python run.py exchange-sim``); the client
signs every request for real (order creation uses pre-signed headers, as the bot
does). Orders rest far below the market so each can be cancelled.

    python bench/order_roundtrip.py [--orders 1000] [--json]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import orjson

from bench.sim_process import exchange_process
from bench.stats import percentile
from kalshi.auth import Signer
from kalshi.models import OrderRequestV2
from kalshi.rest import KalshiRestClient


def measure(orders: int, warmup: int = 50) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp, exchange_process(Path(tmp)) as sim:
        signer = Signer.from_file(sim["KALSHI_API_KEY"], sim["KALSHI_PRIVATE_KEY_PATH"])
        client = KalshiRestClient(
            sim["KALSHI_API_BASE"], signer, presign_orders=True, rate_limit=False
        )
        ticker = client.get_markets(series_ticker="KXSOL15M", status="open")[0].ticker
        create: list[float] = []
        cancel: list[float] = []
        for i in range(warmup + orders):
            client.refresh_presigned()  # the bot's timer does this off the hot path
            started = time.perf_counter()
            order = client.create_order(
                OrderRequestV2(
                    ticker,
                    f"bench-{i}",
                    "bid",
                    Decimal(1),
                    Decimal("0.0100"),
                    "good_till_canceled",
                )
            )
            created = time.perf_counter()
            client.cancel_order(order.order_id, market_ticker=ticker)
            done = time.perf_counter()
            if i >= warmup:
                create.append((created - started) * 1e6)
                cancel.append((done - created) * 1e6)
        client.close()
    return {
        "orders": orders,
        "create_p50_us": round(percentile(create, 50), 1),
        "create_p99_us": round(percentile(create, 99), 1),
        "cancel_p50_us": round(percentile(cancel, 50), 1),
        "cancel_p99_us": round(percentile(cancel, 99), 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--orders", type=int, default=1000, help="orders to create and cancel (default 1000)"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    figures = measure(args.orders)
    if args.json:
        print(orjson.dumps(figures).decode())
    else:
        print(f"orders measured: {figures['orders']}")
        print(
            f"create -> ack: p50 {figures['create_p50_us']:.0f} us, p99 {figures['create_p99_us']:.0f} us"
        )
        print(
            f"cancel -> ack: p50 {figures['cancel_p50_us']:.0f} us, p99 {figures['cancel_p99_us']:.0f} us"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
