"""The catalogue as CSV: export, and an import that is planned (a dry run) before it is
applied. Plain functions over a ``Session``; the views in ``shop.admin.stock`` only
upload and show, ``shop.admin.csv_check`` runs the dry run as a job, and
``shop.admin.csv_job`` applies a file in batches (``iter_batches``, ``plan_rows``,
``apply_plan``), each batch all or nothing.

The format
----------
One row per variant, ordered by product slug, then variant position, then SKU; the
product's columns repeat on each of its rows. UTF-8 with a byte order mark (so spreadsheet
programs open Chinese and Japanese correctly), ``\\r\\n`` line ends, the header first::

    product_slug, category_slug, name, name_zh, name_ja, description, description_zh,
    description_ja, active, featured, made_to_order, lead_time_days, min_order_quantity,
    order_increment, gender, age_group, sku, size, colour, position, for_sale,
    low_stock_threshold, on_hand, price_CNY, price_JPY, price_SGD, price_USD

- ``gender`` (``girls``, ``boys``, ``unisex``) and ``age_group`` (``kindergarten``,
  ``primary``, ``secondary``, ``adult``) may be empty: not said.
- Yes/no columns are ``yes`` or ``no`` (the import also takes ``true``/``false``/``1``/``0``).
- Empty optional text (``name_zh`` …) and an empty ``lead_time_days`` mean "none".
- ``price_<CUR>`` holds the product's tiers in that currency as ``min_qty:amount`` pairs in
  major units, joined by ``|``: ``1:89.00|50:79.00`` (JPY has no decimals: ``1:5000``).
  Empty: no price in that currency. Slugs, SKUs and tiers follow ``shop.catalog.rules``,
  as in the admin's forms: tiers rise strictly in quantity and never rise in price.
- ``on_hand`` is what is on the shelf. The import never writes it: a different number
  becomes a "counted" adjustment through ``shop.stock.allocation.adjust`` (a ledger row),
  and may not go below what is allocated to orders.

What an import does
-------------------
Products without variants have no row (and an import cannot create one). Rows are matched
by SKU (variants) and ``product_slug`` (products). A new slug creates a product, a new SKU
creates a variant; every row of one product must agree on the product's columns. Products
and variants not in the file are left alone (an import never deletes). Existing objects
change only where a cell differs from what an export would write, so importing an
unchanged export changes nothing and exporting again gives the same bytes.

Spreadsheet formula injection: a cell beginning with ``=`` is exported as it is, because
prefixing it would break the byte-for-byte round trip; staff should open the file with
"text" columns if names could start with ``=``, ``+``, ``-`` or ``@``.

Performance: existing rows are loaded in bulk (a few ``IN`` queries), new products,
variants and tiers are ORM bulk ``INSERT``s (batched, ids read back with ``RETURNING``), and
only stock changes cost statements each: ``adjust`` is one conditional ``UPDATE`` plus a
ledger row per variant (see ``bench/csv_import.py`` for the numbers).

Stock counts are turned into deltas against ``on_hand`` as read while planning, in the same
transaction as the apply; a sale that lands in between makes the count off by that sale,
exactly as it would for a count typed on the stock page.
"""

import csv
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from types import SimpleNamespace
from typing import TextIO

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session, selectinload

from shop.audit.service import record
from shop.catalog import rules
from shop.catalog.attributes import AGE_GROUPS, GENDERS
from shop.catalog.models import Category, PriceTier, Product, Variant
from shop.catalog.search import build_search_text, category_names, refresh_search_text
from shop.inputs import is_storable
from shop.money import SUPPORTED_CURRENCIES, from_decimal, to_decimal
from shop.spreadsheet import BOM
from shop.stock.allocation import adjust

# The largest catalogue CSV an upload may carry (its route allows a body this large).
CSV_MAX_BYTES = 20 * 1024 * 1024

PRODUCT_TEXT = ("name", "name_zh", "name_ja", "description", "description_zh", "description_ja")
PRODUCT_FLAGS = ("active", "featured", "made_to_order")
PRODUCT_NUMBERS = ("lead_time_days", "min_order_quantity", "order_increment")
# Optional keys (empty: none), each one of a fixed list: who the product is for.
PRODUCT_KEYS = {"gender": tuple(GENDERS), "age_group": tuple(AGE_GROUPS)}
# Columns a file may leave out (files exported before they existed): a product then keeps
# what it has (a new one has none).
OPTIONAL_COLUMNS = tuple(PRODUCT_KEYS)
_ABSENT = object()
PRICE_COLUMNS = tuple(f"price_{currency}" for currency in SUPPORTED_CURRENCIES)
PRODUCT_COLUMNS = (
    "product_slug",
    "category_slug",
    *PRODUCT_TEXT,
    *PRODUCT_FLAGS,
    *PRODUCT_NUMBERS,
    *PRODUCT_KEYS,
)
VARIANT_COLUMNS = ("sku", "size", "colour", "position", "for_sale", "low_stock_threshold")
COLUMNS = (*PRODUCT_COLUMNS, *VARIANT_COLUMNS, "on_hand", *PRICE_COLUMNS)

