"""Roster orders: a school's class list as CSV, read into a preview of every student's
lines, with every problem by row. Plain functions, no Flask: ``load_catalogue`` reads the
school's uniform list in a few queries, ``preview_roster`` then works on dicts only (a
2,000-student roster is one pass, no query per row; see ``bench/roster_preview.py``).

The format
----------
UTF-8 text (a byte order mark is fine), comma or tab separated (the header line decides),
the header first. Headers are matched without regard to case or surrounding spaces::

    student, class, grade, gender, height, <product-slug>..., <product-slug>:qty...

- ``student`` and ``class`` are required on every row; a student may appear once per class.
- ``grade`` is one of the school's grade labels (required when the school has grades).
- ``gender`` is ``boys``/``girls`` (``boy``, ``b``, ``m``, ``girl``, ``g``, ``f`` also work) or
  empty for any; it decides, with the grade, which required items a student must have.
- ``height`` in centimetres (optional). With a height, an item's empty cell (for a required
  item) or ``auto`` gets the size the size finder recommends from the product's size chart.
- One column per uniform item, headed by the item's **product slug** (as in the product's
  address, ``/products/<slug>``). The cell is a size as the product offers it (``140``), a
  size and colour (``140/navy``) when the product comes in several colours (without one, the
  first colour listed is taken), ``auto``, or empty (no such item for that student).
- ``<product-slug>:qty`` (optional): how many of that item each student gets; empty means
  the school list's suggested quantity per child.

Rows that are entirely empty are skipped. Row numbers count the header as row 1, as a
spreadsheet shows them.
"""

import csv
import io
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from shop.catalog import pricing
from shop.catalog.models import PriceTier, Product, Variant
from shop.inputs import is_storable
from shop.locales import localized
from shop.schools.models import School, UniformItem
from shop.schools.sizing import HEIGHT_LIMITS_CM, recommend_size
from shop.spreadsheet import BOM

BASE_COLUMNS = ("student", "class", "grade", "gender", "height")
QUANTITY_SUFFIX = ":qty"
AUTO = "auto"
DEFAULT_ALLOWANCE_CM = 5
MAX_STUDENTS = 5_000
MAX_QUANTITY = 99
NAME_LIMIT = 120  # OrderLine.student_name
CLASS_LIMIT = 40  # OrderLine.class_name
GENDERS = {
    "": "any",
    "any": "any",
    "boys": "boys",
    "boy": "boys",
    "b": "boys",
    "m": "boys",
    "male": "boys",
    "girls": "girls",
    "girl": "girls",
    "g": "girls",
    "f": "girls",
    "female": "girls",
}


# --- what a preview is (``shop.schools.ordering.place_roster_order`` reads these) -------


@dataclass(frozen=True)
class RosterProblem:
    """Something wrong with the roster. ``row`` counts the header as 1 (as a spreadsheet
    does); ``column`` is the header it is about, or "" for the whole row or file."""

    row: int
    column: str
    message: str


@dataclass(frozen=True)
class RosterLine:
    """One item for one student: ``quantity`` pieces of variant ``variant_id``."""

    item_id: int  # UniformItem.id
    product_id: int
    product_slug: str
    product_name: str  # in the preview's locale
    variant_id: int
    sku: str
    size: str
    colour: str
    quantity: int
    auto_sized: bool = False  # the size was recommended from the student's height


@dataclass
class RosterStudent:
    """One roster row: a student and the lines ordered for them (clean: ``name`` and
    ``class_name`` fit ``OrderLine.student_name``/``class_name``)."""

    row: int
    name: str
    class_name: str
    grade: str  # one of the school's grades, or "" when the school has none
    gender: str  # "any", "boys" or "girls"
    height_cm: Decimal | None
    lines: list[RosterLine] = field(default_factory=list)

    @property
    def pieces(self) -> int:
        return sum(line.quantity for line in self.lines)


@dataclass(frozen=True)
class ItemTotal:
    """One product over the whole roster, priced as the order would be: the school's
    price when it has one, else the catalogue tier the product's total quantity reaches.
    ``unit_amount`` is None when the product has no price in the school's currency."""

    product_id: int
    product_name: str
    pieces: int
    unit_amount: int | None
    amount: int | None


