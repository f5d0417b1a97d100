"""Cached catalogue pages against the bare floor, in-process: what a hit costs.

    export DATABASE_URL=sqlite:////tmp/bench.sqlite3
    .venv/bin/python bench/seed_bulk.py --reset --products 10000
    REDIS_URL=redis://127.0.0.1:6379/14 .venv/bin/python bench/cached_hit.py 2>/dev/null

Both apps are called as WSGI applications (``app(environ, start_response)``, the body
read to the end as a server would), no sockets: the shop with ``bench/run.sh``'s
production settings (``SHOP_ENV=production``, page cache on, Redis from ``REDIS_URL``, or
the in-process store without it), the floor ``bench/bare_floor.py``. Pages rotate as in
``run.sh`` (listing pages 1-20, category pages, 50 product pages). Every page is warmed
first (twice: the fast path learns a page from the normal path), so every shop request is
a cache hit. Visitors: ``first`` sends no cookie (wrk's case: a new session and CSRF
secret each time); ``returning`` sends the cookie of an earlier visit. Each page is
measured through the fast path (``shop.pagecache.fastpath``) and, marked "flask", with
it left out. Rounds interleave every kind; per kind the best round's and the median
round's mean are printed, each with the ratio floor ms ÷ page ms (the benchmark's req/s
ratio). Logs go to stderr: send it to /dev/null.
"""

import argparse
import io
import os
import statistics
import sys
import time
from pathlib import Path
from secrets import token_hex

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

import sqlalchemy as sa  # noqa: E402
from werkzeug.test import EnvironBuilder  # noqa: E402

HOST = "127.0.0.1:8000"
ERRORS = open(os.devnull, "w")  # noqa: PTH123, SIM115 - wsgi.errors for the whole run


def shop_app():
    os.environ.update(
        SHOP_ENV="production",
        SECRET_KEY=token_hex(32),
        SHOP_BASE_URL=f"http://{HOST}",
        PAGE_CACHE="1",
        PAGE_CACHE_NAMESPACE=f"cached-hit-{token_hex(4)}",
        STRIPE_SECRET_KEY="sk_test_bench",
        STRIPE_PUBLISHABLE_KEY="pk_test_bench",
        STRIPE_WEBHOOK_SECRET="whsec_bench",
        SHOP_INSTANCE_PATH=os.environ.get("SHOP_INSTANCE_PATH", "/tmp/cached-hit-instance"),
    )
    from shop import create_app

    return create_app()


def bare_app():
    import bare_floor

    return bare_floor.create_app()


def pages(database_url: str) -> dict[str, list[str]]:
    from shop.db import make_engine

    engine = make_engine(database_url)
    with engine.connect() as connection:
        slugs = connection.scalars(
            sa.text("SELECT slug FROM product WHERE active AND school_id IS NULL ORDER BY id")
        ).all()
        categories = connection.scalars(sa.text("SELECT slug FROM category ORDER BY id")).all()
    engine.dispose()
    step = max(len(slugs) // 50, 1)
    return {
        "listing": [f"/products?page={n}" for n in range(1, 21)],
        "category": [f"/products?category={slug}&page={n}" for n in (1, 2) for slug in categories],
        "product": [f"/products/{slug}" for slug in slugs[step // 2 :: step][:50]],
    }


def environ(path: str, cookie: str | None) -> dict:
    headers = {"Accept-Language": "en-US,en;q=0.9", "User-Agent": "cached-hit"}
    if cookie:
        headers["Cookie"] = cookie
    built = EnvironBuilder(path=path, base_url=f"http://{HOST}", headers=headers)
    env = built.get_environ()
    built.close()
    env["wsgi.errors"] = ERRORS
    return env


def call(app, template: dict) -> tuple[str, list, bytes]:
    env = dict(template)
    env["wsgi.input"] = io.BytesIO()
    answer = {}

    def start_response(status, headers, exc_info=None):
        answer["status"], answer["headers"] = status, headers

    body = app(env, start_response)
    try:
        data = b"".join(body)
    finally:
        if hasattr(body, "close"):
            body.close()
    return answer["status"], answer["headers"], data


def cookie_of(headers) -> str:
    for name, value in headers:
        if name.lower() == "set-cookie" and value.startswith("session="):
            return value.split(";", 1)[0]
    raise SystemExit("the shop sent no session cookie")


def timed(app, templates: list[dict], count: int, start: int) -> float:
    """Mean ms per request of ``count`` requests, rotating over ``templates``."""
    began = time.perf_counter()
    for number in range(start, start + count):
        call(app, templates[number % len(templates)])
    return (time.perf_counter() - began) * 1000 / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--requests", type=int, default=20, help="per kind and round")
    parser.add_argument("--visitors", default="first,returning")
    args = parser.parse_args()
    database_url = os.environ.get("DATABASE_URL") or sys.exit("set DATABASE_URL")
    shop, bare = shop_app(), bare_app()
    fast_path = shop.extensions.get("page_fast_path")
    servers = {"": shop}
    if fast_path is not None:  # the same pages with the fast path left out
        servers[", flask"] = fast_path.wsgi_app
    paths = pages(database_url)
    floor = [environ(f"/products?page={n}", None) for n in range(1, 21)]
    for template in floor:
        assert call(bare, template)[0].startswith("200")
    kinds: dict[str, tuple] = {"floor": (bare, floor)}
    cookie = None
    for kind, urls in paths.items():
        for url in urls:
            for _twice in range(2):  # cached, then learnt by the fast path
                status, headers, _body = call(shop, environ(url, None))
                assert status.startswith("200"), (url, status)
            cookie = cookie or cookie_of(headers)
        for visitor in args.visitors.split(","):
            templates = [environ(url, cookie if visitor == "returning" else None) for url in urls]
            for suffix, server in servers.items():
                kinds[f"{kind} ({visitor}{suffix})"] = (server, templates)
    samples: dict[str, list[float]] = {name: [] for name in kinds}
    for number in range(args.rounds):
        for name, (server, templates) in kinds.items():
            samples[name].append(timed(server, templates, args.requests, number * args.requests))
    best = {name: min(values) for name, values in samples.items()}
    median = {name: statistics.median(values) for name, values in samples.items()}
    print(f"{'page':<32} {'min ms':>7} {'ratio':>6} {'median':>7} {'ratio':>6}")
    for name in kinds:
        print(
            f"{name:<32} {best[name]:7.3f} {best['floor'] / best[name]:6.2f}"
            f" {median[name]:7.3f} {median['floor'] / median[name]:6.2f}"
        )


if __name__ == "__main__":
    main()