OPTIONAL_TEXT = ("name_zh", "name_ja", "description_zh", "description_ja")
TEXT_LIMITS = {"name": 200, "name_zh": 200, "name_ja": 200, "size": 32, "colour": 32}
AMOUNT_PATTERN = re.compile(r"^\d{1,12}(?:\.\d{1,4})?$")
MAX_NUMBER = 1_000_000_000
MAX_ROWS = 100_000
YES = {"yes", "true", "1"}
NO = {"no", "false", "0"}
CHUNK = 500
_OUT_OF_RANGE = _l("Quantities start at 1; amounts must be reasonable.")
TIER_MESSAGES = {
    rules.QUANTITY_BELOW_ONE: _OUT_OF_RANGE,
    rules.QUANTITY_TOO_LARGE: _OUT_OF_RANGE,
    rules.PRICE_OUT_OF_RANGE: _OUT_OF_RANGE,
    rules.QUANTITY_NOT_RISING: _l("Tier quantities must rise strictly."),
    rules.PRICE_RISING: _l("A larger tier may not cost more per piece."),
    rules.TOO_MANY: _l("At most %(n)d tiers per currency.", n=rules.MAX_TIERS),
}
# PostgreSQL text cannot hold it, so the dry run refuses what the apply could not store.
UNSTORABLE_MESSAGE = _l("Contains a character we cannot store (a NUL byte); remove it.")


@dataclass(frozen=True)
class Problem:
    line: int
    column: str
    message: str


@dataclass
class RowPlan:
    """What one CSV row does: creates or changes a product and/or a variant."""

    line: int
    product_slug: str
    sku: str
    product_action: str | None = None  # "create", "update" or None (unchanged)
    variant_action: str | None = None
    changes: list[tuple[str, str, str]] = field(default_factory=list)  # column, old, new
    cells: dict[str, str] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return bool(self.product_action or self.variant_action or self.changes)


@dataclass
class ImportPlan:
    rows: list[RowPlan] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    # Loaded in bulk while planning; ``apply_import`` works on these.
    products: dict[str, Product] = field(default_factory=dict)
    variants: dict[str, Variant] = field(default_factory=dict)
    categories: dict[str, int] = field(default_factory=dict)
    parsed: list = field(default_factory=list)  # the typed rows (``_Row``)

    @property
    def changed_rows(self) -> list[RowPlan]:
        return [row for row in self.rows if row.changed]

    @property
    def counts(self) -> dict[str, int]:
        return {
            "rows": len(self.rows),
            "rows_unchanged": sum(not r.changed for r in self.rows),
            "products_created": sum(r.product_action == "create" for r in self.rows),
            "products_changed": sum(r.product_action == "update" for r in self.rows),
            "variants_created": sum(r.variant_action == "create" for r in self.rows),
            "variants_changed": sum(r.variant_action == "update" for r in self.rows),
            "stock_changed": sum(
                any(column == "on_hand" for column, _o, _n in r.changes)
                or (r.variant_action == "create" and r.cells.get("on_hand") not in ("", "0"))
                for r in self.rows
            ),
        }


# --- formatting (export, and the canonical form an import compares) -----------------


def _flag(value: bool) -> str:
    return "yes" if value else "no"


def format_tiers(tiers, currency: str) -> str:
    """``[(1, 8900), (50, 7900)]`` in CNY → ``"1:89.00|50:79.00"``."""
    return "|".join(
        f"{quantity}:{to_decimal(amount, currency)}" for quantity, amount in sorted(tiers)
    )


def product_cells(product: Product, category_slug: str) -> dict[str, str]:
    cells = {
        "product_slug": product.slug,
        "category_slug": category_slug,
        **{name: getattr(product, name) or "" for name in PRODUCT_TEXT},
        **{name: _flag(getattr(product, name)) for name in PRODUCT_FLAGS},
        **{
            name: "" if getattr(product, name) is None else str(getattr(product, name))
            for name in PRODUCT_NUMBERS
        },
        **{name: getattr(product, name) or "" for name in PRODUCT_KEYS},
    }
    for currency in SUPPORTED_CURRENCIES:
        cells[f"price_{currency}"] = format_tiers(
            [
                (t.min_quantity, t.unit_amount)
                for t in product.price_tiers
                if t.currency == currency
            ],
            currency,
        )
    return cells


def variant_cells(variant: Variant) -> dict[str, str]:
    return {
        "sku": variant.sku,
        "size": variant.size,
        "colour": variant.colour,
        "position": str(variant.position),
        "for_sale": _flag(variant.for_sale),
        "low_stock_threshold": str(variant.low_stock_threshold),
        "on_hand": str(variant.on_hand),
    }


# --- export ---------------------------------------------------------------------------


