"""Search and sorts at two catalogue sizes, in-process: does their cost grow with the catalogue?

    .venv/bin/python bench/search_scale.py                      # SQLite, 1,000 and 100,000
    .venv/bin/python bench/search_scale.py --sizes 1000,10000 --repeat 50
    .venv/bin/python bench/search_scale.py --postgres-url postgresql://…/scratch --allow-wipe
    .venv/bin/python bench/search_scale.py --postgres-url postgresql://…/scratch_{size} \
        --allow-wipe --reuse --only search --requests

Seeds each size with ``bench/seed_bulk.py``'s generator into a scratch SQLite file (kept in
``--work-dir`` and reused while its size matches; PostgreSQL: the given database, WIPED per
size; ``{size}`` in the URL names one database per size, and ``--reuse`` keeps one that
holds that many products already), then times ``list_products`` (no HTTP, no templates) for
``run.sh``'s six search words, the benchmark's six-word search, a two-character term, one
character, synonyms, category names, typos, a search that finds nothing, and every sort of
``/products``. Prints ms per call at each size and the throughput ratio largest ÷ smallest
(calls/s at the largest size over calls/s at the smallest: 1.0 means the cost does not grow
with the catalogue; issue 13 asks ≥ 0.6 for search).

``--requests`` also times each search as a whole uncached request (``GET /products?q=``
through Flask's test client, page cache off) and prints what the request costs beyond
``list_products``: the template, the category menu, the filter menus, Flask.
"""

import argparse
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

import sqlalchemy as sa
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parent))

import seed_bulk  # noqa: E402

from shop import migrate  # noqa: E402
from shop.catalog.listing import (  # noqa: E402
    ListingQuery,
    list_facets,
    list_products,
    list_top_categories,
)
from shop.db import make_engine, normalise_url  # noqa: E402

SIX_WORDS = "cotton 衬衫 shirt 纯棉 oxford 牛津纺"
# bench/run.sh's BENCH_WORDS: one-word searches, 2-16 % of products each.
RUN_WORDS = ("cotton", "衬衫", "blazer", "fleece", "防水", "ブレザー")
CASES = {
    **{f"search: {word}": ListingQuery(q=word) for word in RUN_WORDS},
    "search: 6 words": ListingQuery(q=SIX_WORDS),
    "search: 衬衫": ListingQuery(q="衬衫"),
    "search: 裤": ListingQuery(q="裤"),
    "search: blazer": ListingQuery(q="blazer"),
    "search: 衬衫 page 20": ListingQuery(q="衬衫", page=20),
    # Issue 16: the shop's own words. 制服 has synonyms (the migrations' starter group:
    # 学生服, 校服, uniform): both indexes, united; 职业装 and teamwear are category names;
    # blazr and cottn are typos, corrected after the search finds nothing.
    "search: 制服 (synonyms)": ListingQuery(q="制服"),
    "search: 职业装 (category)": ListingQuery(q="职业装"),
    "search: teamwear (category)": ListingQuery(q="teamwear"),
    "search: blazr (typo)": ListingQuery(q="blazr"),
    "search: cottn (typo)": ListingQuery(q="cottn"),
    "search: nothing found": ListingQuery(q="zzqqxxyy"),
    "sort: relevance": ListingQuery(),
    "sort: price_asc": ListingQuery(sort="price_asc"),
    "sort: price_desc page 30": ListingQuery(sort="price_desc", page=30),
    "sort: name (zh)": ListingQuery(sort="name"),
    "sort: newest": ListingQuery(sort="newest"),
    "category page, price_asc": ListingQuery(category="school-shirts", sort="price_asc"),
}


def product_count(url: str) -> int | None:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return connection.scalar(sa.text("SELECT count(*) FROM product"))
    except sa.exc.DBAPIError:
        return None
    finally:
        engine.dispose()


def seed(url: str, products: int, marker: Path | None, reuse: bool = False) -> None:
    if marker is not None and marker.exists() and marker.read_text() == str(products):
        return
    if reuse and product_count(url) == products:
        return
    migrate.reset_database(url)
    migrate.upgrade(url)
    started = time.perf_counter()
    seed_bulk.insert_catalogue(url, seed_bulk.generate(products))
    print(f"  seeded {products:,} in {time.perf_counter() - started:.0f}s", file=sys.stderr)
    engine = make_engine(url)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        is_pg = engine.dialect.name == "postgresql"
        connection.execute(sa.text("VACUUM ANALYZE" if is_pg else "ANALYZE"))
    engine.dispose()
    if marker is not None:
        marker.write_text(str(products))


