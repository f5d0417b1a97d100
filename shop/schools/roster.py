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

Headers and words may be Chinese or Japanese (``COLUMN_ALIASES``, ``GENDERS``,
``AUTO_WORDS``, ``QUANTITY_SUFFIXES``), an item column may be headed by the product's
name in any language, a colour may be written by its name in any language
(``shop.catalog.colours.colour_key``), and everything is compared after NFKC (full-width
digits, letters, "：" and "／" read as plain ones). The template (``template_header``,
``example_rows``) is in the school's language (``School.locale``).

Stock
-----
``check_stock`` adds up every line of each variant over the whole roster and compares it
with what is available (``Variant.available``: on hand less what others hold; a
made-to-order product has no limit and a ready date). Lines are served in roster order;
each variant short is a ``Shortage`` naming the students whose lines do not fit, with the
choices for them: another colour of that size with enough left, made to order (a stocked
product with a lead time), or leaving those lines out. The bursar's ``choices`` (form
fields ``stock-<variant id>``) are applied to the preview, and a preview with a shortage
left open is not ``ok``. The order placed is the preview after the choices (the job reads
the roster again with the same choices; the stock itself is taken by
``shop.stock.allocation`` when the order is written).
"""

import csv
import io
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from shop.catalog import pricing
from shop.catalog.colours import colour_key
from shop.catalog.models import PriceTier, Product, Variant
from shop.inputs import is_storable
from shop.locales import localized
from shop.schools.models import School, UniformItem
from shop.schools.sizing import DEFAULT_ALLOWANCE_CM, HEIGHT_LIMITS_CM, can_advise, recommend_size
from shop.spreadsheet import BOM

BASE_COLUMNS = ("student", "class", "grade", "gender", "height")
QUANTITY_SUFFIX = ":qty"
AUTO = "auto"
# The same columns and words in Chinese and Japanese (matched after NFKC, so full-width
# letters, digits, "：" and "／" read as their plain forms).
COLUMN_ALIASES = {
    "student": (
        "学生",
        "学生姓名",
        "姓名",
        "名字",
        "生徒",
        "生徒名",
        "氏名",
        "名前",
        "児童",
        "児童名",
    ),
    "class": ("班级", "班", "班別", "班級", "クラス", "組", "学級"),
    "grade": ("年级", "年級", "学年"),
    "gender": ("性别", "性別"),
    "height": ("身高", "身長", "身高(cm)", "身長(cm)", "height(cm)"),
}
QUANTITY_SUFFIXES = (QUANTITY_SUFFIX, ":数量", ":件数", ":枚数", ":個数")
AUTO_WORDS = frozenset((AUTO, "自动", "自動", "自动尺码", "自動サイズ"))


@dataclass(frozen=True)
class TemplateWords:
    """A template's base columns, words and example students in one language."""

    columns: tuple[str, ...]
    qty: str
    auto: str
    boys: str
    girls: str
    students: tuple[tuple[str, str, int], ...]  # name, class, height in cm

    def gender(self, gender: str) -> str:
        return self.boys if gender == "boys" else self.girls


TEMPLATE_WORDS = {
    "en": TemplateWords(
        columns=BASE_COLUMNS,
        qty=QUANTITY_SUFFIX,
        auto=AUTO,
        boys="boys",
        girls="girls",
        students=(("Wang Xiaoming", "3A", 138), ("Li Na", "3A", 142)),
    ),
    "zh_CN": TemplateWords(
        columns=("学生", "班级", "年级", "性别", "身高"),
        qty=":数量",
        auto="自动",
        boys="男",
        girls="女",
        students=(("王小明", "3班", 138), ("李娜", "3班", 142)),
    ),
    "ja": TemplateWords(
        columns=("氏名", "クラス", "学年", "性別", "身長"),
        qty=":枚数",
        auto="自動",
        boys="男子",
        girls="女子",
        students=(("山田太郎", "3組", 138), ("佐藤花子", "3組", 142)),
    ),
}

MAX_STUDENTS = 5_000
MAX_QUANTITY = 99
# The bursar's choice for a short variant: a form field per shortage, ``stock-<variant id>``.
CHOICE_PREFIX = "stock-"
COLOUR_CHOICE = "colour:"  # followed by the other variant's id
MADE_TO_ORDER = "made_to_order"
LEAVE_OUT = "leave_out"
MAX_CHOICES = 500
CHOICE_MAX_LENGTH = 40
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
    "男": "boys",
    "男生": "boys",
    "男孩": "boys",
    "男子": "boys",
    "男児": "boys",
    "女": "girls",
    "女生": "girls",
    "女孩": "girls",
    "女子": "girls",
    "女児": "girls",
    "不限": "any",
    "共用": "any",
    "男女": "any",
}