def export_rows(session: Session) -> list[list[str]]:
    """The header and one row per variant, in a stable order. Three queries."""
    categories = dict(session.execute(sa.select(Category.id, Category.slug)).all())
    products = session.scalars(
        sa.select(Product)
        .order_by(Product.slug)
        .options(selectinload(Product.variants), selectinload(Product.price_tiers))
    )
    rows = [list(COLUMNS)]
    for product in products:
        shared = product_cells(product, categories[product.category_id])
        for variant in sorted(product.variants, key=lambda v: (v.position, v.sku)):
            cells = {**shared, **variant_cells(variant)}
            rows.append([cells[column] for column in COLUMNS])
    return rows


def export_csv(session: Session) -> bytes:
    buffer = io.StringIO()
    buffer.write(BOM)
    csv.writer(buffer, lineterminator="\r\n").writerows(export_rows(session))
    return buffer.getvalue().encode("utf-8")


# --- parsing and validation -----------------------------------------------------------


class _Cells:
    """Reads typed values from one row's cells, collecting problems."""

    def __init__(self, line: int, cells: dict[str, str], problems: list[Problem]):
        self.line, self.cells, self.problems = line, cells, problems

    def fail(self, column: str, message) -> None:
        self.problems.append(Problem(self.line, column, str(message)))

    def text(self, column: str, *, required: bool = False) -> str:
        value = self.cells[column]
        limit = TEXT_LIMITS.get(column)
        if required and not value.strip():
            self.fail(column, _l("This column may not be empty."))
        elif limit and len(value) > limit:
            self.fail(column, _l("Longer than %(limit)d characters.", limit=limit))
        elif value != value.strip() and column in ("sku", "size", "colour"):
            self.fail(column, _l("Remove the spaces at the start or end."))
        return value

    def sku(self) -> str:
        value = self.text("sku", required=True)
        if value.strip() and value == value.strip():
            problem = rules.sku_problem(value)
            if problem is not None:
                self.fail("sku", problem)
        return value

    def flag(self, column: str) -> bool:
        value = self.cells[column].strip().lower()
        if value in YES:
            return True
        if value not in NO:
            self.fail(column, _l("Write yes or no."))
        return False

    def key(self, column: str, allowed: tuple[str, ...]) -> str | None:
        """One of ``allowed``, or ``None`` for an empty cell."""
        value = self.cells[column].strip()
        if value and value not in allowed:
            self.fail(
                column,
                _l("Write one of %(keys)s, or leave it empty.", keys=", ".join(allowed)),
            )
        return value if value in allowed else None

    def number(self, column: str, *, minimum: int = 0, optional: bool = False) -> int | None:
        value = self.cells[column].strip()
        if optional and not value:
            return None
        too_long = len(value) > len(str(MAX_NUMBER))
        if not value.isascii() or not value.isdigit() or too_long or int(value) > MAX_NUMBER:
            self.fail(column, _l("Write a whole number."))
            return None
        if int(value) < minimum:
            self.fail(column, _l("Must be at least %(minimum)d.", minimum=minimum))
            return None
        return int(value)

    def tiers(self, column: str, currency: str) -> list[tuple[int, int]]:
        value = self.cells[column].strip()
        if not value:
            return []
        tiers: list[tuple[int, int]] = []
        for part in value.split("|"):
            tier = self._tier(column, part, currency)
            if tier is None:
                return []
            tiers.append(tier)
        problems = rules.tier_problems(tiers)
        if problems:
            self.fail(column, TIER_MESSAGES[problems[0].kind])
        return tiers

    def _tier(self, column: str, part: str, currency: str) -> tuple[int, int] | None:
        """``"50:79.00"`` → ``(50, 7900)`` in CNY; ``None`` once the problem is noted."""
        quantity, _sep, amount = part.strip().partition(":")
        quantity, amount = quantity.strip(), amount.strip()
        if not (
            quantity.isascii()
            and quantity.isdigit()
            and len(quantity) <= len(str(MAX_NUMBER))
            and AMOUNT_PATTERN.match(amount)
        ):
            self.fail(column, _l("Write tiers like 1:89.00|50:79.00."))
            return None
        try:
            return int(quantity), from_decimal(Decimal(amount), currency)
        except ValueError:
            self.fail(column, _l("%(amount)s has too many decimals.", amount=amount))
            return None


@dataclass
class _Row:
    line: int
    cells: dict[str, str]
    product: dict
    variant: dict
    on_hand: int | None
    tiers: dict[str, list[tuple[int, int]]]
    canonical: dict[str, str] = field(default_factory=dict)