@dataclass
class RosterPreview:
    """Everything a roster would order, and everything wrong with it.

    ``students`` are in roster order; a row with problems still appears when its name and
    class could be read (with the lines that could be read), so the preview shows as much
    as possible. Only a preview with ``ok`` may be ordered."""

    school_id: int
    currency: str
    students: list[RosterStudent] = field(default_factory=list)
    problems: list[RosterProblem] = field(default_factory=list)
    item_totals: list[ItemTotal] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.students) and not self.problems

    @property
    def pieces(self) -> int:
        return sum(total.pieces for total in self.item_totals)

    @property
    def line_count(self) -> int:
        return sum(len(student.lines) for student in self.students)

    @property
    def estimated_total_amount(self) -> int | None:
        """The sum of ``item_totals``; None when some product has no price."""
        if any(total.amount is None for total in self.item_totals):
            return None
        return sum(total.amount or 0 for total in self.item_totals)


# --- the school's list, loaded once ---------------------------------------------------


@dataclass
class CatalogueItem:
    item: UniformItem
    product: Product
    name: str
    # casefolded size → variants of that size (for sale), in the product's order
    variants_by_size: dict[str, list[Variant]]
    sizes: list[str]  # as offered, in order, for messages and the template
    tiers: list[PriceTier]


@dataclass
class RosterCatalogue:
    school: School
    currency: str
    grades: list[str]
    items: dict[str, CatalogueItem]  # casefolded product slug → item

    def ordered(self) -> list[CatalogueItem]:
        return sorted(self.items.values(), key=lambda c: (c.item.position, c.item.id))


def load_catalogue(session: Session, school: School, locale: str = "en") -> RosterCatalogue:
    """The school's uniform list with products, variants and tiers: three queries."""
    rows = session.execute(
        sa.select(UniformItem, Product)
        .join(Product, Product.id == UniformItem.product_id)
        .where(UniformItem.school_id == school.id)
        .order_by(UniformItem.position, UniformItem.id)
    ).all()
    product_ids = [product.id for _item, product in rows]
    variants: dict[int, list[Variant]] = defaultdict(list)
    tiers: dict[int, list[PriceTier]] = defaultdict(list)
    if product_ids:
        for variant in session.scalars(
            sa.select(Variant)
            .where(Variant.product_id.in_(product_ids), Variant.for_sale.is_(True))
            .order_by(Variant.position, Variant.id)
        ):
            variants[variant.product_id].append(variant)
        for tier in session.scalars(
            sa.select(PriceTier).where(
                PriceTier.product_id.in_(product_ids), PriceTier.currency == school.currency
            )
        ):
            tiers[tier.product_id].append(tier)

    items: dict[str, CatalogueItem] = {}
    for item, product in rows:
        key = product.slug.casefold()
        if key in items:  # the same product twice on a list: the first entry counts
            continue
        by_size: dict[str, list[Variant]] = defaultdict(list)
        sizes: list[str] = []
        for variant in variants[product.id] if product.active else ():
            size_key = variant.size.strip().casefold()
            if size_key not in by_size:
                sizes.append(variant.size)
            by_size[size_key].append(variant)
        items[key] = CatalogueItem(
            item=item,
            product=product,
            name=localized(product, "name", locale),
            variants_by_size=dict(by_size),
            sizes=sizes,
            tiers=tiers[product.id],
        )
    return RosterCatalogue(
        school=school, currency=school.currency, grades=list(school.grades or []), items=items
    )


def template_header(catalogue: RosterCatalogue) -> list[str]:
    """The header of a blank roster for this school (the downloadable template)."""
    slugs = [entry.product.slug for entry in catalogue.ordered()]
    return [*BASE_COLUMNS, *slugs, *(slug + QUANTITY_SUFFIX for slug in slugs)]


# --- reading the text -----------------------------------------------------------------


