"""Checkout under load: buyers going product page → cart → checkout → place, on PostgreSQL.

    .venv/bin/python bench/checkout_load.py                 # 16 buyers, 30 s, 2,000 products
    .venv/bin/python bench/checkout_load.py --buyers 16 --duration 30 --json out.json

DESTRUCTIVE: the database (default ``h3checkout_bench`` on 127.0.0.1, created if missing)
is wiped (``DROP SCHEMA public CASCADE``), migrated with ``shop.migrate`` and bulk-seeded by
``bench/seed_bulk.py``. A hot set of stocked products is what buyers shop from; a few of
them get only a handful of pieces per variant, so they sell out while buyers race for the
last pieces and any overselling would show.

Then localstripe (``shop.devstripe``: placing a card order creates a PaymentIntent) and the
shop under gunicorn with the repository's ``deploy/gunicorn.conf.py`` (threaded workers,
``SHOP_ENV=production``) start on free loopback ports, and ``--buyers`` buyers, spread
over a few processes, each with its own cookies and keep-alive connection, repeat:

    GET /products/<slug>  →  POST /cart/add (the size grid, CSRF token from the page)
    →  GET /checkout  →  POST /checkout (details)  →  GET /checkout/review
    →  POST /checkout/place (the review's one-time key)  →  a new order, unpaid

After a warm-up, for ``--duration`` seconds every request's latency is recorded. Printed:
orders/s, p50/p95/p99/max per step, statuses, refusals (stock ran out) and errors, and
the stock check done in SQL: no variant has more allocated than on hand, every variant's
allocation grew by exactly the pieces of the orders placed, no variant's orders add up to
more than the stock it started with, and the stock ledger agrees. Exit 1 on any error or
oversold variant. Servers are stopped (their process groups) on exit.

    .venv/bin/python bench/checkout_load.py --count-statements [--orders 20] [--profile F]

counts instead of timing (what a shared machine cannot blur): the same buyer, one request
at a time through Flask's test client in this process, with localstripe; per step, the SQL
statements, commits, rollbacks and pool pings SQLAlchemy saw, and the round trips on the
wire by libpq's trace (``bench/round_trips.py``: the ``BEGIN`` psycopg sends by itself
counts too), then the shop's CPU per step with the trace off. ``--json`` keeps the last
order's statements and what each round trip sent. ``--profile F`` then walks as many
orders again under cProfile (this thread's CPU time) and writes the stats to ``F``.
"""

import argparse
import cProfile
import http.client
import json
import multiprocessing
import os
import random
import re
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import Counter, defaultdict
from http.cookies import SimpleCookie
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from seed_bulk import generate, insert_catalogue  # noqa: E402 - bench/ is sys.path[0]

from shop import migrate  # noqa: E402
from shop.db import make_engine  # noqa: E402

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/h3checkout_bench"
REDIS_URL = "redis://127.0.0.1:6379/13"
STEPS = ("product", "add", "checkout", "details", "review", "place")
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
REQUEST_KEY = re.compile(r'name="request_key"[^>]*value="([^"]+)"')
GRID_INPUT = re.compile(r'name="qty-(\d+)"[^>]*max="(\d+)"')
DETAILS = {
    "email": "buyer@example.com",
    "delivery_method": "pickup",
    "recipient": "Li Wei",
    "phone": "+86 139 0000 0000",
    "country": "",
    "region": "",
    "city": "",
    "line1": "",
    "line2": "",
    "postcode": "",
    "notes": "",
}
COURIER = {
    **DETAILS,
    "delivery_method": "courier",
    "country": "CN",
    "region": "Guangdong",
    "city": "Foshan",
    "line1": "18 Jihua Road",
    "postcode": "528000",
}


# --- database ----------------------------------------------------------------------------


def ensure_database(url: str) -> None:
    """Create the PostgreSQL database if it does not exist yet."""
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() != "postgresql":
        raise SystemExit("checkout_load measures PostgreSQL: give a postgresql:// URL")
    admin = make_engine(parsed.set(database="postgres").render_as_string(hide_password=False))
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        exists = connection.scalar(
            sa.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": parsed.database}
        )
        if not exists:
            connection.execute(sa.text(f'CREATE DATABASE "{parsed.database}"'))
    admin.dispose()