def _read(data: bytes, problems: list[Problem]) -> list[tuple[int, dict[str, str]]]:
    """Every row of the file (at most ``MAX_ROWS``), or none when the file cannot be read."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        problems.append(Problem(1, "", str(_l("The file is not UTF-8 text."))))
        return []
    rows = []
    for line, cells in iter_rows(io.StringIO(text, newline=""), problems):
        rows.append((line, cells))
        if len(rows) > MAX_ROWS:
            problems.append(Problem(line, "", str(_l("More than %(max)d rows.", max=MAX_ROWS))))
            return []
    return rows


def _header_problems(header: list[str]) -> list[Problem]:
    """Columns missing, unknown or twice in the header row."""
    missing = [c for c in COLUMNS if c not in header and c not in OPTIONAL_COLUMNS]
    unknown = [column for column in header if column not in COLUMNS]
    duplicated = sorted({column for column in header if header.count(column) > 1})
    return [
        *(Problem(1, column, str(_l("This column is missing."))) for column in missing),
        *(Problem(1, column, str(_l("Unknown column."))) for column in unknown),
        *(Problem(1, column, str(_l("This column appears twice."))) for column in duplicated),
    ]


def _row_problems(line: int, header: list[str], values: list[str]) -> list[Problem]:
    """A row of the wrong width, or its cells that cannot be stored (a NUL byte)."""
    if len(values) != len(header):
        message = _l(
            "%(found)d cells, expected %(expected)d.", found=len(values), expected=len(header)
        )
        return [Problem(line, "", str(message))]
    return [
        Problem(line, column, str(UNSTORABLE_MESSAGE))
        for column, value in zip(header, values, strict=True)
        if not is_storable(value)
    ]


def iter_rows(text: TextIO, problems: list[Problem]) -> Iterator[tuple[int, dict[str, str]]]:
    """``(line, cells)`` of each non-blank row of a CSV text stream, one at a time (so a
    background apply holds one batch, not the file). A bad header, a row of the wrong
    width or a NUL byte is a problem, and a bad header or broken quoting ends the rows."""
    reader = csv.reader(text)
    try:
        header = next(reader, None)
    except csv.Error as error:
        problems.append(Problem(1, "", str(error)))
        return
    if header is None:
        problems.append(Problem(1, "", str(_l("The file is empty."))))
        return
    header_problems = _header_problems(header)
    if header_problems:
        problems.extend(header_problems)
        return
    line = reader.line_num + 1
    try:
        for values in reader:
            if any(value.strip() for value in values):
                row_problems = _row_problems(line, header, values)
                problems.extend(row_problems)
                if not row_problems:  # never compared with the database, nor stored
                    yield line, dict(zip(header, values, strict=True))
            line = reader.line_num + 1
    except csv.Error as error:
        problems.append(Problem(line, "", str(error)))


def iter_batches(
    data: bytes, size: int, problems: list[Problem], *, stop_at_problem: bool = True
) -> Iterator[list[tuple[int, dict[str, str]]]]:
    """The file's rows in lists of ``size``, decoded as they are read. For the apply, a
    problem in the file (it passed its dry run, so only a damaged copy has one) ends the
    batches; the dry run (``stop_at_problem=False``) reads on, as ``plan_import`` does,
    and takes the problems out of ``problems`` after each batch."""
    text = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8-sig", newline="")
    batch: list[tuple[int, dict[str, str]]] = []
    try:
        for row in iter_rows(text, problems):
            if problems and stop_at_problem:
                return
            batch.append(row)
            if len(batch) == size:
                yield batch
                batch = []
    except UnicodeDecodeError:
        problems.append(Problem(1, "", str(_l("The file is not UTF-8 text."))))
        return
    if batch and not (problems and stop_at_problem):
        yield batch


def scan_rows(data: bytes) -> tuple[int, list[Problem]]:
    """A quick pass before a dry run in batches: how many rows the file has, and the
    problems for which ``plan_import`` reads no row at all (not UTF-8: that problem
    alone; more than ``MAX_ROWS`` rows: the problems up to there and that one)."""
    problems: list[Problem] = []
    text = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8-sig", newline="")
    rows = 0
    try:
        for line, _cells in iter_rows(text, problems):
            rows += 1
            if rows > MAX_ROWS:
                problems.append(Problem(line, "", str(_l("More than %(max)d rows.", max=MAX_ROWS))))
                return rows, problems
    except UnicodeDecodeError:
        return 0, [Problem(1, "", str(_l("The file is not UTF-8 text.")))]
    return rows, []


def _parse_row(line: int, cells: dict[str, str], problems: list[Problem]) -> _Row:
    read = _Cells(line, cells, problems)
    slug = cells["product_slug"].strip()
    slug_problem = rules.slug_problem(slug)
    if slug_problem is not None:
        read.fail("product_slug", slug_problem)
    product = {
        "slug": slug,
        "category_slug": cells["category_slug"].strip(),
        "name": read.text("name", required=True),
        **{name: read.text(name) or None for name in OPTIONAL_TEXT if name.startswith("name")},
        "description": read.text("description"),
        **{name: read.text(name) or None for name in OPTIONAL_TEXT if name.startswith("desc")},
        **{name: read.flag(name) for name in PRODUCT_FLAGS},
        "lead_time_days": read.number("lead_time_days", optional=True),
        "min_order_quantity": read.number("min_order_quantity", minimum=1),
        "order_increment": read.number("order_increment", minimum=1),
        **{
            name: read.key(name, PRODUCT_KEYS[name]) if name in cells else _ABSENT
            for name in PRODUCT_KEYS
        },
    }
    if product["made_to_order"] and product["lead_time_days"] is None:
        read.fail("lead_time_days", _l("Made-to-order products need a lead time."))
    variant = {
        "sku": read.sku(),
        "size": read.text("size", required=True),
        "colour": read.text("colour", required=True),
        "position": read.number("position"),
        "for_sale": read.flag("for_sale"),
        "low_stock_threshold": read.number("low_stock_threshold"),
    }
    on_hand = read.number("on_hand")
    tiers = {
        currency: read.tiers(f"price_{currency}", currency) for currency in SUPPORTED_CURRENCIES
    }
    return _Row(line, cells, product, variant, on_hand, tiers)


def _canonical(row: _Row) -> dict[str, str]:
    """The row as an export would write it (to compare with what is stored)."""
    p, v = row.product, row.variant
    cells = {
        "product_slug": p["slug"],
        "category_slug": p["category_slug"],
        **{name: p[name] or "" for name in PRODUCT_TEXT},
        **{name: _flag(p[name]) for name in PRODUCT_FLAGS},
        **{name: "" if p[name] is None else str(p[name]) for name in PRODUCT_NUMBERS},
        **{name: p[name] or "" for name in PRODUCT_KEYS},
        **{f"price_{c}": format_tiers(row.tiers[c], c) for c in SUPPORTED_CURRENCIES},
        "sku": v["sku"],
        "size": v["size"],
        "colour": v["colour"],
        "position": str(v["position"]),
        "for_sale": _flag(v["for_sale"]),
        "low_stock_threshold": str(v["low_stock_threshold"]),
        "on_hand": str(row.on_hand),
    }
    return cells


def _in_chunks(values: list[str]):
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


def plan_import(session: Session, data: bytes) -> ImportPlan:
    """Parse, validate and compare with the database; changes nothing. ``plan.problems``
    lists every error (line, column, reason); without problems the plan can be applied."""
    problems: list[Problem] = []
    raw_rows = _read(data, problems)
    if not raw_rows:
        if not problems:
            problems.append(Problem(2, "", str(_l("The file has no rows."))))
        return ImportPlan(problems=problems)
    return plan_rows(session, raw_rows, problems)


@dataclass
class SeenRows:
    """What a dry run in batches keeps of the batches before (``plan_rows(seen=...)``):
    each SKU's first line and each product's first row (its line and product columns),
    so that a repeated SKU or a product whose rows disagree is found across batches and
    a new product is counted once. A few strings per row, never the rows themselves."""

    skus: dict[str, int] = field(default_factory=dict)
    products: dict[str, SimpleNamespace] = field(default_factory=dict)


def plan_rows(
    session: Session,
    raw_rows: list[tuple[int, dict[str, str]]],
    problems: list[Problem] | None = None,
    *,
    seen: SeenRows | None = None,
) -> ImportPlan:
    """``plan_import`` for rows already read (all of a file, or one batch of it; with
    ``seen``, one batch of a dry run that judges the rows across the whole file)."""
    seen = seen if seen is not None else SeenRows()
    plan = ImportPlan(problems=problems if problems is not None else [])
    rows = [_parse_row(line, cells, plan.problems) for line, cells in raw_rows]
    _load_existing(session, plan, rows)
    _keep_absent_columns(plan, rows)
    category_slugs = {v: k for k, v in plan.categories.items()}
    for row in rows:
        read = _Cells(row.line, row.cells, plan.problems)
        slug, sku = row.product["slug"], row.variant["sku"]
        row.canonical = _canonical(row)
        if row.product["category_slug"] not in plan.categories:
            read.fail("category_slug", _l("No category has this slug."))
        if sku in seen.skus:
            read.fail("sku", _l("Already on line %(line)d.", line=seen.skus[sku]))
        else:
            seen.skus.setdefault(sku, row.line)
        rowplan = RowPlan(row.line, slug, sku, cells=row.canonical)
        plan.rows.append(rowplan)
        _plan_product(plan, row, rowplan, read, seen, category_slugs)
        _plan_variant(plan, row, rowplan, read)
    plan.problems.sort(
        key=lambda problem: (
            problem.line,
            COLUMNS.index(problem.column) if problem.column in COLUMNS else -1,
        )
    )
    plan.parsed = rows
    return plan


def _keep_absent_columns(plan: ImportPlan, rows: list[_Row]) -> None:
    """An optional column the file leaves out reads as what the product holds."""
    for row in rows:
        stored = plan.products.get(row.product["slug"])
        for name in OPTIONAL_COLUMNS:
            if row.product[name] is _ABSENT:
                row.product[name] = getattr(stored, name) if stored is not None else None


def _load_existing(session: Session, plan: ImportPlan, rows: list[_Row]) -> None:
    """The categories, and the variants and products the rows name, in a few queries."""
    plan.categories = dict(session.execute(sa.select(Category.slug, Category.id)).all())
    # Only values a row could hold (a NUL byte is refused by the rules, and PostgreSQL
    # refuses even to compare it).
    slugs = sorted({row.product["slug"] for row in rows if is_storable(row.product["slug"])})
    skus = sorted({row.variant["sku"] for row in rows if is_storable(row.variant["sku"])})
    # Variants first: loading products afterwards (``populate_existing``) leaves their
    # variants and tiers loaded, so comparing costs no further query.
    for chunk in _in_chunks(skus):
        for variant in session.scalars(
            sa.select(Variant)
            .where(Variant.sku.in_(chunk))
            .execution_options(populate_existing=True)
        ):
            plan.variants[variant.sku] = variant
    for chunk in _in_chunks(slugs):
        for product in session.scalars(
            sa.select(Product)
            .where(Product.slug.in_(chunk))
            .options(selectinload(Product.variants), selectinload(Product.price_tiers))
            .execution_options(populate_existing=True)
        ):
            plan.products[product.slug] = product


_PRODUCT_AND_PRICE_COLUMNS = (*PRODUCT_COLUMNS, *PRICE_COLUMNS)


def _plan_product(
    plan: ImportPlan,
    row: _Row,
    rowplan: RowPlan,
    read: _Cells,
    seen: SeenRows,
    category_slugs: dict[int, str],
) -> None:
    """The product's part of a row: the first row of a product creates or changes it, the
    others must agree with that first one."""
    slug = row.product["slug"]
    first = seen.products.get(slug)
    if first is not None:
        _compare_with_first(plan, row, read, first)
        return
    seen.products[slug] = SimpleNamespace(
        line=row.line,
        canonical={c: row.canonical[c] for c in _PRODUCT_AND_PRICE_COLUMNS},
        prices_reported=set(),
    )
    existing = plan.products.get(slug)
    if existing is None:
        rowplan.product_action = "create"
        return
    old = product_cells(existing, category_slugs.get(existing.category_id, ""))
    changes = [
        (c, old[c], row.canonical[c])
        for c in _PRODUCT_AND_PRICE_COLUMNS
        if old[c] != row.canonical[c]
    ]
    if changes:
        rowplan.product_action = "update"
        rowplan.changes.extend(changes)


def _compare_with_first(plan: ImportPlan, row: _Row, read: _Cells, first: SimpleNamespace) -> None:
    """A later row of a product against its first row. The product's columns must agree,
    each row that differs being named. Prices are the product's, read once from its first
    row: a price that differs is one problem on that first row per currency (a price
    changed on the first row of a product with 14 variants is one error, not 13)."""
    for column in PRODUCT_COLUMNS:
        if row.canonical[column] != first.canonical[column]:
            read.fail(
                column, _l("Differs from line %(line)d of the same product.", line=first.line)
            )
    for column in PRICE_COLUMNS:
        if row.canonical[column] == first.canonical[column] or column in first.prices_reported:
            continue
        first.prices_reported.add(column)
        message = _l(
            "Line %(line)d of the same product has other prices. A product's prices are read "
            "from its first row: give all its rows the same prices.",
            line=row.line,
        )
        plan.problems.append(Problem(first.line, column, str(message)))


def _plan_variant(plan: ImportPlan, row: _Row, rowplan: RowPlan, read: _Cells) -> None:
    """The variant's part of a row: a new SKU creates one; a known SKU must belong to the
    row's product, and its count may not go below what is allocated."""
    existing_product = plan.products.get(row.product["slug"])
    existing = plan.variants.get(row.variant["sku"])
    if existing is None:
        rowplan.variant_action = "create"
        return
    if existing_product is None or existing.product_id != existing_product.id:
        read.fail("sku", _l("This SKU belongs to product %(slug)s.", slug=existing.product.slug))
        return
    old = variant_cells(existing)
    changes = [(c, old[c], row.canonical[c]) for c in old if old[c] != row.canonical[c]]
    if changes:
        rowplan.variant_action = "update" if any(c != "on_hand" for c, _o, _n in changes) else None
        rowplan.changes.extend(changes)
    if row.on_hand is not None and row.on_hand < existing.allocated:
        read.fail(
            "on_hand",
            _l("Below the %(allocated)d allocated to orders.", allocated=existing.allocated),
        )