def decode(data: bytes) -> str | None:
    """An uploaded file as text (UTF-8, with or without a BOM); None if it is not UTF-8."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None


def _delimiter(text: str) -> str:
    header = text.split("\n", 1)[0]
    return "\t" if header.count("\t") > header.count(",") else ","


def preview_roster(
    text: str,
    catalogue: RosterCatalogue,
    *,
    allowance_cm: int = DEFAULT_ALLOWANCE_CM,
) -> RosterPreview:
    """Read ``text`` against ``catalogue``; never raises on bad input."""
    preview = RosterPreview(school_id=catalogue.school.id, currency=catalogue.currency)
    problems = preview.problems
    text = text.lstrip(BOM)
    if not text.strip():
        problems.append(RosterProblem(1, "", str(_l("The roster is empty."))))
        return preview

    reader = csv.reader(io.StringIO(text), delimiter=_delimiter(text))
    try:
        records = list(reader)
    except csv.Error:
        problems.append(RosterProblem(1, "", str(_l("The roster could not be read as CSV."))))
        return preview
    problems.extend(_unstorable_cells(records))
    if problems:  # the confirm form would carry what no order line can store
        return preview
    header = [cell.strip() for cell in records[0]]
    columns = _read_header(header, catalogue, problems)
    if columns is None:
        return preview
    base, size_columns, quantity_columns = columns

    data_rows = [
        (number, record)
        for number, record in enumerate(records[1:], start=2)
        if any(cell.strip() for cell in record)
    ]
    if not data_rows:
        problems.append(RosterProblem(1, "", str(_l("The roster has no students."))))
        return preview
    if len(data_rows) > MAX_STUDENTS:
        problems.append(
            RosterProblem(1, "", str(_l("More than %(max)d students.", max=MAX_STUDENTS)))
        )
        return preview

    seen: dict[tuple[str, str], int] = {}
    grades = {grade.casefold(): grade for grade in catalogue.grades}
    for number, record in data_rows:
        student = _read_student(
            number,
            record,
            header,
            base,
            size_columns,
            quantity_columns,
            catalogue,
            grades,
            seen,
            problems,
            allowance_cm,
        )
        if student is not None:
            preview.students.append(student)
    preview.item_totals = _totals(preview.students, catalogue)
    return preview


def _unstorable_cells(records: list[list[str]]) -> list[RosterProblem]:
    header = records[0] if records else []
    return [
        RosterProblem(
            number,
            header[index].strip() if number > 1 and index < len(header) else "",
            str(_l("Contains a character we cannot store (a NUL byte); remove it.")),
        )
        for number, record in enumerate(records, start=1)
        for index, cell in enumerate(record)
        if not is_storable(cell)
    ]


def _read_header(header, catalogue, problems):
    base: dict[str, int] = {}
    size_columns: dict[int, CatalogueItem] = {}
    quantity_columns: dict[str, int] = {}  # casefolded slug → index
    seen: set[str] = set()
    for index, name in enumerate(header):
        key = name.casefold()
        if not key:
            continue
        if key in seen:
            problems.append(RosterProblem(1, name, str(_l("This column appears twice."))))
            continue
        seen.add(key)
        if key in BASE_COLUMNS:
            base[key] = index
        elif key.endswith(QUANTITY_SUFFIX):
            slug = key[: -len(QUANTITY_SUFFIX)].strip()
            if slug in catalogue.items:
                quantity_columns[slug] = index
            else:
                problems.append(RosterProblem(1, name, _unknown_item()))
        elif key in catalogue.items:
            size_columns[index] = catalogue.items[key]
        else:
            problems.append(RosterProblem(1, name, _unknown_item()))
    for required in ("student", "class"):
        if required not in base:
            problems.append(RosterProblem(1, required, str(_l("This column is missing."))))
    if "student" not in base or "class" not in base:
        return None
    return base, size_columns, quantity_columns


def _unknown_item() -> str:
    return str(_l("Not an item on this school's list (use the product's slug)."))


@dataclass
class _Row:
    """One roster row being read: its cells, and the list its problems go to."""

    number: int
    record: list[str]
    problems: list[RosterProblem]

    def cell(self, index: int | None) -> str:
        return self.record[index].strip() if index is not None and index < len(self.record) else ""

    def fail(self, column: str, message: object) -> None:
        self.problems.append(RosterProblem(self.number, column, str(message)))


def _read_student(
    number: int,
    record: list[str],
    header: list[str],
    base: dict[str, int],
    size_columns: dict[int, CatalogueItem],
    quantity_columns: dict[str, int],
    catalogue: RosterCatalogue,
    grades: dict[str, str],
    seen: dict[tuple[str, str], int],
    problems: list[RosterProblem],
    allowance_cm: int,
) -> RosterStudent | None:
    """The student on one row with their lines (problems go to ``problems``); ``None``
    when their name or class cannot be read."""
    row = _Row(number, record, problems)
    name, class_name, readable = _read_name_and_class(row, base, seen)
    # A wrong grade or gender is said once; the items it decides are not checked.
    grade, grade_unsure = _read_grade(row, base, grades)
    gender, gender_unsure = _read_gender(row, base)
    raw_height = row.cell(base.get("height"))
    height = _read_height(row, raw_height)
    student = RosterStudent(
        row=number,
        name=name,
        class_name=class_name,
        grade=grade,
        gender=gender,
        height_cm=height,
    )
    given = {entry.product.slug.casefold(): index for index, entry in size_columns.items()}
    for key, entry in catalogue.items.items():
        index = given.get(key)
        quantity = _quantity(row.cell(quantity_columns.get(key)), entry)
        if isinstance(quantity, str):
            row.fail(header[quantity_columns[key]], quantity)
            continue
        applies = entry.item.applies_to(grade or None, gender)
        line = _read_line(
            row,
            entry,
            column=header[index] if index is not None else entry.product.slug,
            raw=row.cell(index),
            quantity=quantity,
            needed=entry.item.required and applies and not (grade_unsure or gender_unsure),
            raw_height=raw_height,
            height=height,
            allowance_cm=allowance_cm,
        )
        if line is not None:
            student.lines.append(line)
    return student if readable else None


def _read_name_and_class(
    row: _Row, base: dict[str, int], seen: dict[tuple[str, str], int]
) -> tuple[str, str, bool]:
    """The student's name and class, and whether both could be read (a student appears
    once per class: ``seen`` remembers each one's row)."""
    name = " ".join(row.cell(base["student"]).split())
    class_name = " ".join(row.cell(base["class"]).split())
    name_ok = _check_text(row, "student", name, NAME_LIMIT, _l("The student's name is missing."))
    class_ok = _check_text(row, "class", class_name, CLASS_LIMIT, _l("The class is missing."))
    readable = name_ok and class_ok
    if readable:
        key = (name.casefold(), class_name.casefold())
        if key in seen:
            row.fail("student", _l("Already on row %(row)d in this class.", row=seen[key]))
        else:
            seen[key] = row.number
    return name, class_name, readable