def fold(text: str) -> str:
    """How headers and keywords are compared: NFKC (full-width forms read as plain ones),
    casefolded, without surrounding spaces."""
    return unicodedata.normalize("NFKC", text).strip().casefold()


_COLUMNS = {fold(alias): column for column, aliases in COLUMN_ALIASES.items() for alias in aliases}
_COLUMNS.update({column: column for column in BASE_COLUMNS})


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
    # Made to order although the product is stocked: the bursar chose it for pieces the
    # shelf does not have (``Shortage``). Lines of a made-to-order product are not marked.
    made_to_order: bool = False
    instead_of: str = ""  # the colour asked for, when the bursar chose another one


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


@dataclass(frozen=True)
class ShortStudent:
    """A student whose line of a short variant the shelf cannot fill."""

    row: int
    name: str
    class_name: str
    quantity: int


@dataclass(frozen=True)
class ColourOption:
    variant_id: int
    sku: str
    colour: str
    available: int  # on the shelf after what the rest of the roster takes

    @property
    def choice(self) -> str:
        return f"{COLOUR_CHOICE}{self.variant_id}"


@dataclass
class Shortage:
    """One variant (an item in one size and colour) the roster needs more of than is
    available. Lines are served in roster order; ``students`` are those whose line does
    not fit in what is left. The bursar chooses for them (``choice``): another colour of
    the same size with enough for all of them (``colours``), made to order when the
    product has a lead time (``ready_on``), or leaving their lines out."""

    variant_id: int
    item_name: str  # the product's name in the preview's language
    size: str
    colour: str
    sku: str
    needed: int  # pieces the whole roster asks for
    available: int  # on the shelf (on hand less what others hold)
    students: list[ShortStudent]
    colours: list[ColourOption]
    lead_time_days: int | None  # can be made to order (a stocked product with a lead time)
    ready_on: date | None = None
    choice: str = ""  # the valid choice applied ("" while there is none)

    @property
    def key(self) -> str:
        """The form field that carries the choice."""
        return f"{CHOICE_PREFIX}{self.variant_id}"

    @property
    def short(self) -> int:
        return self.needed - self.available

    @property
    def pieces(self) -> int:
        """Pieces on the lines the choice is about."""
        return sum(student.quantity for student in self.students)

    @property
    def resolved(self) -> bool:
        return bool(self.choice)


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
    shortages: list[Shortage] = field(default_factory=list)
    # made-to-order products on the roster → the day they should be ready (with ``today``)
    ready_dates: dict[int, date | None] = field(default_factory=dict)
    left_out: list[tuple[RosterStudent, RosterLine]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        everything_left_out = bool(self.left_out) and not self.line_count
        return (
            bool(self.students)
            and not self.problems
            and not self.unresolved
            and not everything_left_out
        )

    @property
    def unresolved(self) -> list[Shortage]:
        return [shortage for shortage in self.shortages if not shortage.resolved]

    @property
    def choices(self) -> dict[str, str]:
        """The choices applied, as the form carries them."""
        return {s.key: s.choice for s in self.shortages if s.choice}

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
    # an item's name in English, Chinese or Japanese (folded) → its key in ``items``
    names: dict[str, str] = field(default_factory=dict)

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
            size_key = fold(variant.size)
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
    names: dict[str, str] = {}
    for key, entry in items.items():
        for name in (entry.product.name, entry.product.name_zh, entry.product.name_ja):
            if name and fold(name) not in items:
                names.setdefault(fold(name), key)
    return RosterCatalogue(
        school=school,
        currency=school.currency,
        grades=list(school.grades or []),
        items=items,
        names=names,
    )


def template_header(catalogue: RosterCatalogue, language: str = "en") -> list[str]:
    """The header of a blank roster for this school (the downloadable template), with
    the base columns in ``language``; items are headed by their slugs (codes that read
    the same in every language)."""
    words = TEMPLATE_WORDS.get(language, TEMPLATE_WORDS["en"])
    slugs = [entry.product.slug for entry in catalogue.ordered()]
    return [*words.columns, *slugs, *(slug + words.qty for slug in slugs)]


def example_rows(
    catalogue: RosterCatalogue, language: str = "en", allowance_cm: int = DEFAULT_ALLOWANCE_CM
) -> list[list[str]]:
    """Two students for the template and the roster page, in ``language``: the first
    with sizes written out (the size finder's choice for their height, so a 138 cm child
    never gets a 110), the second with the "auto" word where the item has a size chart."""
    words = TEMPLATE_WORDS.get(language, TEMPLATE_WORDS["en"])
    grade = catalogue.grades[0] if catalogue.grades else ""
    entries = catalogue.ordered()
    rows = []
    for position, (name, class_name, height) in enumerate(words.students):
        gender = "boys" if position == 0 else "girls"
        cells = []
        for entry in entries:
            if not entry.item.applies_to(grade or None, gender):
                cells.append("")
            elif position and can_advise(entry.product.size_chart):
                cells.append(words.auto)
            else:
                cells.append(example_size(entry, height, allowance_cm))
        quantities = ["2" if position == 0 else ""] + [""] * (len(entries) - 1)
        base = [name, class_name, grade, words.gender(gender), str(height)]
        rows.append([*base, *cells, *quantities])
    return rows


def example_size(entry: CatalogueItem, height_cm: float, allowance_cm: int) -> str:
    """The size a child of ``height_cm`` would get: the size finder's (from the product's
    chart); without a chart, the smallest size whose label is a height in centimetres that
    is at least the child's height plus the allowance (Chinese sizes are heights); "" when
    neither says."""
    size = recommend_size(entry.product.size_chart, height_cm, allowance_cm=allowance_cm)
    if size is not None and fold(size) in entry.variants_by_size:
        return entry.variants_by_size[fold(size)][0].size
    heights = sorted(
        (int(label), label)
        for label in entry.sizes
        if label.strip().isdigit() and int(label) >= height_cm + allowance_cm
    )
    return heights[0][1] if heights else ""


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
    choices: dict[str, str] | None = None,
    today: date | None = None,
) -> RosterPreview:
    """Read ``text`` against ``catalogue``; never raises on bad input. Stock is checked
    over the whole roster (``check_stock``) and the bursar's ``choices`` applied; with
    ``today``, made-to-order pieces carry the day they should be ready."""
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
    check_stock(preview, catalogue, choices or {}, today)
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
        key = fold(name)
        if not key:
            continue
        column = _COLUMNS.get(key)
        suffix = next((s for s in QUANTITY_SUFFIXES if key.endswith(s)), None)
        item_key = _item_key(key[: -len(suffix)].strip() if suffix else key, catalogue)
        seen_as = column or (f"{item_key}{QUANTITY_SUFFIX if suffix else ''}" if item_key else key)
        if seen_as in seen:
            problems.append(RosterProblem(1, name, str(_l("This column appears twice."))))
            continue
        seen.add(seen_as)
        if column is not None:
            base[column] = index
        elif item_key is None:
            problems.append(RosterProblem(1, name, _unknown_item()))
        elif suffix:
            quantity_columns[item_key] = index
        else:
            size_columns[index] = catalogue.items[item_key]
    for required in ("student", "class"):
        if required not in base:
            problems.append(RosterProblem(1, required, str(_l("This column is missing."))))
    if "student" not in base or "class" not in base:
        return None
    return base, size_columns, quantity_columns