# --- applying -------------------------------------------------------------------------

PRODUCT_FIELDS = (
    *PRODUCT_TEXT,
    *PRODUCT_FLAGS,
    *PRODUCT_NUMBERS,
    *PRODUCT_KEYS,
)


class ImportHasProblems(ValueError):
    pass


def _sync_tiers(product: Product, currency: str, tiers: list[tuple[int, int]]) -> None:
    """Make the product's tiers in ``currency`` equal ``tiers``: update matching quantities
    in place, add new ones, remove the rest (no unique-constraint clash within a flush)."""
    existing = {t.min_quantity: t for t in product.price_tiers if t.currency == currency}
    wanted = dict(tiers)
    for quantity, tier in existing.items():
        if quantity not in wanted:
            product.price_tiers.remove(tier)
        elif tier.unit_amount != wanted[quantity]:
            tier.unit_amount = wanted[quantity]
    for quantity, amount in tiers:
        if quantity not in existing:
            product.price_tiers.append(
                PriceTier(currency=currency, min_quantity=quantity, unit_amount=amount)
            )


def apply_import(
    session: Session,
    plan: ImportPlan,
    *,
    actor_user_id: int | None,
    progress: Callable[[str, int, int], None] | None = None,
) -> dict[str, int]:
    """Carry out a plan without problems in the caller's transaction (the caller commits,
    or rolls back if this raises), and record the import. Returns the counts.
    ``progress(phase, done, total)`` is called after each chunk of rows (phases ``"rows"``,
    then ``"stock"``)."""
    counts = apply_plan(session, plan, actor_user_id=actor_user_id, progress=progress)
    record(
        session,
        actor_user_id=actor_user_id,
        action="catalog.csv_import",
        target_type="catalog",
        after=counts,
    )
    return counts


