"""Checkout through the production shape: nginx in front of two gunicorn instances over
PostgreSQL, Redis and S3 (tests/stack/harness.py starts them all, private to this run),
buyers going product page → cart → checkout → place (up to the PaymentIntent at
localstripe, not paying), and a visitor paging through ``/products`` meanwhile.

    .venv/bin/python bench/stack_load.py                      # 32 buyers, 20 s
    .venv/bin/python bench/stack_load.py --buyers 64 --duration 30 --json out.json

The buyers are bench/checkout_load.py's (seeded catalogue, CSRF tokens, one-time keys, the
stock check in SQL at the end); they enter through nginx's plain-HTTP entrance of the
stack (the one localstripe's webhooks use: a load balancer that ends TLS in front), so
every request goes nginx → instance a or b. Printed: orders/s and each step's latency
(checkout_load's report), the p99 of ``/products`` during the burst, and localstripe's
own ceiling: PaymentIntents per second created straight at it with as many threads as
buyers, since every order creates one (the shop cannot place orders faster than that).
"""

import argparse
import http.client
import json
import sys
import threading
import time
from pathlib import Path

import stripe

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import checkout_load as load  # noqa: E402 - bench/ is sys.path[0]

from tests.nginx_site import HOST  # noqa: E402
from tests.stack.harness import Stack  # noqa: E402


def page_through_listing(port: int, stop_at: float, latencies: list[float]) -> None:
    """One visitor paging through /products (pages 1-20, round and round) until
    ``stop_at``; each answer's seconds."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    page = 0
    while time.time() < stop_at:
        page = page % 20 + 1
        began = time.perf_counter()
        try:
            connection.request("GET", f"/products?page={page}", headers={"Host": HOST})
            answer = connection.getresponse()
            answer.read()
        except (OSError, http.client.HTTPException):
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            continue
        if answer.status == 200:
            latencies.append(time.perf_counter() - began)


def localstripe_ceiling(stripe_base: str, threads: int, seconds: float) -> float:
    """PaymentIntents per second localstripe creates for ``threads`` clients at once."""
    client = stripe.StripeClient("sk_test_stack", base_addresses={"api": stripe_base})
    stop_at = time.time() + seconds
    made = [0] * threads

    def create(index: int) -> None:
        while time.time() < stop_at:
            client.v1.payment_intents.create(
                params={"amount": 8900, "currency": "cny", "payment_method_types": ["card"]}
            )
            made[index] += 1

    workers = [threading.Thread(target=create, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return sum(made) / seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--buyers", type=int, default=32)
    parser.add_argument("--processes", type=int, default=4, help="load generator processes")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds measured")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds not measured")
    parser.add_argument("--products", type=int, default=2000)
    parser.add_argument("--hot", type=int, default=300, help="products the buyers shop from")
    parser.add_argument("--limited", type=int, default=12, help="hot products low on stock")
    parser.add_argument("--limited-stock", type=int, default=3, help="pieces per variant")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per instance")
    parser.add_argument("--threads", type=int, default=8, help="threads per worker")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", help="also write the report here")
    args = parser.parse_args(argv)

    stack = Stack(workers=args.workers, threads=args.threads)
    try:
        stack.start()
        url = stack.database_url
        catalogue = load.seed(url, args.products, args.hot, args.limited, args.limited_stock)
        start = catalogue.pop("start")
        stack.flask("clear-page-cache")  # the catalogue was replaced under the instances
        port = stack.ports["hooks"]
        listing: list[float] = []
        marks: dict[str, float] = {}

        def on_window(name: str) -> None:
            marks[name] = time.time()
            if name == "start":
                stop_at = marks[name] + args.duration
                threading.Thread(
                    target=page_through_listing, args=(port, stop_at, listing), daemon=True
                ).start()

        timings, outcomes = load.run_buyers(args, f"http://127.0.0.1:{port}", catalogue, on_window)
        ceiling = localstripe_ceiling(stack.stripe_base, args.buyers, seconds=5)
        stock = load.stock_check(url, start)
    finally:
        stack.stop()
    meta = {
        "buyers": args.buyers,
        "duration_s": args.duration,
        "products": args.products,
        "gunicorn": f"2 instances x {args.workers} workers x {args.threads} threads (gthread)",
        "load_before": "-",
        "load_after": load.load_average(),
        "cpu_seconds": {},
        "database_connections_opened": "-",
    }
    report = load.summarise(timings, outcomes, args.duration, stock, meta)
    report["listing_during_burst"] = {
        "requests": len(listing),
        "p50_ms": round(load.percentile([s * 1000 for s in listing], 50), 1),
        "p99_ms": round(load.percentile([s * 1000 for s in listing], 99), 1),
    }
    report["localstripe_intents_per_second"] = round(ceiling, 1)
    load.print_report(report)
    print(
        f"through nginx, 2 instances: ORDERS/S {report['orders_per_second']} (target >= 200, "
        f"or localstripe's ceiling: {report['localstripe_intents_per_second']} PaymentIntents/s "
        f"created straight at it); /products during the burst: p50 "
        f"{report['listing_during_burst']['p50_ms']} ms, p99 "
        f"{report['listing_during_burst']['p99_ms']} ms over "
        f"{report['listing_during_burst']['requests']} requests"
    )
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))
    bad = report["errors"] or stock["variants_oversold"] or stock["variants_over_allocated"]
    return 1 if bad or stock["variants_mismatched"] else 0


if __name__ == "__main__":
    sys.exit(main())