def _check_text(row: _Row, column: str, text: str, limit: int, missing: object) -> bool:
    if not text:
        row.fail(column, missing)
        return False
    if len(text) > limit:
        row.fail(column, _l("Longer than %(limit)d characters.", limit=limit))
        return False
    return True


def _read_grade(row: _Row, base: dict[str, int], grades: dict[str, str]) -> tuple[str, bool]:
    """The grade as the school writes it ("" when the school has none), and whether it is
    unsure (wrong or missing)."""
    grade = row.cell(base.get("grade"))
    if not grade:
        if grades:
            row.fail("grade", _l("The grade is missing."))
        return "", bool(grades)
    if grades and grade.casefold() not in grades:
        row.fail("grade", _l("Not one of this school's grades (%(grades)s).", grades=_list(grades)))
        return "", True
    return grades.get(grade.casefold(), grade), False


def _read_gender(row: _Row, base: dict[str, int]) -> tuple[str, bool]:
    """``"any"``, ``"boys"`` or ``"girls"``, and whether it is unsure (not understood)."""
    gender = GENDERS.get(row.cell(base.get("gender")).casefold())
    if gender is None:
        row.fail("gender", _l("Write boys, girls or leave it empty."))
        return "any", True
    return gender, False


def _read_height(row: _Row, raw_height: str) -> Decimal | None:
    """The height in centimetres; ``None`` when it is empty or wrong (and then said)."""
    if not raw_height:
        return None
    try:
        height = Decimal(raw_height.removesuffix("cm").strip())
    except InvalidOperation:
        height = None
    if height is None or not height.is_finite():
        row.fail("height", _l("Write the height as a number of centimetres."))
        return None
    low, high = HEIGHT_LIMITS_CM
    if not low <= height <= high:
        row.fail("height", _l("Heights go from %(low)d to %(high)d cm.", low=low, high=high))
        return None
    return height