def apply_plan(
    session: Session,
    plan: ImportPlan,
    *,
    actor_user_id: int | None,
    progress: Callable[[str, int, int], None] | None = None,
) -> dict[str, int]:
    """``apply_import`` without the import's own audit row: one batch of a larger import
    (``shop.admin.csv_job``), which records the whole import itself."""
    for phase, done, total in _apply_steps(session, plan, actor_user_id=actor_user_id):
        if progress:
            progress(phase, done, total)
    return plan.counts


@dataclass
class _Pending:
    """What the rows of a plan add up to, before anything is inserted or counted."""

    touched: dict[str, Product] = field(default_factory=dict)  # search text may change
    new_products: dict[str, dict] = field(default_factory=dict)  # slug → column values
    new_tiers: list[tuple[str, str, int, int]] = field(default_factory=list)  # slug, cur, q, a
    new_variants: list[tuple[str, dict]] = field(default_factory=list)  # slug, column values
    new_skus: dict[str, list[str]] = field(default_factory=dict)
    stock: list[tuple[str, int]] = field(default_factory=list)  # sku, delta


def _apply_steps(session: Session, plan: ImportPlan, *, actor_user_id: int | None):
    """The apply as a generator of ``(phase, done, total)`` after each chunk."""
    if plan.problems:
        raise ImportHasProblems(f"{len(plan.problems)} problems")
    total = len(plan.parsed)
    pending = _Pending()
    for index, (row, rowplan) in enumerate(zip(plan.parsed, plan.rows, strict=True)):
        _stage_product(plan, row, rowplan, pending)
        _stage_variant(plan, row, rowplan, pending)
        if (index + 1) % CHUNK == 0 and index + 1 < total:
            yield "rows", index + 1, total
    session.flush()
    product_ids = _insert_products(session, plan, pending)
    variant_ids = _insert_variants(session, plan, pending, product_ids)
    yield "rows", total, total
    yield from _count_stock(session, plan, pending.stock, variant_ids, actor_user_id)
    for slug, product in pending.touched.items():
        if slug in pending.new_skus:
            session.expire(product, ["variants"])  # the bulk insert bypassed the collection
        refresh_search_text(product)
    session.flush()
    _record_changes(session, plan, product_ids, actor_user_id)