def seed(url: str, products: int, hot: int, limited: int, limited_stock: int) -> dict:
    """Wipe, migrate, bulk-seed; choose the hot set and cut the limited products' stock.
    Returns ``{"slugs": [...], "limited": [...], "start": {variant id: (on_hand, allocated)}}``."""
    started = time.perf_counter()
    migrate.reset_database(url)
    migrate.upgrade(url)
    insert_catalogue(url, generate(products))
    engine = make_engine(url)
    with engine.begin() as connection:
        candidates = connection.execute(
            sa.text(
                """
                SELECT p.id, p.slug FROM product p
                WHERE p.active AND NOT p.made_to_order AND p.school_id IS NULL
                  AND p.min_order_quantity = 1 AND p.order_increment = 1
                  AND EXISTS (SELECT 1 FROM price_tier t WHERE t.product_id = p.id
                              AND t.currency = 'CNY' AND t.min_quantity = 1
                              AND t.unit_amount >= 400)
                  AND NOT EXISTS (SELECT 1 FROM variant v WHERE v.product_id = p.id
                                  AND v.on_hand - v.allocated < 50)
                ORDER BY p.id
                """
            )
        ).all()
        rng = random.Random(20261204)
        chosen = rng.sample(candidates, min(hot, len(candidates)))
        limited_ids = [row.id for row in chosen[:limited]]
        if limited_ids:
            connection.execute(
                sa.text(
                    "UPDATE variant SET on_hand = :stock, allocated = 0 "
                    "WHERE product_id = ANY(:ids)"
                ),
                {"stock": limited_stock, "ids": limited_ids},
            )
        ids = [row.id for row in chosen]
        start = {
            row.id: (row.on_hand, row.allocated)
            for row in connection.execute(
                sa.text("SELECT id, on_hand, allocated FROM variant WHERE product_id = ANY(:ids)"),
                {"ids": ids},
            )
        }
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(sa.text("ANALYZE"))
    engine.dispose()
    print(
        f"seeded {products:,} products in {time.perf_counter() - started:.1f}s; buyers shop "
        f"from {len(chosen)}, of which {len(limited_ids)} have {limited_stock} per variant",
        file=sys.stderr,
    )
    return {
        "slugs": [row.slug for row in chosen[limited:]],
        "limited": [row.slug for row in chosen[:limited]],
        "start": start,
    }


def stock_check(url: str, start: dict[int, tuple[int, int]]) -> dict:
    """Oversold, by SQL: allocated ≤ on hand everywhere; per watched variant the pieces on
    open orders equal the allocation's growth, fit the stock it started with, and the
    ledger's allocated deltas say the same."""
    engine = make_engine(url)
    with engine.connect() as connection:
        over_allocated = connection.scalar(
            sa.text("SELECT count(*) FROM variant WHERE allocated > on_hand OR allocated < 0")
        )
        rows = connection.execute(
            sa.text(
                """
                SELECT v.id, v.on_hand, v.allocated,
                       COALESCE((SELECT sum(l.quantity) FROM order_line l
                                 JOIN shop_order o ON o.id = l.order_id
                                 WHERE l.variant_id = v.id AND o.state = 'open'), 0) AS ordered,
                       COALESCE((SELECT sum(m.allocated_delta) FROM stock_movement m
                                 WHERE m.variant_id = v.id), 0) AS ledger
                FROM variant v WHERE v.id = ANY(:ids)
                """
            ),
            {"ids": list(start)},
        ).all()
        orders = connection.scalar(sa.text("SELECT count(*) FROM shop_order"))
        lines = connection.scalar(sa.text("SELECT count(*) FROM order_line"))
    engine.dispose()
    oversold, mismatched, sold_out = [], [], 0
    for row in rows:
        on_hand, allocated = start[row.id]
        if row.ordered > on_hand - allocated:
            oversold.append(row.id)
        if row.allocated - allocated != row.ordered or row.ledger != row.ordered:
            mismatched.append(row.id)
        if row.on_hand - row.allocated == 0:
            sold_out += 1
    return {
        "orders_in_database": orders,
        "order_lines": lines,
        "variants_over_allocated": over_allocated,
        "variants_oversold": len(oversold),
        "variants_mismatched": len(mismatched),
        "variants_sold_out": sold_out,
        "oversold_ids": oversold[:20],
        "mismatched_ids": mismatched[:20],
    }


