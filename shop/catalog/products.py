"""One product as its page shows it: tiers as ranges, the size × colour matrix.

Built from one statement whatever the number of variants, images or tiers: the product's
row with its category's and the category parent's, and in the same row its variants, its
images and its tiers in the currency as JSON arrays (a correlated subquery each, over
its own index). The rows become small frozen dataclasses; no ORM objects. Loading the
product and five relations through the ORM took ~40 % of the page's time, its SQL ~2 %;
four statements instead of one cost three more round trips, which on PostgreSQL are most
of what a page waits for.

Each variant's stock state (for sale, made to order, sold out, in stock) is worked out
here once, for the grid to print (``shop.catalog.size_grid.grid_rows``).
"""

import functools
import json
from dataclasses import dataclass
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.orm import Session

from shop.cart.rules import line_problems
from shop.catalog import pricing
from shop.catalog.models import Category, PriceTier, Product, ProductImage, Variant
from shop.db import PreparedSelect
from shop.locales import image_alt, localized, translated

# A variant's stock as the grid shows it.
WITHDRAWN = "withdrawn"  # staff took this size/colour off sale
MADE_TO_ORDER = "made"  # no stock limit
OUT_OF_STOCK = "out"
IN_STOCK = "in"
SOLD_OUT_STATES = frozenset({WITHDRAWN, OUT_OF_STOCK})


@dataclass(frozen=True)
class ProductFacts:
    """The product's own fields that its page shows (``page.product``)."""

    id: int
    slug: str
    made_to_order: bool
    lead_time_days: int | None
    min_order_quantity: int
    order_increment: int
    size_chart: dict[str, Any] | None


@dataclass(frozen=True)
class CategoryCrumb:
    """A category in the breadcrumb: its slug and names (for ``|localized('name')``)."""

    slug: str
    name: str
    name_zh: str | None
    name_ja: str | None
    parent: "CategoryCrumb | None" = None


@dataclass(frozen=True)
class VariantCell:
    """One size × colour: its SKU, what is available to sell and whether it is for sale."""

    id: int
    sku: str
    size: str
    colour: str
    available: int
    for_sale: bool


@dataclass(frozen=True)
class ImageFacts:
    path: str
    alt_text: str
    width: int
    height: int


@dataclass(frozen=True)
class VariantMatrix:
    """Sizes down, colours across; ``cell(size, colour)`` is the variant or ``None``."""

    sizes: list[str]
    colours: list[str]
    variants: dict[tuple[str, str], VariantCell]

    def cell(self, size: str, colour: str) -> VariantCell | None:
        return self.variants.get((size, colour))


@dataclass(frozen=True)
class ProductPage:
    product: ProductFacts
    name: str
    description: str
    category: CategoryCrumb
    images: list[ImageFacts]
    currency: str
    tiers: list[pricing.TierRange]
    matrix: VariantMatrix
    selected: VariantCell | None
    # The visitor's language has no description of its own: ``description`` is the
    # English one, and the page says so.
    description_untranslated: bool = False

    @property
    def paragraphs(self) -> list[str]:
        return self.description.split("\n\n")


def stock_state(variant: VariantCell, *, made_to_order: bool) -> str:
    """``WITHDRAWN`` when staff took it off sale; else ``MADE_TO_ORDER`` for a made-to-order
    product; else ``OUT_OF_STOCK`` when the cart's stock rule refuses a single piece, or
    ``IN_STOCK``. Withdrawn and out of stock are sold out: not one piece can go in the cart."""
    if not variant.for_sale:
        return WITHDRAWN
    if made_to_order:
        return MADE_TO_ORDER
    return OUT_OF_STOCK if line_problems(1, available=variant.available) else IN_STOCK


def build_matrix(variants: list[VariantCell]) -> VariantMatrix:
    sizes: list[str] = []
    colours: list[str] = []
    cells: dict[tuple[str, str], VariantCell] = {}
    for variant in variants:
        if variant.size not in sizes:
            sizes.append(variant.size)
        if variant.colour not in colours:
            colours.append(variant.colour)
        cells[(variant.size, variant.colour)] = variant
    return VariantMatrix(sizes, colours, cells)


def get_product_page(
    session: Session, slug: str, *, currency: str, locale: str, variant_id: int | None = None
) -> ProductPage | None:
    """The page of the active product ``slug``, or ``None``."""
    connection = session.connection()
    rows = _page_statement(connection.dialect.name).rows(connection, slug=slug, currency=currency)
    if not rows:
        return None
    row = PageRow(*_json(rows[0][0]))
    variants = _variants(row.variants)
    return ProductPage(
        product=ProductFacts(
            id=row.id,
            slug=row.slug,
            made_to_order=bool(row.made_to_order),
            lead_time_days=row.lead_time_days,
            min_order_quantity=row.min_order_quantity,
            order_increment=row.order_increment,
            size_chart=row.size_chart,
        ),
        name=localized(row, "name", locale),
        description=localized(row, "description", locale),
        category=_crumb(row),
        images=_images(row, locale),
        currency=currency,
        tiers=pricing.tier_ranges(pricing.Tier(*tier) for tier in row.tiers or ()),
        matrix=build_matrix(variants),
        selected=next((v for v in variants if v.id == variant_id), None),
        description_untranslated=bool(row.description)
        and translated(row, "description", locale) is None,
    )


# Each JSON array's items, in the order of the columns listed here; ``position`` and
# ``id`` last, to sort by (an aggregate's order is not the subquery's on every database).
VARIANT_COLUMNS = ("id", "sku", "size", "colour", "on_hand", "allocated", "for_sale", "position")
TIER_COLUMNS = ("min_quantity", "unit_amount")