def _stage_product(plan: ImportPlan, row: _Row, rowplan: RowPlan, pending: _Pending) -> None:
    """A new product (and its tiers) waits for the bulk insert; a changed one changes now."""
    values, slug = row.product, row.product["slug"]
    product = plan.products.get(slug)
    if product is None and slug not in pending.new_products:
        pending.new_products[slug] = {
            "slug": slug,
            "category_id": plan.categories[values["category_slug"]],
            **{name: values[name] for name in PRODUCT_FIELDS},
        }
        pending.new_tiers.extend(
            (slug, currency, quantity, amount)
            for currency, tiers in row.tiers.items()
            for quantity, amount in tiers
        )
    elif product is not None and rowplan.product_action == "update":
        product.category_id = plan.categories[values["category_slug"]]
        for name in PRODUCT_FIELDS:
            if getattr(product, name) != values[name]:
                setattr(product, name, values[name])
        for currency, tiers in row.tiers.items():
            _sync_tiers(product, currency, tiers)
        pending.touched[slug] = product


def _stage_variant(plan: ImportPlan, row: _Row, rowplan: RowPlan, pending: _Pending) -> None:
    """A new variant waits for the bulk insert, a changed one changes now; a count becomes
    a stock delta."""
    slug, sku = row.product["slug"], row.variant["sku"]
    product = plan.products.get(slug)
    variant = plan.variants.get(sku)
    if variant is None:
        pending.new_variants.append((slug, {**row.variant, "on_hand": 0}))
        pending.new_skus.setdefault(slug, []).append(sku)
        if product is not None:
            pending.touched[slug] = product
        if row.on_hand:
            pending.stock.append((sku, row.on_hand))
        return
    if rowplan.variant_action:
        for name, value in row.variant.items():
            if getattr(variant, name) != value:
                setattr(variant, name, value)
        assert product is not None  # planning refused a SKU of another product
        pending.touched[slug] = product
    if row.on_hand is not None and row.on_hand != variant.on_hand:
        pending.stock.append((sku, row.on_hand - variant.on_hand))