def order_table_name(url: str) -> None:
    """The order table is ``shop_order`` (``order`` is reserved); fail early if not."""
    from shop.orders.models import Order

    assert Order.__tablename__ == "shop_order", Order.__tablename__


# --- servers -----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, process: subprocess.Popen, log: Path, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    parts = urllib.parse.urlsplit(url)
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=2)
            connection.request("GET", parts.path or "/")
            if connection.getresponse().status == 200:
                connection.close()
                return
        except OSError:
            pass
        time.sleep(0.2)
    sys.stderr.write(log.read_text()[-4000:])
    raise SystemExit(f"{url} did not come up")


def start_localstripe(work: Path) -> tuple[subprocess.Popen, str]:
    """localstripe on a free loopback port; → (process, its URL)."""
    port = free_port()
    log = work / "localstripe.log"
    stripe = subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), "--localstripe", str(port)],
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
        cwd=ROOT,
    )
    base = f"http://127.0.0.1:{port}"
    wait_for(base + "/js.stripe.com/v3/", stripe, log)
    return stripe, base


def shop_environment(args, work: Path, url: str, base: str, stripe_base: str) -> dict:
    """The production settings the shop runs with. The page cache gets a namespace of
    its own: pages an earlier run left in Redis have holes marked for another secret key
    (the reseeded catalogue has the same versions), and would be served unfilled."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "SHOP_ENV": "production",
        "SECRET_KEY": secrets.token_hex(32),
        "SHOP_INSTANCE_PATH": str(work / "instance"),
        "SHOP_BASE_URL": base,
        "REDIS_URL": args.redis_url,
        "DATABASE_URL": url,
        "STRIPE_API_BASE": stripe_base,
        "STRIPE_SECRET_KEY": "sk_test_checkout_bench",
        "STRIPE_PUBLISHABLE_KEY": "pk_test_checkout_bench",
        "STRIPE_WEBHOOK_SECRET": "whsec_checkout_bench",
        "MAIL_OUTBOX": str(work / "outbox"),
        "PAGE_CACHE_NAMESPACE": f"checkout-bench-{secrets.token_hex(4)}",
    }


def start_servers(args, work: Path, url: str) -> tuple[list[subprocess.Popen], str]:
    """localstripe, then gunicorn with the repository's config; → (processes, shop URL)."""
    python = sys.executable
    stripe, stripe_base = start_localstripe(work)
    shop_port = free_port()
    base = f"http://127.0.0.1:{shop_port}"
    env = shop_environment(args, work, url, base, stripe_base)
    for name in ("SHOP_PROFILE_DIR", "SHOP_SQL_COUNTS"):  # optional profiling hooks
        if os.environ.get(name):
            env[name] = os.environ[name]
    if args.workers:
        env["WEB_CONCURRENCY"] = str(args.workers)
    if args.threads:
        env["GUNICORN_THREADS"] = str(args.threads)
    command = [
        *(python, "-m", "gunicorn", "--config", str(ROOT / "deploy" / "gunicorn.conf.py")),
        *("--chdir", str(ROOT), "--bind", f"127.0.0.1:{shop_port}"),
        # No access log of gunicorn's, as in production (the config's ``accesslog``): the
        # shop writes its own line per request (shop.logs), into shop.log here.
        "--error-logfile",
        str(work / "shop.log"),
    ]
    import gunicorn

    if gunicorn.version_info >= (27,):
        command.append("--no-control-socket")  # one path per user; leave it to others
    shop_log = work / "shop.log"
    shop = subprocess.Popen(
        [*command, "wsgi:app"],
        env=env,
        stdout=(work / "gunicorn.out").open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
        cwd=ROOT,
    )
    wait_for(base + "/healthz", shop, shop_log)
    return [shop, stripe], base


