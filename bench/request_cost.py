"""What one request costs the shop in process, next to the bare floor (no server, no wrk).

    export DATABASE_URL=sqlite:////tmp/bench.sqlite3 REDIS_URL=redis://127.0.0.1:6379/14
    .venv/bin/python bench/seed_bulk.py --reset --products 10000
    .venv/bin/python bench/request_cost.py [--rounds 7] [--requests 400] [--profile cart-add]

Builds the shop as ``bench/run.sh``'s ``start_shop`` does (``SHOP_ENV=production``, a
random ``SECRET_KEY``, ``SHOP_BASE_URL``, ``REDIS_URL`` for the rate limits and the page
cache, dummy Stripe keys, ``PAGE_CACHE=1`` under its own namespace, cleared at the end) and
``bench/bare_floor.py``'s app, then calls each one's ``wsgi_app`` directly with a prebuilt
WSGI environ (a fresh body stream per call) and reads the whole answer. Requests:

- ``floor``: the bare floor's ``/products?page=2`` (1.0: every ratio divides by it);
- ``cart-add``: ``POST /cart/add`` as ``run.sh``'s prepared visitors send it: a session
  cookie and CSRF token from ``GET /cart``, a cart with one line per variant of a
  made-to-order product, +1 piece of one of its 6 variants (rotating over carts and
  variants), answered 303;
- ``cached-get``: ``GET /products?page=2`` by a new visitor, served from the page cache
  (one request before the rounds fills it); ``cached-category`` and ``cached-product``
  the same for ``category``'s and ``product``'s pages;
- ``404``: ``GET /no-such-page``;
- ``listing``: ``GET /products?page=2`` on a second shop with ``PAGE_CACHE=0`` (uncached);
- ``window``: ``GET /w/bench`` (``seed_bulk.py``'s window of 48 picks) on that shop;
  ``window-cached`` the same on the cached shop (a new visitor each time: no cookie);
- ``product``: a made-to-order product's page, ``search``: ``/products?q=cotton``, both
  uncached; ``search6``: uncached ``/products?q=`` rotating over run.sh's six words;
- ``category``: uncached ``/products?category=`` of the first top-level category with
  children that list products (the seeded tree's are in the children);
- ``listing20`` and ``categories``: uncached, rotating as ``run.sh`` does, over
  ``/products?page=1..20`` and over every category's pages 1 and 2.

Each round runs every request kind ``--requests`` times, interleaved with the others, and
the best round's mean counts (min of rounds: the least disturbed by the other processes on
the machine). Printed: ms per request and ``x floor`` (floor ms / its ms, i.e. the ratio of
requests/s that ``run.sh`` reports, minus the server's and the network's share), by the
wall clock and by this process's CPU time. On a busy machine the CPU columns are the
steadier ones; they leave out the time spent waiting for PostgreSQL and Redis, which the
wall clock counts. On PostgreSQL a last column gives the server's CPU per request: the
time its backends serving this database spent on a CPU (``/proc/<pid>/schedstat``), which
``run.sh``'s servers share the machine's cores with.
``--profile KIND`` then runs that kind under cProfile and prints the top functions.
"""

import argparse
import contextlib
import cProfile
import io
import os
import pstats
import re
import secrets
import sys
import tempfile
import time
import urllib.parse
from contextlib import contextmanager
from http.cookies import SimpleCookie
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

HOST = "127.0.0.1:8000"
CARTS = 4
VARIANTS = 6
# bench/run.sh's BENCH_WORDS: ``search6`` rotates over them, as run.sh's search does.
WORDS = ("cotton", "衬衫", "blazer", "fleece", "防水", "ブレザー")
NAMESPACE = f"request-cost-{secrets.token_hex(3)}"
LOG_SINK = open(os.devnull, "w")  # noqa: SIM115 (open for the whole run)


