"""CSV import at 10,000 rows: dry run and apply, timed.

    .venv/bin/python bench/csv_import.py            # a scratch SQLite database
    DATABASE_URL=postgresql://… BENCH_ALLOW_WIPE=1 .venv/bin/python bench/csv_import.py

Builds a 10,000-row CSV (1,000 products × 10 variants, tiers in two currencies, Chinese
names), then times ``plan_import`` + ``apply_import`` + commit twice: a first import that
creates everything (10,000 stock counts through the ledger), and a second one that changes
every product's name and every variant's stock. Finally exports and checks that importing
the export changes nothing. PostgreSQL is **wiped** first, as in ``bench/run.sh``.
"""

import csv
import io
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy.orm import Session  # noqa: E402

from shop import migrate  # noqa: E402
from shop.admin import csv_io  # noqa: E402
from shop.catalog.models import Category  # noqa: E402
from shop.db import make_engine, normalise_url  # noqa: E402

PRODUCTS = 1_000
VARIANTS = 10  # per product: 5 sizes × 2 colours
SIZES = ("110", "120", "130", "140", "150")
COLOURS = ("navy", "white")


def build_csv(generation: int) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=csv_io.COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for number in range(PRODUCTS):
        for position in range(VARIANTS):
            size, colour = SIZES[position // 2], COLOURS[position % 2]
            writer.writerow(
                {
                    "product_slug": f"bench-{number:05d}",
                    "category_slug": "uniforms",
                    "name": f"School polo {number} v{generation}",
                    "name_zh": f"夏季校服短袖 polo 衫 {number}",
                    "name_ja": "",
                    "description": "Cotton piqué, two-button placket.",
                    "description_zh": "",
                    "description_ja": "",
                    "active": "yes",
                    "featured": "no",
                    "made_to_order": "no",
                    "lead_time_days": "",
                    "min_order_quantity": "1",
                    "order_increment": "1",
                    "sku": f"B{number:05d}-{size}-{colour}".upper(),
                    "size": size,
                    "colour": colour,
                    "position": str(position),
                    "for_sale": "yes",
                    "low_stock_threshold": "5",
                    "on_hand": str(20 + generation + position),
                    "price_CNY": "1:89.00|50:79.00",
                    "price_JPY": "1:1800|50:1600",
                    "price_SGD": "",
                    "price_USD": "",
                }
            )
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def timed_import(engine, data: bytes, label: str) -> None:
    with Session(engine, expire_on_commit=False) as session:
        started = time.perf_counter()
        plan = csv_io.plan_import(session, data)
        planned = time.perf_counter()
        assert not plan.problems, plan.problems[:5]
        phases: dict[str, float] = {}

        def progress(phase, done, total):
            phases[phase] = time.perf_counter()

        counts = csv_io.apply_import(session, plan, actor_user_id=None, progress=progress)
        session.commit()
        done = time.perf_counter()
    rows_s = phases["rows"] - planned
    stock_s = phases["stock"] - phases["rows"]
    print(
        f"{label:<28} dry run {planned - started:6.2f} s   apply+commit {done - planned:6.2f} s"
        f" (rows {rows_s:.2f}, stock {stock_s:.2f})   total {done - started:6.2f} s\n    {counts}"
    )


def main() -> None:
    url = os.environ.get("DATABASE_URL")
    scratch = None
    if url:
        if os.environ.get("BENCH_ALLOW_WIPE") != "1":
            sys.exit("DATABASE_URL is wiped: set BENCH_ALLOW_WIPE=1 to confirm")
        url = normalise_url(url)
        migrate.reset_database(url)
    else:
        scratch = tempfile.TemporaryDirectory()
        url = f"sqlite:///{Path(scratch.name) / 'bench.sqlite3'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    print(f"database: {engine.url.get_backend_name()}, rows: {PRODUCTS * VARIANTS:,}")
    with Session(engine) as session:
        session.add(Category(slug="uniforms", name="Uniforms"))
        session.commit()

    timed_import(engine, build_csv(0), "first import (create)")
    timed_import(engine, build_csv(1), "second import (change)")
    with Session(engine) as session:
        started = time.perf_counter()
        exported = csv_io.export_csv(session)
        print(f"{'export':<28} {time.perf_counter() - started:6.2f} s")
        plan = csv_io.plan_import(session, exported)
        assert not plan.problems and not plan.changed_rows
    timed_import(engine, exported, "unchanged import")
    engine.dispose()
    if scratch:
        scratch.cleanup()


if __name__ == "__main__":
    main()
