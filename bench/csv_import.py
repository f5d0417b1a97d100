"""CSV import at 100,000 rows: the dry run and the apply as the background jobs run them.

    .venv/bin/python bench/csv_import.py            # a scratch SQLite database
    DATABASE_URL=postgresql://… BENCH_ALLOW_WIPE=1 .venv/bin/python bench/csv_import.py
    BENCH_CSV_PRODUCTS=1000 .venv/bin/python bench/csv_import.py     # 10,000 rows
    BENCH_CSV_ONLY=check .venv/bin/python bench/csv_import.py  # the dry runs only
    BENCH_CSV_TRACEMALLOC=1 …   # and the check's peak of Python allocations (slower)

Builds a CSV of ``BENCH_CSV_PRODUCTS`` (10,000) products × 10 variants (tiers in two
currencies, Chinese names, ~20 MB at 100,000 rows), then, each in a fresh process so that
its peak memory is its own: the dry run as the upload request did it before it became a
job (``plan_import``, the whole file at once), the dry run as the job does it
(``shop.admin.csv_check.check_staged_import``, batches of ``CSV_IMPORT_BATCH_ROWS``; with
``BENCH_CSV_TRACEMALLOC=1`` its peak of Python allocations too), and the apply through
``shop.admin.csv_job.apply_staged_import`` in embedded mode (no
Redis: the file staged in the store, batches of ``CSV_IMPORT_BATCH_ROWS``, each committed)
— a first import that creates everything (one stock count per row through the ledger) and
a second that changes every product's name and every variant's stock. Prints wall time and
peak RSS (the process's maximum resident set, minus what it held before starting).
PostgreSQL is **wiped** first, as in ``bench/run.sh``.
"""

import csv
import io
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy.orm import Session  # noqa: E402

from shop import create_app, migrate  # noqa: E402
from shop.accounts.models import User  # noqa: E402
from shop.admin import csv_check, csv_job, csv_staging  # noqa: E402
from shop.catalog import csv_io  # noqa: E402
from shop.catalog.models import Category  # noqa: E402
from shop.db import make_engine, normalise_url  # noqa: E402
from shop.jobs.runner import run_now  # noqa: E402
from shop.storage import get_storage  # noqa: E402

PRODUCTS = int(os.environ.get("BENCH_CSV_PRODUCTS", "10000"))
BATCH_ROWS = int(os.environ.get("BENCH_CSV_BATCH_ROWS", str(csv_job.BATCH_ROWS)))
TRACEMALLOC = os.environ.get("BENCH_CSV_TRACEMALLOC") == "1"  # the check's Python peak
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


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench_app(url: str, folder: str):
    return create_app(
        {
            "SECRET_KEY": "bench",
            "DATABASE_URL": url,
            "UPLOAD_FOLDER": str(Path(folder) / "uploads"),
            "MAIL_OUTBOX": str(Path(folder) / "outbox"),
            "PAGE_CACHE_VERSIONS_FILE": str(Path(folder) / "page-versions.json"),
            "REDIS_URL": "",
            "CSV_IMPORT_BATCH_ROWS": BATCH_ROWS,
        }
    )


def child(what: str, url: str, folder: str, csv_path: str) -> None:
    """One measurement, in its own process: ``dry-run``, ``check`` or ``apply``."""
    import tracemalloc

    app = bench_app(url, folder)
    data = Path(csv_path).read_bytes()
    with app.app_context():
        user_id = int(os.environ["BENCH_USER_ID"])
        if what in ("apply", "check"):
            token = csv_staging.stage_upload(get_storage(), user_id, data)
        before = peak_mb()
        started = time.perf_counter()
        if what == "check":
            if TRACEMALLOC:  # several times slower: the time is then not the job's
                tracemalloc.start()
            result = run_now(csv_check.check_staged_import, user_id, token, BATCH_ROWS)
            assert result.get("problems") == 0, result
            if TRACEMALLOC:
                traced = tracemalloc.get_traced_memory()[1] / 2**20
                tracemalloc.stop()
                result = {**result, "tracemalloc_peak_mb": round(traced)}
        elif what == "dry-run":
            with Session(app.extensions["sa_engine"]) as session:
                plan = csv_io.plan_import(session, data)
                assert not plan.problems, plan.problems[:5]
                result = plan.counts
        else:
            result = run_now(csv_job.apply_staged_import, user_id, token, BATCH_ROWS)
            assert result["state"] == "finished", result
        elapsed = time.perf_counter() - started
    print(f"{elapsed:.1f}\t{peak_mb() - before:.0f}\t{peak_mb():.0f}\t{result}")


def measure(what: str, label: str, url: str, folder: str, data: bytes, user_id: int) -> None:
    csv_path = Path(folder) / "bench.csv"
    csv_path.write_bytes(data)
    answer = subprocess.run(
        [sys.executable, __file__, what, url, folder, str(csv_path)],
        env={**os.environ, "BENCH_USER_ID": str(user_id), "REDIS_URL": ""},
        capture_output=True,
        text=True,
        check=False,
    )
    if answer.returncode != 0:
        sys.exit(f"{label} failed:\n{answer.stderr[-3000:]}")
    seconds, grown, peak, result = answer.stdout.strip().splitlines()[-1].split("\t", 3)
    print(f"{label:<38} {float(seconds):7.1f} s   peak +{grown:>4} MB (RSS {peak} MB)")
    print(f"    {result}")


def main() -> None:
    if len(sys.argv) == 5:
        child(*sys.argv[1:])
        return
    url = os.environ.get("DATABASE_URL")
    scratch = tempfile.TemporaryDirectory()
    if url:
        if os.environ.get("BENCH_ALLOW_WIPE") != "1":
            sys.exit("DATABASE_URL is wiped: set BENCH_ALLOW_WIPE=1 to confirm")
        url = normalise_url(url)
        migrate.reset_database(url)
    else:
        url = f"sqlite:///{Path(scratch.name) / 'bench.sqlite3'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    rows = PRODUCTS * VARIANTS
    print(f"database: {engine.url.get_backend_name()}, rows: {rows:,}, batches of {BATCH_ROWS:,}")
    with Session(engine) as session:
        session.add(Category(slug="uniforms", name="Uniforms"))
        staff = User(email="bench@factory.example", name="Bench", role="manager", password_hash="!")
        session.add(staff)
        session.commit()
        user_id = staff.id
    engine.dispose()

    first, second = build_csv(0), build_csv(1)
    print(f"CSV: {len(first) / 1e6:.1f} MB")
    folder = scratch.name
    only_check = os.environ.get("BENCH_CSV_ONLY") == "check"
    measure("dry-run", "dry run in one go, empty catalogue", url, folder, first, user_id)
    measure("check", "dry run via job, empty catalogue", url, folder, first, user_id)
    if only_check:
        return
    measure("apply", "apply (create all) via job", url, folder, first, user_id)
    measure("dry-run", "dry run in one go, every row changed", url, folder, second, user_id)
    measure("check", "dry run via job, every row changed", url, folder, second, user_id)
    measure("apply", "apply (change all) via job", url, folder, second, user_id)
    scratch.cleanup()


if __name__ == "__main__":
    main()