def _insert_products(session: Session, plan: ImportPlan, pending: _Pending) -> dict[str, int]:
    """New products and their tiers as bulk INSERTs (batched by SQLAlchemy), ids read back
    in order. Returns the id of every product of the plan by slug."""
    product_ids = {slug: product.id for slug, product in plan.products.items()}
    if pending.new_products:
        for values in pending.new_products.values():
            skus = [SimpleNamespace(sku=sku) for sku in pending.new_skus.get(values["slug"], ())]
            values["search_text"] = build_search_text(
                SimpleNamespace(**values, variants=skus),  # type: ignore[arg-type]
                category_names(session, values.get("category_id")),
            )
        ids = session.scalars(
            sa.insert(Product).returning(Product.id, sort_by_parameter_order=True),
            list(pending.new_products.values()),
        ).all()
        product_ids.update(zip(pending.new_products, ids, strict=True))
    if pending.new_tiers:
        session.execute(
            sa.insert(PriceTier),
            [
                {
                    "product_id": product_ids[slug],
                    "currency": c,
                    "min_quantity": q,
                    "unit_amount": a,
                }
                for slug, c, q, a in pending.new_tiers
            ],
        )
    return product_ids


def _insert_variants(
    session: Session, plan: ImportPlan, pending: _Pending, product_ids: dict[str, int]
) -> dict[str, int]:
    """New variants as one bulk INSERT. Returns the id of every variant of the plan by SKU."""
    variant_ids = {sku: variant.id for sku, variant in plan.variants.items()}
    if pending.new_variants:
        ids = session.scalars(
            sa.insert(Variant).returning(Variant.id, sort_by_parameter_order=True),
            [{"product_id": product_ids[slug], **values} for slug, values in pending.new_variants],
        ).all()
        variant_ids.update(zip((v["sku"] for _s, v in pending.new_variants), ids, strict=True))
    return variant_ids


def _count_stock(
    session: Session,
    plan: ImportPlan,
    stock: list[tuple[str, int]],
    variant_ids: dict[str, int],
    actor_user_id: int | None,
) -> Iterator[tuple[str, int, int]]:
    """Each count as a "counted" adjustment (a ledger row), with progress per chunk."""
    for index, (sku, delta) in enumerate(stock):
        adjust(
            session,
            variant_ids[sku],
            delta,
            reason="counted",
            staff_user_id=actor_user_id,
            note="CSV import",
            reference="csv-import",
        )
        if sku in plan.variants:
            session.expire(plan.variants[sku], ["on_hand"])
        if (index + 1) % CHUNK == 0 and index + 1 < len(stock):
            yield "stock", index + 1, len(stock)
    yield "stock", len(stock), len(stock)


def _changes_by_product(plan: ImportPlan) -> dict[str, dict]:
    """The plan's changes gathered per product: its action and the cells before and after
    (a variant's cells keyed ``<sku>.<column>``)."""
    changes: dict[str, dict] = {}
    for rowplan in plan.changed_rows:
        entry = changes.setdefault(
            rowplan.product_slug, {"action": None, "before": {}, "after": {}}
        )
        if rowplan.product_action:
            entry["action"] = rowplan.product_action
        for column, old, new in rowplan.changes:
            key = column if column in _PRODUCT_AND_PRICE_COLUMNS else f"{rowplan.sku}.{column}"
            entry["before"][key] = old
            entry["after"][key] = new
        if rowplan.variant_action == "create":
            entry["after"][f"{rowplan.sku}"] = "created"
    return changes


def _record_changes(
    session: Session, plan: ImportPlan, product_ids: dict[str, int], actor_user_id: int | None
) -> None:
    """One audit row per product the import created or changed."""
    for slug, entry in _changes_by_product(plan).items():
        created = entry["action"] == "create"
        record(
            session,
            actor_user_id=actor_user_id,
            action="product.csv_create" if created else "product.csv_update",
            target_type="product",
            target_id=product_ids[slug],
            before=None if created else entry["before"],
            after=entry["after"] if not created else {"slug": slug},
        )