def _read_line(
    row: _Row,
    entry: CatalogueItem,
    *,
    column: str,
    raw: str,
    quantity: int,
    needed: bool,
    raw_height: str,
    height: Decimal | None,
    allowance_cm: int,
) -> RosterLine | None:
    """The student's line for one item: the size in the cell, or one recommended from the
    height (``auto``, or an empty cell of an item the student ``needed``); ``None`` when
    there is none (or it is wrong, and then said)."""
    auto = raw.casefold() == AUTO or (not raw and needed)
    if not raw and not auto:
        return None
    if auto:
        variant = _auto_variant(row, entry, column, raw, raw_height, height, allowance_cm)
    else:
        variant = _variant(raw, entry)
        if variant is None:
            row.fail(column, _not_offered(raw, entry))
    if variant is None:
        return None
    return RosterLine(
        item_id=entry.item.id,
        product_id=entry.product.id,
        product_slug=entry.product.slug,
        product_name=entry.name,
        variant_id=variant.id,
        sku=variant.sku,
        size=variant.size,
        colour=variant.colour,
        quantity=quantity,
        auto_sized=auto,
    )


def _auto_variant(
    row: _Row,
    entry: CatalogueItem,
    column: str,
    raw: str,
    raw_height: str,
    height: Decimal | None,
    allowance_cm: int,
) -> Variant | None:
    """The size the size finder recommends for ``height``; ``None`` (said) without one."""
    if height is None:
        if raw:
            row.fail(column, _l("“auto” needs the student's height."))
        elif not raw_height:  # with a wrong height: already said
            row.fail(column, _l("Required for this student: write a size or a height."))
        return None
    size = recommend_size(entry.product.size_chart, float(height), allowance_cm=allowance_cm)
    if size is None or size.casefold() not in entry.variants_by_size:
        row.fail(column, _l("No size fits %(height)s cm: write a size.", height=height))
        return None
    return entry.variants_by_size[size.casefold()][0]


def _quantity(raw: str, entry: CatalogueItem) -> int | str:
    """The pieces per student, or a problem message."""
    if not raw:
        return entry.item.quantity_per_child
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_QUANTITY:
        return str(_l("Write a whole number from 1 to %(max)d.", max=MAX_QUANTITY))
    return int(raw)


def _variant(raw: str, entry: CatalogueItem) -> Variant | None:
    size, _slash, colour = raw.partition("/")
    candidates = entry.variants_by_size.get(size.strip().casefold())
    if not candidates:
        return None
    if not colour.strip():
        return candidates[0]
    for variant in candidates:
        if variant.colour.strip().casefold() == colour.strip().casefold():
            return variant
    return None


def _not_offered(raw: str, entry: CatalogueItem) -> str:
    if not entry.sizes:
        return str(_l("%(item)s is not for sale at the moment.", item=entry.name))
    return str(
        _l(
            "%(item)s does not come in %(size)s (sizes: %(sizes)s).",
            item=entry.name,
            size=raw,
            sizes=", ".join(entry.sizes),
        )
    )


def _list(grades: dict[str, str]) -> str:
    return ", ".join(grades.values())


def _totals(students: list[RosterStudent], catalogue: RosterCatalogue) -> list[ItemTotal]:
    pieces: dict[int, int] = defaultdict(int)
    for student in students:
        for line in student.lines:
            pieces[line.product_id] += line.quantity
    totals = []
    for entry in catalogue.ordered():
        count = pieces.get(entry.product.id)
        if not count:
            continue
        unit = pricing.unit_amount(
            pricing.tier_for(entry.tiers, count), entry.item.school_price_amount
        )
        totals.append(
            ItemTotal(
                product_id=entry.product.id,
                product_name=entry.name,
                pieces=count,
                unit_amount=unit,
                amount=unit * count if unit is not None else None,
            )
        )
    return totals


def build_preview(
    session: Session,
    school: School,
    text: str,
    *,
    locale: str = "en",
    allowance_cm: int = DEFAULT_ALLOWANCE_CM,
) -> RosterPreview:
    """Load the school's list once and read ``text`` against it."""
    return preview_roster(text, load_catalogue(session, school, locale), allowance_cm=allowance_cm)