def _item_key(key: str, catalogue: RosterCatalogue) -> str | None:
    """The item a (folded) header names: by its slug, or by its name in any language."""
    if key in catalogue.items:
        return key
    return catalogue.names.get(key)


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
    gender = GENDERS.get(fold(row.cell(base.get("gender"))))
    if gender is None:
        row.fail("gender", _l("Write boys, girls or leave it empty."))
        return "any", True
    return gender, False


def _read_height(row: _Row, raw_height: str) -> Decimal | None:
    """The height in centimetres; ``None`` when it is empty or wrong (and then said)."""
    if not raw_height:
        return None
    try:
        text = fold(raw_height)
        for unit in ("cm", "厘米", "公分", "センチ"):
            text = text.removesuffix(unit).strip()
        height = Decimal(text)
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
    auto = fold(raw) in AUTO_WORDS or (not raw and needed)
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
    if size is None or fold(size) not in entry.variants_by_size:
        row.fail(column, _l("No size fits %(height)s cm: write a size.", height=height))
        return None
    return entry.variants_by_size[fold(size)][0]


def _quantity(raw: str, entry: CatalogueItem) -> int | str:
    """The pieces per student, or a problem message."""
    if not raw:
        return entry.item.quantity_per_child
    raw = fold(raw)
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= MAX_QUANTITY:
        return str(_l("Write a whole number from 1 to %(max)d.", max=MAX_QUANTITY))
    return int(raw)


def _variant(raw: str, entry: CatalogueItem) -> Variant | None:
    size, _slash, colour = fold(raw).partition("/")
    candidates = entry.variants_by_size.get(size.strip())
    if not candidates:
        return None
    colour = colour.strip()
    if not colour:
        return candidates[0]
    key = colour_key(colour)  # a colour's name in English, Chinese or Japanese
    for variant in candidates:
        if fold(variant.colour) in (colour, key):
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
    choices: dict[str, str] | None = None,
    today: date | None = None,
) -> RosterPreview:
    """Load the school's list once and read ``text`` against it (with the bursar's
    ``choices`` for what is short)."""
    return preview_roster(
        text,
        load_catalogue(session, school, locale),
        allowance_cm=allowance_cm,
        choices=choices,
        today=today,
    )


# --- stock over the whole roster ------------------------------------------------------