def make_environ(method, path, *, cookie=None, form=None):
    """A WSGI environ for ``method path``; the body (a form) is kept beside it as bytes."""
    from werkzeug.test import EnvironBuilder

    headers = {"Cookie": f"session={cookie}"} if cookie else {}
    builder = EnvironBuilder(
        path=path,
        method=method,
        base_url=f"http://{HOST}",
        headers=headers,
        data=urllib.parse.urlencode(form) if form is not None else None,
        content_type="application/x-www-form-urlencoded" if form is not None else None,
    )
    environ = builder.get_environ()
    environ["wsgi.errors"] = LOG_SINK  # the access lines, as gunicorn's error log file gets them
    body = environ["wsgi.input"].read()
    return environ, body


def call(app, environ, body=b""):
    """One request through ``app.wsgi_app``: → (status, headers, body text)."""
    answer = {}

    def start_response(status, headers, exc_info=None):
        answer["status"], answer["headers"] = status, headers

    env = dict(environ)
    env["wsgi.input"] = io.BytesIO(body)
    chunks = app.wsgi_app(env, start_response)
    try:
        text = b"".join(chunks)
    finally:
        if hasattr(chunks, "close"):
            chunks.close()
    return int(answer["status"].split()[0]), answer["headers"], text


def session_of(headers, current):
    for name, value in headers:
        if name.lower() == "set-cookie" and value.startswith("session="):
            cookie = SimpleCookie()
            cookie.load(value)
            return cookie["session"].value or None
    return current


@contextmanager
def seeded_database(db_url):
    """A connection to the seeded database, for picking what the requests ask for."""
    from shop.db import make_engine

    engine = make_engine(db_url)
    try:
        with engine.connect() as connection:
            yield connection
    finally:
        engine.dispose()


def made_to_order_variants(db_url):
    """The first active made-to-order product with 6 variants for sale (run.sh's pick)."""
    import sqlalchemy as sa

    with seeded_database(db_url) as connection:
        product = connection.execute(
            sa.text(
                "SELECT p.id, p.slug FROM product p WHERE p.active AND p.made_to_order"
                " AND p.school_id IS NULL AND (SELECT count(*) FROM variant v"
                " WHERE v.product_id = p.id AND v.for_sale) >= 6 ORDER BY p.id LIMIT 1"
            )
        ).one()
        variants = connection.scalars(
            sa.text("SELECT id FROM variant WHERE product_id = :p AND for_sale ORDER BY id"),
            {"p": product.id},
        ).all()[:VARIANTS]
    return product.slug, variants


def category_with_children(db_url):
    """The slug of the first top-level category whose children list products."""
    import sqlalchemy as sa

    with seeded_database(db_url) as connection:
        slug = connection.scalar(
            sa.text(
                "SELECT c.slug FROM category c WHERE c.parent_id IS NULL AND EXISTS (SELECT 1"
                " FROM category child JOIN product p ON p.category_id = child.id"
                " WHERE child.parent_id = c.id AND p.active AND p.school_id IS NULL)"
                " ORDER BY c.position, c.id LIMIT 1"
            )
        )
    if slug is None:
        raise SystemExit("no top-level category with children that list products")
    return slug


def category_slugs(db_url):
    """Every category's slug, as ``run.sh`` rotates over them."""
    import sqlalchemy as sa

    with seeded_database(db_url) as connection:
        return connection.scalars(sa.text("SELECT slug FROM category ORDER BY id")).all()


def prepare_carts(shop, slug, variants):
    """``CARTS`` visitors as run.sh prepares them; → the add requests, rotating."""
    adds = []
    for _ in range(CARTS):
        status, headers, html = call(shop, *make_environ("GET", "/cart"))
        assert status == 200, status
        cookie = session_of(headers, None)
        token = re.search(rb'name="csrf_token"[^>]*\svalue="([^"]+)"', html)[1].decode()
        grid = {f"qty-{variant}": "1" for variant in variants}
        status, headers, _ = call(
            shop,
            *make_environ("POST", "/cart/add", cookie=cookie, form={"csrf_token": token, **grid}),
        )
        assert status == 303, status
        cookie = session_of(headers, cookie)
        status, headers, html = call(shop, *make_environ("GET", "/cart", cookie=cookie))
        assert b"Added 6 pieces" in html, "the prepared cart did not get its pieces"
        cookie = session_of(headers, cookie)
        for variant in variants:
            form = {"csrf_token": token, "variant_id": variant, "quantity": 1}
            form["next"] = f"/products/{slug}"
            adds.append(make_environ("POST", "/cart/add", cookie=cookie, form=form))
    status, headers, _ = call(shop, *adds[0])
    location = dict(headers).get("Location", "")
    assert status == 303 and location, f"a test add answered {status}"
    return adds