def serve_localstripe(port: int) -> None:
    """localstripe in memory only: it pickles its whole store to /tmp after every write,
    which makes each call slower as intents pile up (real Stripe does not) and races other
    localstripes on the machine for the same file."""
    from localstripe.resources import Store

    from shop import devstripe

    Store.dump_to_disk = lambda self: None
    devstripe.main(["--port", str(port), "--from-scratch"])


def stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)


# --- buyers ------------------------------------------------------------------------------


class Browser:
    """One buyer's keep-alive connection and cookies (plain ``http.client``: cheap, and
    it sends the production session cookie, marked Secure, over loopback http)."""

    def __init__(self, base: str):
        parts = urllib.parse.urlsplit(base)
        self.host, self.port = parts.hostname, parts.port
        self.connection = None
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: dict | None = None):
        headers = {"Host": f"{self.host}:{self.port}"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        for attempt in (1, 2):
            if self.connection is None:
                self.connection = http.client.HTTPConnection(self.host, self.port, timeout=60)
            try:
                self.connection.request(method, path, body=body, headers=headers)
                response = self.connection.getresponse()
                text = response.read().decode("utf-8", "replace")
                break
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                self.connection.close()  # the server closed an idle keep-alive connection
                self.connection = None
                if attempt == 2:
                    raise
        for header in response.headers.get_all("Set-Cookie") or []:
            cookie = SimpleCookie()
            cookie.load(header)
            for name, morsel in cookie.items():
                if morsel["expires"] and "1970" in morsel["expires"] or morsel.value == "":
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        location = urllib.parse.urlsplit(response.headers.get("Location") or "").path
        return response.status, location, text


class Unexpected(Exception):
    pass


def buyer(index, base, catalogue, stop_at, record_from, results, seed):
    """Repeat the checkout until ``stop_at``; append ``(step, started, seconds, status)``
    for requests started after ``record_from`` and count outcomes."""
    rng = random.Random(seed)
    browser = Browser(base)
    timings, outcomes = [], Counter()
    sold_out: set[str] = set()

    def step(name, method, path, form=None):
        started = time.time()
        t0 = time.perf_counter()
        status, location, text = browser.request(method, path, form)
        if started >= record_from:
            timings.append((name, started, time.perf_counter() - t0, status))
        return status, location, text

    while time.time() < stop_at:
        try:
            outcome = one_order(step, rng, catalogue, sold_out)
        except Unexpected as error:
            outcome = f"error: {error}"
        except OSError as error:
            outcome = f"error: {type(error).__name__}"
            browser.connection = None
        if not outcome.startswith(("ordered", "skipped")):
            browser.cookies.clear()  # a cart left with a short line: the next buyer, anew
        if time.time() >= record_from:
            outcomes[outcome] += 1
    results.put((timings, outcomes))


def one_order(step, rng, catalogue, sold_out) -> str:
    """One pass through the checkout; → "ordered", "refused: ..." or raises Unexpected."""
    limited = rng.random() < 0.3
    pool = catalogue["limited"] if limited else catalogue["slugs"]
    slug = rng.choice([s for s in pool if s not in sold_out] or catalogue["slugs"])
    kind = "limited" if slug in catalogue["limited"] else "plenty"
    status, _, page = step("product", "GET", f"/products/{slug}")
    if status != 200:
        raise Unexpected(f"product {status}")
    choices = [(vid, int(top)) for vid, top in GRID_INPUT.findall(page) if int(top) > 0]
    token = CSRF.search(page)
    if not choices or token is None:
        sold_out.add(slug)
        return "skipped: sold out"
    form = {"csrf_token": token.group(1), "next": f"/products/{slug}"}
    for variant_id, top in rng.sample(choices, min(len(choices), rng.choice((1, 1, 2, 3)))):
        form[f"qty-{variant_id}"] = str(min(top, rng.choice((1, 1, 2, 3))))
    status, location, _ = step("add", "POST", "/cart/add", form)
    if status != 303:
        raise Unexpected(f"add {status}")

    status, location, page = step("checkout", "GET", "/checkout")
    if status == 302 and location == "/cart":
        return f"refused at checkout ({kind} stock)"
    token = CSRF.search(page)
    if status != 200 or token is None:
        raise Unexpected(f"checkout {status} {location}")
    details = COURIER if rng.random() < 0.5 else DETAILS
    status, location, _ = step("details", "POST", "/checkout", {**details, "csrf_token": token[1]})
    if status == 303 and location == "/cart":
        return f"refused at details ({kind} stock)"
    if status != 303 or location != "/checkout/review":
        raise Unexpected(f"details {status} {location}")

    status, location, page = step("review", "GET", "/checkout/review")
    if status == 302 and location == "/cart":
        return f"refused at review ({kind} stock)"
    token, key = CSRF.search(page), REQUEST_KEY.search(page)
    if status != 200 or token is None or key is None:
        raise Unexpected(f"review {status} {location}")
    form = {"csrf_token": token[1], "request_key": key[1]}
    status, location, _ = step("place", "POST", "/checkout/place", form)
    if status == 303 and location.startswith("/checkout/pay/"):
        return "ordered"
    if status == 303 and location == "/cart":
        return f"refused at place ({kind} stock)"
    raise Unexpected(f"place {status} {location}")


def buyer_process(indexes, base, catalogue, stop_at, record_from, results, seed):
    """A few buyers as threads of one process (the GIL is shared by few)."""
    threads = [
        threading.Thread(
            target=buyer,
            args=(i, base, catalogue, stop_at, record_from, results, seed + i),
        )
        for i in indexes
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def run_buyers(args, base: str, catalogue: dict, on_window) -> tuple[list, Counter]:
    """Run the buyers; ``on_window("start" | "end")`` is called (on a thread) when the
    measured window opens and closes."""
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    start = time.time() + 1.0
    record_from = start + args.warmup
    stop_at = record_from + args.duration

    def window():
        time.sleep(max(record_from - time.time(), 0))
        on_window("start")
        time.sleep(max(stop_at - time.time(), 0))
        on_window("end")

    watcher = threading.Thread(target=window, daemon=True)
    watcher.start()
    processes = [
        context.Process(
            target=buyer_process,
            args=(
                range(p, args.buyers, args.processes),
                base,
                catalogue,
                stop_at,
                record_from,
                results,
                args.seed,
            ),
        )
        for p in range(min(args.processes, args.buyers))
    ]
    for process in processes:
        process.start()
    timings, outcomes = [], Counter()
    for _ in range(args.buyers):
        buyer_timings, buyer_outcomes = results.get(timeout=args.warmup + args.duration + 120)
        timings.extend(buyer_timings)
        outcomes.update(buyer_outcomes)
    for process in processes:
        process.join()
    watcher.join()
    return timings, outcomes


# --- statements and round trips per step ------------------------------------------------

COUNT_BASE = "https://shop.bench"  # the test client's; production cookies are Secure
COUNTED = ("statements", "commits", "rollbacks", "pings", "round_trips", "cpu_ms")


def count_statements(args, url: str, catalogue: dict) -> dict:
    """One buyer at a time, in this process (Flask's test client, the production settings,
    the real PostgreSQL and localstripe): per step, the median over ``--orders`` orders of
    the SQL statements, commits, rollbacks, pool pings and round trips on the wire
    (``bench/round_trips.py``) — deterministic, unlike timings on a shared machine — then,
    over as many orders again with libpq's trace off, the shop's CPU time per step."""
    from round_trips import KINDS, RoundTrips

    from shop import create_app

    with tempfile.TemporaryDirectory(prefix="checkout-count-") as tmp:
        work = Path(tmp)
        (work / "instance").mkdir()
        stripe, stripe_base = start_localstripe(work)
        try:
            env = shop_environment(args, work, url, COUNT_BASE, stripe_base)
            os.environ.update(env, LOG_LEVEL="WARNING")  # no access line per request
            app = create_app()
            counter = RoundTrips(app.extensions["sa_engine"])
            rng = random.Random(args.seed)
            counted, outcomes = walk_orders(app, counter, rng, catalogue, args.orders)
            counter.stop_tracing()
            timed, _ = walk_orders(app, counter, rng, catalogue, args.orders)
            if args.profile:
                profile = cProfile.Profile(time.thread_time)
                profile.runcall(walk_orders, app, counter, rng, catalogue, args.orders)
                profile.dump_stats(args.profile)
        finally:
            stop([stripe])
    steps = {}
    for name in STEPS:
        rows = counted[name]
        steps[name] = {key: statistics.median(row[key] for row in rows) for key in COUNTED}
        steps[name]["cpu_ms"] = statistics.median(row["cpu_ms"] for row in timed[name])
        steps[name]["wire"] = {
            kind: statistics.median(row["wire"][kind] for row in rows) for kind in KINDS
        }
        steps[name]["spread"] = [
            min(row["round_trips"] for row in rows),
            max(row["round_trips"] for row in rows),
        ]
        steps[name]["sql"] = rows[-1]["sql"]  # the last order's, to read
        steps[name]["wire_sent"] = rows[-1]["wire_sent"]
    return {"orders_counted": len(counted["place"]), "outcomes": dict(outcomes), "steps": steps}


def walk_orders(app, counter, rng, catalogue, orders: int) -> tuple[dict, Counter]:
    """Place ``orders`` orders (after two that warm the process's caches), one request at
    a time; → ({step: [counts of each order]}, outcomes)."""
    per_step: dict[str, list[dict]] = defaultdict(list)
    outcomes: Counter = Counter()
    client = app.test_client()
    passes = 0
    while outcomes["ordered"] < orders + 2 and passes < orders * 5:
        passes += 1
        counts: dict[str, dict] = {}

        def step(name, method, path, form=None, counts=counts, client=client):
            counter.take()
            cpu = time.thread_time()
            response = client.open(
                path,
                method=method,
                data=form,
                base_url=COUNT_BASE,
                headers={"Referer": COUNT_BASE + "/"},  # CSRF's check over HTTPS
            )
            cpu = time.thread_time() - cpu
            counts[name] = {**counter.take(), "cpu_ms": 1000 * cpu}
            location = urllib.parse.urlsplit(response.headers.get("Location") or "")
            return response.status_code, location.path, response.get_data(as_text=True)

        outcome = one_order(step, rng, catalogue, set())
        outcomes[outcome] += 1
        if outcome != "ordered":
            client = app.test_client()  # as the load's buyers do: anew
        elif outcomes["ordered"] > 2:
            for name, row in counts.items():
                per_step[name].append(row)
    return per_step, outcomes


def print_counts(report: dict) -> None:
    print()
    print(f"== statements and round trips per step (median of {report['orders_counted']} orders)")
    print(
        f"{'step':<10}{'SQL':>5}{'commit':>7}{'rollbk':>7}{'ping':>5}{'trips':>7}{'CPU ms':>8}"
        "   on the wire: ping/begin/statement/commit/rollback  (min-max trips)"
    )
    total = Counter()
    for name, row in report["steps"].items():
        wire = row["wire"]
        total.update({key: row[key] for key in COUNTED})
        print(
            f"{name:<10}{row['statements']:>5g}{row['commits']:>7g}{row['rollbacks']:>7g}"
            f"{row['pings']:>5g}{row['round_trips']:>7g}{row['cpu_ms']:>8.1f}   "
            + "/".join(f"{wire[kind]:g}" for kind in wire)
            + f"  ({row['spread'][0]}-{row['spread'][1]})"
        )
    print(
        f"{'order':<10}{total['statements']:>5g}{total['commits']:>7g}{total['rollbacks']:>7g}"
        f"{total['pings']:>5g}{total['round_trips']:>7g}{total['cpu_ms']:>8.1f}"
    )
    print("(CPU: this process's thread, the shop's side only, median per step)")


# --- report ------------------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


def summarise(timings, outcomes, duration: float, stock: dict, meta: dict) -> dict:
    by_step = defaultdict(list)
    statuses = defaultdict(Counter)
    for name, _, seconds, status in timings:
        by_step[name].append(seconds * 1000)
        statuses[name][status] += 1
    steps = {
        name: {
            "count": len(by_step[name]),
            "p50_ms": round(percentile(by_step[name], 50), 1),
            "p95_ms": round(percentile(by_step[name], 95), 1),
            "p99_ms": round(percentile(by_step[name], 99), 1),
            "max_ms": round(max(by_step[name], default=float("nan")), 1),
            "mean_ms": round(statistics.fmean(by_step[name]), 1) if by_step[name] else None,
            "statuses": dict(statuses[name]),
        }
        for name in STEPS
    }
    errors = sum(n for outcome, n in outcomes.items() if outcome.startswith("error"))
    return {
        **meta,
        "orders": outcomes["ordered"],
        "orders_per_second": round(outcomes["ordered"] / duration, 1),
        "requests_per_second": round(len(timings) / duration, 1),
        "steps": steps,
        "outcomes": dict(outcomes),
        "errors": errors,
        "stock": stock,
    }


def print_report(report: dict) -> None:
    print()
    print(
        f"== checkout under load: {report['buyers']} buyers, {report['duration_s']}s "
        f"measured, gunicorn {report['gunicorn']}, load before {report['load_before']}, "
        f"after {report['load_after']}"
    )
    print(f"{'step':<10}{'count':>7}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'max ms':>9}  statuses")
    for name, row in report["steps"].items():
        print(
            f"{name:<10}{row['count']:>7}{row['p50_ms']:>9}{row['p95_ms']:>9}"
            f"{row['p99_ms']:>9}{row['max_ms']:>9}  {row['statuses']}"
        )
    print(f"outcomes: {report['outcomes']}")
    orders = max(report["orders"], 1)
    cpu = report["cpu_seconds"]
    print(
        "CPU ms per order: "
        + ", ".join(f"{name} {1000 * seconds / orders:.1f}" for name, seconds in cpu.items())
        + f"; database connections opened during the run: "
        f"{report['database_connections_opened']}"
    )
    stock = report["stock"]
    print(
        f"stock: {stock['variants_oversold']} oversold, "
        f"{stock['variants_over_allocated']} over-allocated, "
        f"{stock['variants_mismatched']} not matching their orders/ledger, "
        f"{stock['variants_sold_out']} sold out; {stock['orders_in_database']} orders in the "
        f"database"
    )
    place = report["steps"]["place"]
    print(
        f"ORDERS/S {report['orders_per_second']} (target >= 60)   "
        f"place p50 {place['p50_ms']} ms, p99 {place['p99_ms']} ms (target < 150)   "
        f"errors {report['errors']}   oversold {stock['variants_oversold']} (target 0)"
    )


def cpu_seconds(pgid: int | None = None, cmdline_has: str | None = None) -> float:
    """CPU seconds (user + system) used so far by the live processes of a process group,
    or whose command line contains ``cmdline_has`` (PostgreSQL backends show their
    database's name)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as file:
                fields = file.read().rsplit(")", 1)[1].split()
            if pgid is not None and int(fields[2]) != pgid:
                continue
            if cmdline_has is not None:
                with open(f"/proc/{entry}/cmdline", "rb") as file:
                    if cmdline_has.encode() not in file.read():
                        continue
            total += int(fields[11]) + int(fields[12])  # utime, stime
        except (OSError, IndexError, ValueError):
            continue
    return total / tick


def cpu_snapshot(processes: list[subprocess.Popen], database: str) -> dict[str, float]:
    shop, stripe = processes
    return {
        "shop": cpu_seconds(pgid=shop.pid),
        "postgres": cpu_seconds(cmdline_has=f" {database} "),
        "localstripe": cpu_seconds(pgid=stripe.pid),
        "buyers": cpu_seconds(pgid=os.getpgrp()),
    }


def pg_sessions(url: str) -> int:
    """Connections opened to the database so far (PostgreSQL 14+), to spot pool churn."""
    engine = make_engine(url)
    with engine.connect() as connection:
        count = connection.scalar(
            sa.text("SELECT sessions FROM pg_stat_database WHERE datname = current_database()")
        )
    engine.dispose()
    return int(count or 0)


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--localstripe"]:
        serve_localstripe(int(argv[1]))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("CHECKOUT_BENCH_URL", DEFAULT_URL))
    parser.add_argument("--redis-url", default=REDIS_URL)
    parser.add_argument("--buyers", type=int, default=16)
    parser.add_argument("--processes", type=int, default=4, help="load generator processes")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds measured")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds not measured")
    parser.add_argument("--products", type=int, default=2000)
    parser.add_argument("--hot", type=int, default=300, help="products the buyers shop from")
    parser.add_argument("--limited", type=int, default=12, help="hot products low on stock")
    parser.add_argument("--limited-stock", type=int, default=3, help="pieces per variant")
    parser.add_argument("--workers", type=int, help="gunicorn workers (default: the config's)")
    parser.add_argument("--threads", type=int, help="threads per worker (default: config's)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", help="also write the report here")
    parser.add_argument(
        "--count-statements",
        action="store_true",
        help="no load: count each step's SQL statements and round trips, one buyer at a time",
    )
    parser.add_argument("--orders", type=int, default=20, help="orders --count-statements counts")
    parser.add_argument(
        "--profile",
        metavar="FILE",
        help="with --count-statements: then profile as many orders again (cProfile, CPU "
        "time of this thread) into FILE, for pstats or snakeviz",
    )
    args = parser.parse_args(argv)

    url = args.database_url
    order_table_name(url)
    ensure_database(url)
    catalogue = seed(url, args.products, args.hot, args.limited, args.limited_stock)
    start = catalogue.pop("start")
    if args.count_statements:
        counts = count_statements(args, url, catalogue)
        print_counts(counts)
        if args.json:
            Path(args.json).write_text(json.dumps(counts, indent=2))
        return 0
    with tempfile.TemporaryDirectory(prefix="checkout-load-") as tmp:
        work = Path(tmp)
        (work / "instance").mkdir()
        processes, base = start_servers(args, work, url)
        database = sa.engine.make_url(url).database
        marks = {}

        def on_window(name):
            marks[name] = (load_average(), pg_sessions(url), cpu_snapshot(processes, database))

        try:
            timings, outcomes = run_buyers(args, base, catalogue, on_window)
        finally:
            stop(processes)
        errors_logged = [
            line for line in (work / "shop.log").read_text().splitlines() if "ERROR" in line
        ]
    stock = stock_check(url, start)
    (load_before, sessions_before, cpu_before) = marks["start"]
    (load_after, sessions_after, cpu_after) = marks["end"]
    config = {"workers": args.workers or "config", "threads": args.threads or "config"}
    meta = {
        "buyers": args.buyers,
        "duration_s": args.duration,
        "products": args.products,
        "gunicorn": f"{config['workers']} workers x {config['threads']} threads (gthread)",
        "cpus": os.cpu_count(),
        "load_before": load_before,
        "load_after": load_after,
        "server_errors_logged": len(errors_logged),
        "cpu_seconds": {k: round(cpu_after[k] - cpu_before[k], 2) for k in cpu_before},
        "database_connections_opened": sessions_after - sessions_before - 1,
    }
    report = summarise(timings, outcomes, args.duration, stock, meta)
    print_report(report)
    for line in errors_logged[:5]:
        print("shop log:", line)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))
    bad = report["errors"] or stock["variants_oversold"] or stock["variants_over_allocated"]
    return 1 if bad or stock["variants_mismatched"] else 0


if __name__ == "__main__":
    sys.exit(main())