def time_cases(url: str, repeat: int, cases: dict[str, ListingQuery], stat) -> dict[str, float]:
    """Median (``--stat``) ms per ``list_products`` call for each case."""
    engine = make_engine(url)
    timings = {}
    with Session(engine) as session:
        for name, query in cases.items():
            locale = "zh_CN" if "(zh)" in name else "en"

            def call(query=query, locale=locale):
                return list_products(session, query, currency="CNY", locale=locale, per_page=24)

            call()  # warm the caches
            samples = []
            for _ in range(repeat):
                started = time.perf_counter()
                call()
                samples.append((time.perf_counter() - started) * 1000)
            timings[name] = stat(samples)
    engine.dispose()
    return timings


def time_requests(url: str, repeat: int, cases: dict[str, ListingQuery], stat) -> dict[str, float]:
    """Median (``--stat``) ms per uncached ``GET /products?q=…`` (the whole request, in
    process) for each search case."""
    from shop import create_app

    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": url,
            "PAGE_CACHE": False,
            "SECRET_KEY": "bench",
            "RATELIMIT_ENABLED": False,
            "LOG_LEVEL": "WARNING",
        }
    )
    client = app.test_client()
    timings = {}
    for name, query in cases.items():
        if not query.q:
            continue
        path = "/products?" + urlencode(query.args_with())
        assert client.get(path).status_code == 200, path  # warm
        samples = []
        for _ in range(repeat):
            started = time.perf_counter()
            client.get(path)
            samples.append((time.perf_counter() - started) * 1000)
        timings[name] = stat(samples)
    # Two of the parts a search page has beyond the listing: its menus' statements.
    with Session(app.extensions["sa_engine"]) as session:
        for name, part in (
            ("part: category menu", list_top_categories),
            ("part: filter menus", list_facets),
        ):
            part(session)
            samples = []
            for _ in range(repeat):
                started = time.perf_counter()
                part(session)
                samples.append((time.perf_counter() - started) * 1000)
            timings[name] = stat(samples)
    app.extensions["sa_engine"].dispose()
    return timings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,100000")
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--work-dir", default="/tmp/sourcefront-search-scale")
    parser.add_argument("--postgres-url", help="a scratch PostgreSQL database (WIPED)")
    parser.add_argument("--allow-wipe", action="store_true")
    parser.add_argument(
        "--reuse", action="store_true", help="keep a database that has the size's products"
    )
    parser.add_argument("--only", default="", help="only the cases whose name holds this")
    parser.add_argument("--requests", action="store_true", help="time whole requests too")
    parser.add_argument(
        "--stat", choices=("median", "min"), default="median", help="of each case's calls"
    )
    args = parser.parse_args(argv)
    sizes = [int(size) for size in args.sizes.split(",")]
    if args.postgres_url and not args.allow_wipe:
        parser.error("--postgres-url wipes that database: add --allow-wipe")
    cases = {name: query for name, query in CASES.items() if args.only in name}
    stat = statistics.median if args.stat == "median" else min

    results, requests = {}, {}
    for size in sizes:
        if args.postgres_url:
            url, marker = normalise_url(args.postgres_url.replace("{size}", str(size))), None
        else:
            work = Path(args.work_dir)
            work.mkdir(parents=True, exist_ok=True)
            url = f"sqlite:///{work / f'catalogue-{size}.sqlite3'}"
            marker = work / f"catalogue-{size}.seeded"
        print(f"{size:,} products:", file=sys.stderr)
        seed(url, size, marker, args.reuse)
        results[size] = time_cases(url, args.repeat, cases, stat)
        if args.requests:
            requests[size] = time_requests(url, args.repeat, cases, stat)

    print_table(sizes, results)
    if requests:
        print("\nwhole uncached requests (ms), and what they cost beyond list_products:")
        print_table(sizes, requests, beyond=results)
    return 0


def print_table(sizes, results, beyond=None) -> None:
    small, large = sizes[0], sizes[-1]
    header = f"{'case':28}" + "".join(f"{f'ms @ {size:,}':>14}" for size in sizes)
    extra = "".join(f"{f'beyond @ {size:,}':>16}" for size in sizes) if beyond else ""
    print(f"{header}{f'ratio {large:,}/{small:,}':>20}{extra}")
    for name in results[small]:
        cells = "".join(f"{results[size][name]:14.2f}" for size in sizes)
        ratio = results[small][name] / results[large][name]
        more = ""
        if beyond and name in beyond[small]:
            more = "".join(f"{results[s][name] - beyond[s][name]:16.2f}" for s in sizes)
        print(f"{name:28}{cells}{ratio:20.2f}{more}")


if __name__ == "__main__":
    sys.exit(main())