class ImageRow(NamedTuple):
    """One item of the page's ``images`` array (``IMAGE_COLUMNS`` are its fields)."""

    path: str
    alt_text: str
    alt_text_zh: str | None
    alt_text_ja: str | None
    width: int
    height: int
    position: int
    id: int


IMAGE_COLUMNS = ImageRow._fields


class PageRow(NamedTuple):
    """The page's one value, an array of these in this order (``_page_statement``): the
    product's fields, its category's and the category parent's (``category_*``,
    ``parent_*``), and its variants, images and tiers as arrays."""

    id: int
    slug: str
    name: str
    name_zh: str | None
    name_ja: str | None
    description: str
    description_zh: str | None
    description_ja: str | None
    made_to_order: bool
    lead_time_days: int | None
    min_order_quantity: int
    order_increment: int
    category_slug: str
    category_name: str
    category_name_zh: str | None
    category_name_ja: str | None
    parent_slug: str | None
    parent_name: str | None
    parent_name_zh: str | None
    parent_name_ja: str | None
    size_chart: dict[str, Any] | None
    variants: list | None
    images: list | None
    tiers: list | None


PRODUCT_COLUMNS = PageRow._fields[: PageRow._fields.index("category_slug")]


@functools.cache
def _page_statement(dialect: str) -> PreparedSelect:
    """The page as one JSON array of ``PageRow``'s fields, in order: the product's, its
    category's and the category parent's, and its variants, images and tiers in
    ``:currency`` as arrays. One value rather than a row of two dozen columns: reading a
    result costs SQLAlchemy ~1.7 µs a column, more than the database's whole answer. An
    array rather than an object: no key built, sent and decoded two dozen times (a
    quarter less JSON; on PostgreSQL 10-40 µs less a page, server and client).
    Compiled once per dialect and run from its SQL string; built by ``json_array`` and
    ``json_group_array`` on SQLite, ``json_build_array`` and ``json_agg`` on PostgreSQL."""
    postgresql = dialect == "postgresql"
    product = Product.__table__.c
    category = Category.__table__
    parent = category.alias("parent")
    variant, image, tier = Variant.__table__.c, ProductImage.__table__.c, PriceTier.__table__.c
    fields: dict[str, Any] = {name: product[name] for name in PRODUCT_COLUMNS}
    for prefix, table in (("category", category), ("parent", parent)):
        for name in ("slug", "name", "name_zh", "name_ja"):
            fields[f"{prefix}_{name}"] = table.c[name]
    fields["size_chart"] = product.size_chart
    fields["variants"] = _json_rows(
        dialect, variant, VARIANT_COLUMNS, variant.product_id == product.id
    )
    fields["images"] = _json_rows(dialect, image, IMAGE_COLUMNS, image.product_id == product.id)
    fields["tiers"] = _json_rows(
        dialect,
        tier,
        TIER_COLUMNS,
        tier.product_id == product.id,
        tier.currency == sa.bindparam("currency"),
    )
    assert tuple(fields) == PageRow._fields  # the array is read by position
    json_array = sa.func.json_build_array if postgresql else sa.func.json_array
    values: list[Any] = []
    for name, value in fields.items():
        # SQLite's JSON text from a column or a subquery is a string to json_array
        # unless json() says it is JSON.
        is_json = name == "size_chart" or isinstance(value, sa.ScalarSelect)
        values.append(sa.func.json(value) if is_json and not postgresql else value)
    return PreparedSelect(
        sa.select(json_array(*values))
        .join_from(Product.__table__, category, category.c.id == product.category_id)
        .outerjoin(parent, parent.c.id == category.c.parent_id)
        .where(product.slug == sa.bindparam("slug"), product.active.is_(True))
    )


def _json_rows(dialect: str, table, names: tuple[str, ...], *where) -> sa.ScalarSelect:
    """One JSON array, an item per row of ``table`` where ``where``: ``names``' values."""
    postgresql = dialect == "postgresql"
    item = (sa.func.json_build_array if postgresql else sa.func.json_array)(
        *(table[name] for name in names)
    )
    rows = sa.func.json_agg(item) if postgresql else sa.func.json_group_array(item)
    return sa.select(rows).where(*where).scalar_subquery()


def _json(value):
    """JSON as SQLite gives it (text) or PostgreSQL's driver (decoded)."""
    return json.loads(value) if isinstance(value, str) else value


def _crumb(row) -> CategoryCrumb:
    parent = None
    if row.parent_slug is not None:
        parent = CategoryCrumb(
            row.parent_slug, row.parent_name, row.parent_name_zh, row.parent_name_ja
        )
    return CategoryCrumb(
        row.category_slug, row.category_name, row.category_name_zh, row.category_name_ja, parent
    )


def _variants(value) -> list[VariantCell]:
    items = sorted(value or (), key=lambda item: (item[7], item[0]))  # position, id
    return [
        VariantCell(
            id=id_,
            sku=sku,
            size=size,
            colour=colour,
            available=max(on_hand - allocated, 0),  # as Variant.available
            for_sale=bool(for_sale),
        )
        for id_, sku, size, colour, on_hand, allocated, for_sale, _position in items
    ]


def _images(row, locale: str) -> list[ImageFacts]:
    """The product's pictures in gallery order, each with its alt text in the visitor's
    language."""
    images = sorted(
        (ImageRow(*item) for item in row.images or ()),
        key=lambda image: (image.position, image.id),
    )
    return [
        ImageFacts(image.path, image_alt(image, row, locale), image.width, image.height)
        for image in images
    ]
