"""Search and sorts at two catalogue sizes, in-process: does their cost grow with the catalogue?

    .venv/bin/python bench/search_scale.py                      # SQLite, 1,000 and 100,000
    .venv/bin/python bench/search_scale.py --sizes 1000,10000 --repeat 50
    .venv/bin/python bench/search_scale.py --postgres-url postgresql://…/scratch --allow-wipe

Seeds each size with ``bench/seed_bulk.py``'s generator into a scratch SQLite file (kept in
``--work-dir`` and reused while its size matches; PostgreSQL: the given database, WIPED per
size), then times ``list_products`` (no HTTP, no templates) for the benchmark's six-word
search, a two-character term, one character, synonyms, category names, typos, a search
that finds nothing, and every sort of ``/products``. Prints ms per
call at each size and the throughput ratio largest ÷ smallest (calls/s at the largest size
over calls/s at the smallest: 1.0 means the cost does not grow with the catalogue; issue 13
asks ≥ 0.6 for search).
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parent))

import seed_bulk  # noqa: E402

from shop import migrate  # noqa: E402
from shop.catalog.listing import ListingQuery, list_products  # noqa: E402
from shop.db import make_engine, normalise_url  # noqa: E402

SIX_WORDS = "cotton 衬衫 shirt 纯棉 oxford 牛津纺"
CASES = {
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


def seed(url: str, products: int, marker: Path | None) -> None:
    if marker is not None and marker.exists() and marker.read_text() == str(products):
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


def time_cases(url: str, repeat: int) -> dict[str, float]:
    """Median ms per ``list_products`` call for each case."""
    engine = make_engine(url)
    timings = {}
    with Session(engine) as session:
        for name, query in CASES.items():
            locale = "zh_CN" if "(zh)" in name else "en"

            def call(query=query, locale=locale):
                return list_products(session, query, currency="CNY", locale=locale, per_page=24)

            call()  # warm the caches
            samples = []
            for _ in range(repeat):
                started = time.perf_counter()
                call()
                samples.append((time.perf_counter() - started) * 1000)
            timings[name] = statistics.median(samples)
    engine.dispose()
    return timings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,100000")
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--work-dir", default="/tmp/sourcefront-search-scale")
    parser.add_argument("--postgres-url", help="a scratch PostgreSQL database (WIPED)")
    parser.add_argument("--allow-wipe", action="store_true")
    args = parser.parse_args(argv)
    sizes = [int(size) for size in args.sizes.split(",")]
    if args.postgres_url and not args.allow_wipe:
        parser.error("--postgres-url wipes that database: add --allow-wipe")

    results = {}
    for size in sizes:
        if args.postgres_url:
            url, marker = normalise_url(args.postgres_url), None
        else:
            work = Path(args.work_dir)
            work.mkdir(parents=True, exist_ok=True)
            url = f"sqlite:///{work / f'catalogue-{size}.sqlite3'}"
            marker = work / f"catalogue-{size}.seeded"
        print(f"{size:,} products:", file=sys.stderr)
        seed(url, size, marker)
        results[size] = time_cases(url, args.repeat)

    small, large = sizes[0], sizes[-1]
    header = f"{'case':28}" + "".join(f"{f'ms @ {size:,}':>14}" for size in sizes)
    print(f"{header}{f'ratio {large:,}/{small:,}':>20}")
    for name in CASES:
        cells = "".join(f"{results[size][name]:14.2f}" for size in sizes)
        ratio = results[small][name] / results[large][name]
        print(f"{name:28}{cells}{ratio:20.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