class Rotating:
    """The same request kind over several prebuilt environs, in turn."""

    def __init__(self, app, requests, expect):
        self.app, self.requests, self.expect, self.next = app, requests, expect, 0

    def __call__(self):
        environ, body = self.requests[self.next % len(self.requests)]
        self.next += 1
        status, _, _ = call(self.app, environ, body)
        if status != self.expect:
            raise SystemExit(f"expected {self.expect}, got {status}")


def build(db_url, redis_url):
    os.environ.update(
        SHOP_ENV="production",
        SECRET_KEY=secrets.token_hex(32),
        SHOP_INSTANCE_PATH=tempfile.mkdtemp(prefix="request-cost-"),
        SHOP_BASE_URL=f"http://{HOST}",
        REDIS_URL=redis_url,
        PAGE_CACHE="1",
        PAGE_CACHE_NAMESPACE=NAMESPACE,
        STRIPE_SECRET_KEY="sk_test_bench",
        STRIPE_PUBLISHABLE_KEY="pk_test_bench",
        STRIPE_WEBHOOK_SECRET="whsec_bench",
        DATABASE_URL=db_url,
    )
    import bare_floor

    from shop import create_app

    shop = create_app()
    os.environ["PAGE_CACHE"] = "0"
    uncached = create_app()
    os.environ["PAGE_CACHE"] = "1"
    floor = bare_floor.create_app()
    slug, variants = made_to_order_variants(db_url)
    listing = make_environ("GET", "/products?page=2")
    category = make_environ("GET", f"/products?category={category_with_children(db_url)}")
    product = make_environ("GET", f"/products/{slug}")
    for page in (listing, category, product):
        assert call(shop, *page)[0] == 200  # fills the cache
    kinds = {
        "floor": Rotating(floor, [make_environ("GET", "/products?page=2")], 200),
        "cart-add": Rotating(shop, prepare_carts(shop, slug, variants), 303),
        "cached-get": Rotating(shop, [listing], 200),
        "cached-category": Rotating(shop, [category], 200),
        "cached-product": Rotating(shop, [product], 200),
        "404": Rotating(shop, [make_environ("GET", "/no-such-page")], 404),
        "listing": Rotating(uncached, [listing], 200),
        "window": Rotating(uncached, [make_environ("GET", "/w/bench")], 200),
        "window-cached": Rotating(shop, [make_environ("GET", "/w/bench")], 200),
        "product": Rotating(uncached, [product], 200),
        "search": Rotating(uncached, [make_environ("GET", "/products?q=cotton")], 200),
        "search6": Rotating(
            uncached,
            [make_environ("GET", f"/products?q={urllib.parse.quote(word)}") for word in WORDS],
            200,
        ),
        "category": Rotating(uncached, [category], 200),
        "listing20": Rotating(
            uncached, [make_environ("GET", f"/products?page={n}") for n in range(1, 21)], 200
        ),
        "categories": Rotating(
            uncached,
            [
                make_environ("GET", f"/products?category={slug}&page={n}")
                for n in (1, 2)
                for slug in category_slugs(db_url)
            ],
            200,
        ),
    }
    return shop, kinds