def clean_choices(pairs) -> dict[str, str]:
    """The shortage choices among posted ``(name, value)`` pairs: ``stock-<id>`` fields
    with a short value; anything else is dropped (the preview says what is unresolved)."""
    choices: dict[str, str] = {}
    for name, value in pairs:
        if len(choices) >= MAX_CHOICES:
            break
        if (
            isinstance(name, str)
            and name.startswith(CHOICE_PREFIX)
            and name[len(CHOICE_PREFIX) :].isdigit()
            and len(name) <= CHOICE_MAX_LENGTH
            and isinstance(value, str)
            and 0 < len(value) <= CHOICE_MAX_LENGTH
        ):
            choices[name] = value
    return choices


def _available(variant: Variant, product: Product) -> int | None:
    """What the shelf can give (the stock rule: on hand less what others hold); ``None``
    for a made-to-order product (no limit)."""
    return None if product.made_to_order else variant.available


def check_stock(
    preview: RosterPreview,
    catalogue: RosterCatalogue,
    choices: dict[str, str],
    today: date | None = None,
) -> None:
    """Add up every line of each variant over the whole roster and compare it with what
    is available; each variant short becomes a ``Shortage`` (in ``preview.shortages``)
    with the bursar's choice applied when it is one of those offered. Lines are served
    in roster order, the first come first served, as the order itself will be."""
    variants: dict[int, tuple[CatalogueItem, Variant]] = {
        variant.id: (entry, variant)
        for entry in catalogue.items.values()
        for same_size in entry.variants_by_size.values()
        for variant in same_size
    }
    taken: dict[int, int] = defaultdict(int)  # pieces of each variant served from stock
    short: dict[int, list[tuple[RosterStudent, RosterLine]]] = defaultdict(list)
    for student in preview.students:
        for line in student.lines:
            entry, variant = variants[line.variant_id]
            available = _available(variant, entry.product)
            if available is None:
                preview.ready_dates[entry.product.id] = _ready(entry.product, today)
            elif taken[variant.id] + line.quantity <= available:
                taken[variant.id] += line.quantity
            else:
                short[variant.id].append((student, line))
    for variant_id, lines in short.items():
        entry, variant = variants[variant_id]
        needed = taken[variant_id] + sum(line.quantity for _student, line in lines)
        shortage = Shortage(
            variant_id=variant_id,
            item_name=entry.name,
            size=variant.size,
            colour=variant.colour,
            sku=variant.sku,
            needed=needed,
            available=variant.available,
            students=[
                ShortStudent(student.row, student.name, student.class_name, line.quantity)
                for student, line in lines
            ],
            colours=[],
            lead_time_days=entry.product.lead_time_days,
            ready_on=_ready(entry.product, today),
        )
        shortage.colours = _other_colours(entry, variant, shortage.pieces, taken, short)
        _apply_choice(preview, shortage, lines, choices.get(shortage.key, ""), taken)
        preview.shortages.append(shortage)


def _ready(product: Product, today: date | None) -> date | None:
    if today is None or product.lead_time_days is None:
        return None
    return today + timedelta(days=product.lead_time_days)


def _other_colours(entry, variant, pieces, taken, short) -> list[ColourOption]:
    """The item's other colours in the same size with enough left for ``pieces`` (after
    what the roster itself takes of them); none of a variant that is short itself."""
    options = []
    for other in entry.variants_by_size.get(fold(variant.size), ()):
        if (
            other.id == variant.id
            or other.id in short
            or fold(other.colour) == fold(variant.colour)
        ):
            continue
        left = other.available - taken[other.id]
        if left >= pieces:
            options.append(ColourOption(other.id, other.sku, other.colour, left))
    return options


def _apply_choice(preview, shortage: Shortage, lines, choice: str, taken) -> None:
    """Change the short lines as ``choice`` says, when it is one on offer."""
    if choice == LEAVE_OUT:
        for student, line in lines:
            student.lines.remove(line)
            preview.left_out.append((student, line))
    elif choice == MADE_TO_ORDER and shortage.lead_time_days is not None:
        _swap(lines, lambda line: replace(line, made_to_order=True))
    elif choice.startswith(COLOUR_CHOICE):
        option = next((o for o in shortage.colours if o.choice == choice), None)
        if option is None or option.available - taken[option.variant_id] < shortage.pieces:
            return  # no longer enough (another shortage chose it first): choose again
        taken[option.variant_id] += shortage.pieces
        _swap(
            lines,
            lambda line: replace(
                line,
                variant_id=option.variant_id,
                sku=option.sku,
                colour=option.colour,
                instead_of=line.colour,
            ),
        )
    else:
        return
    shortage.choice = choice


def _swap(lines, change) -> None:
    for student, line in lines:
        index = student.lines.index(line)
        student.lines[index] = change(line)
