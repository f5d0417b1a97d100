"""Roster preview at 2,000 students: parse, validate and size a whole school, timed.

    .venv/bin/python bench/roster_preview.py            # a scratch SQLite database
    DATABASE_URL=postgresql://… BENCH_ALLOW_WIPE=1 .venv/bin/python bench/roster_preview.py

Builds a school with six uniform items (one for girls only, one optional, one sized from
the child's height), each in eight sizes and two colours, and a 2,000-student roster in
forty classes: half the students with sizes written, half with a height and "auto". Then
times ``build_preview`` (load the list once, then one pass over the rows) three times and
counts the SQL statements it ran; then places the order on invoice (``place_roster_order``:
pricing, stock, 8,000 order lines, the invoice) once and times that. PostgreSQL is
**wiped** first, as in ``bench/run.sh``.
"""

import os
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from shop import migrate  # noqa: E402
from shop.catalog.models import Category, PriceTier, Product, Variant  # noqa: E402
from shop.db import make_engine, normalise_url, utcnow  # noqa: E402
from shop.schools import ordering, roster  # noqa: E402
from shop.schools.models import DeliveryRound, School, UniformItem  # noqa: E402

STUDENTS = 2_000
SIZES = ("110", "120", "130", "140", "150", "160", "170", "180")
COLOURS = ("navy", "white")
ITEMS = (  # slug, gender, required
    ("bench-polo", "any", True),
    ("bench-shorts", "boys", True),
    ("bench-skirt", "girls", True),
    ("bench-pe-shirt", "any", True),
    ("bench-pe-pants", "any", True),
    ("bench-blazer", "any", False),
)
CHART = {
    "columns": ["Size", "Height (cm)"],
    "rows": [[size, f"{int(size) - 5}-{int(size) + 5}"] for size in SIZES],
}


def build_school(session: Session) -> School:
    category = Category(slug="uniforms", name="Uniforms")
    school = School(
        slug="bench-school",
        name="Bench School",
        country="CN",
        currency="CNY",
        grades=["1", "2", "3", "4", "5", "6"],
        verified=True,
        invoice_terms_days=30,
        credit_limit_amount=2_000_000_000,
    )
    school.rounds.append(
        DeliveryRound(
            delivery_date=(utcnow() + timedelta(days=14)).date(),
            cutoff_at=utcnow() + timedelta(days=10),
        )
    )
    session.add_all([category, school])
    for position, (slug, gender, required) in enumerate(ITEMS):
        product = Product(slug=slug, name=slug.title(), category=category, size_chart=CHART)
        for index, (size, colour) in enumerate((s, c) for s in SIZES for c in COLOURS):
            product.variants.append(
                Variant(
                    sku=f"{slug}-{size}-{colour}".upper(),
                    size=size,
                    colour=colour,
                    position=index,
                    on_hand=1_000,
                )
            )
        product.price_tiers += [
            PriceTier(currency="CNY", min_quantity=1, unit_amount=8900),
            PriceTier(currency="CNY", min_quantity=500, unit_amount=6900),
        ]
        session.add(product)
        school.items.append(
            UniformItem(product=product, gender=gender, required=required, position=position)
        )
    session.commit()
    return school


def build_roster() -> str:
    header = ["student", "class", "grade", "gender", "height", *(slug for slug, _g, _r in ITEMS)]
    rows = [",".join(header)]
    for number in range(STUDENTS):
        gender = "girls" if number % 2 else "boys"
        grade = str(number % 6 + 1)
        height = 110 + (number % 60)
        cells = []
        for _slug, item_gender, required in ITEMS:
            if item_gender not in ("any", gender) or not required:
                cells.append("")
            elif number % 4 < 2:
                cells.append(SIZES[number % 8] + ("/white" if number % 3 == 0 else ""))
            else:
                cells.append("auto")
        rows.append(
            ",".join(
                [
                    f"学生 {number:04d}",
                    f"{grade}-{number % 7 + 1}",
                    grade,
                    gender,
                    str(height),
                    *cells,
                ]
            )
        )
    return "\ufeff" + "\r\n".join(rows) + "\r\n"


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
    statements: list[str] = []
    sa.event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    with Session(engine) as session:
        school = build_school(session)
        text = build_roster()
        print(
            f"database: {engine.url.get_backend_name()}, students: {STUDENTS:,}, "
            f"roster: {len(text.encode()) / 1000:.0f} kB"
        )
        for attempt in range(1, 4):
            statements.clear()
            started = time.perf_counter()
            preview = roster.build_preview(session, school, text)
            elapsed = time.perf_counter() - started
            print(
                f"preview {attempt}: {elapsed:6.3f} s   students {len(preview.students):,}  "
                f"lines {preview.line_count:,}  pieces {preview.pieces:,}  "
                f"problems {len(preview.problems)}  SQL statements {len(statements)}"
            )
            assert not preview.problems, preview.problems[:5]
            session.expire_all()
        statements.clear()
        started = time.perf_counter()
        order = ordering.place_roster_order(
            session,
            school,
            preview,
            user=None,
            payment="invoice",
            po_number="BENCH-1",
            locale="en",
            gateway=None,
            now=utcnow(),
            reservation_minutes=30,
        )
        session.commit()
        elapsed = time.perf_counter() - started
        print(
            f"order on invoice: {elapsed:6.3f} s   lines {len(order.lines):,}  "
            f"total {order.total_amount / 100:,.2f} {order.currency}  "
            f"SQL statements {len(statements)}"
        )
    engine.dispose()
    if scratch:
        scratch.cleanup()


if __name__ == "__main__":
    main()