class ServerClock:
    """CPU seconds spent by the PostgreSQL backends serving this database (not this one)."""

    def __init__(self, db_url):
        from shop.db import make_engine

        self.engine = make_engine(db_url)

    def __call__(self):
        import sqlalchemy as sa

        with self.engine.connect() as connection:
            pids = connection.scalars(
                sa.text(
                    "SELECT pid FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            ).all()
        total = 0
        for pid in pids:
            # A backend that ended, or a server on another machine, counts nothing.
            with contextlib.suppress(OSError, ValueError):
                total += int(Path(f"/proc/{pid}/schedstat").read_text().split()[0])
        return total / 1e9


def no_server_clock():
    return 0.0


def measure(kinds, rounds, requests, server_clock=no_server_clock):
    """→ {kind: (best wall, best CPU, best server CPU seconds)} per request over the rounds."""
    wall = dict.fromkeys(kinds, float("inf"))
    cpu = dict.fromkeys(kinds, float("inf"))
    server = dict.fromkeys(kinds, float("inf"))
    for _ in range(rounds):
        for name, run in kinds.items():
            server_started = server_clock()
            started, cpu_started = time.perf_counter(), time.process_time()
            for _ in range(requests):
                run()
            cpu[name] = min(cpu[name], (time.process_time() - cpu_started) / requests)
            wall[name] = min(wall[name], (time.perf_counter() - started) / requests)
            server[name] = min(server[name], (server_clock() - server_started) / requests)
    return {name: (wall[name], cpu[name], server[name]) for name in kinds}


def profile(run, requests, top=30, dump_to=None, clock="wall"):
    """cProfile over ``requests`` runs; ``clock="cpu"`` times this process's CPU only, which
    a busy machine disturbs less (waits for PostgreSQL and Redis then count nothing)."""
    profiler = cProfile.Profile(time.process_time) if clock == "cpu" else cProfile.Profile()
    profiler.enable()
    for _ in range(requests):
        run()
    profiler.disable()
    stats = pstats.Stats(profiler)
    stats.sort_stats("cumulative").print_stats(top)
    if dump_to:
        stats.dump_stats(dump_to)  # for pstats' own browser: python -m pstats FILE


def clear_cache(shop):
    store = shop.extensions.get("page_store")
    if store is not None and hasattr(store, "clear"):
        store.clear()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL"))
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--requests", type=int, default=400)
    kinds = ["floor", "cart-add", "cached-get", "cached-category", "cached-product", "404"]
    kinds += ["listing", "window", "window-cached"]
    kinds += ["product", "search", "search6", "category", "listing20", "categories"]
    parser.add_argument("--profile", choices=kinds)
    parser.add_argument(
        "--kinds", type=lambda text: text.split(","), help="only these (and the floor), a,b,c"
    )
    parser.add_argument("--profile-out", help="also write the profile's stats to this file")
    parser.add_argument("--profile-clock", choices=("wall", "cpu"), default="wall")
    args = parser.parse_args(argv)
    if not args.database_url or not args.redis_url:
        parser.error("a seeded DATABASE_URL and a REDIS_URL are needed")
    shop, kinds = build(args.database_url, args.redis_url)
    if args.kinds:
        unknown = set(args.kinds) - set(kinds)
        if unknown:
            parser.error(f"unknown kinds: {', '.join(sorted(unknown))}")
        kinds = {name: run for name, run in kinds.items() if name == "floor" or name in args.kinds}
    on_postgresql = args.database_url.startswith("postgresql")
    server_clock = ServerClock(args.database_url) if on_postgresql else no_server_clock
    try:
        measure(kinds, 1, max(args.requests // 4, 20))  # warm-up
        best = measure(kinds, args.rounds, args.requests, server_clock)
        floor_wall, floor_cpu, _ = best["floor"]
        print(
            f"{'request':<12} {'ms':>8} {'x floor':>8} {'cpu ms':>8} {'x floor':>8}"
            + (f" {'pg cpu ms':>9}" if on_postgresql else "")
            + f"   (best of {args.rounds} x {args.requests}; cpu: this process only)"
        )
        for name, (wall, cpu, server) in best.items():
            print(
                f"{name:<12} {wall * 1000:8.3f} {floor_wall / wall:8.2f}"
                f" {cpu * 1000:8.3f} {floor_cpu / cpu:8.2f}"
                + (f" {server * 1000:9.3f}" if on_postgresql else "")
            )
        if args.profile:
            profile(
                kinds[args.profile],
                args.requests * 4,
                dump_to=args.profile_out,
                clock=args.profile_clock,
            )
    finally:
        clear_cache(shop)


if __name__ == "__main__":
    main()
