"""One product as its page shows it: tiers as ranges, the size × colour matrix.

Built from plain rows in four statements whatever the number of variants, images or
tiers (the product with its category and the category's parent, its variants, its images,
its tiers in the currency) into small frozen dataclasses. No ORM objects: loading the
product and five relations through the ORM took ~40 % of the page's time, its SQL ~2 %.
"""

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from shop.cart.rules import line_problems
from shop.catalog import pricing
from shop.catalog.models import Category, PriceTier, Product, ProductImage, Variant
from shop.db import PreparedSelect
from shop.locales import image_alt, localized, translated


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

    def sold_out(self, variant: VariantCell) -> bool:
        """Not one piece of ``variant`` can go in the cart: staff withdrew it, or it is
        stocked (not made to order) and the cart's stock rule refuses a single piece."""
        available = None if self.product.made_to_order else variant.available
        return not variant.for_sale or bool(line_problems(1, available=available))


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
    row = _product_row(session, slug)
    if row is None:
        return None
    variants = _variants(session, row.id)
    return ProductPage(
        product=ProductFacts(
            id=row.id,
            slug=row.slug,
            made_to_order=row.made_to_order,
            lead_time_days=row.lead_time_days,
            min_order_quantity=row.min_order_quantity,
            order_increment=row.order_increment,
            size_chart=row.size_chart,
        ),
        name=localized(row, "name", locale),
        description=localized(row, "description", locale),
        category=_crumb(row),
        images=_images(session, row, locale),
        currency=currency,
        tiers=pricing.tier_ranges(_tiers(session, row.id, currency)),
        matrix=build_matrix(variants),
        selected=next((v for v in variants if v.id == variant_id), None),
        description_untranslated=bool(row.description)
        and translated(row, "description", locale) is None,
    )


# The page's statements, built once: Core over the tables with bound parameters, so a
# request only binds and runs them (building a statement from ORM attributes, and running
# it through the ORM, cost several times the query itself). Those of plain columns are
# compiled once too (``PreparedSelect``); the product's row has a JSON column the
# driver would not decode on SQLite.
_product = Product.__table__.c
_category = Category.__table__
_parent = _category.alias("parent")
PRODUCT_ROW = (
    sa.select(
        _product.id,
        _product.slug,
        _product.name,
        _product.name_zh,
        _product.name_ja,
        _product.description,
        _product.description_zh,
        _product.description_ja,
        _product.made_to_order,
        _product.lead_time_days,
        _product.min_order_quantity,
        _product.order_increment,
        _product.size_chart,
        _category.c.slug.label("category_slug"),
        _category.c.name.label("category_name"),
        _category.c.name_zh.label("category_name_zh"),
        _category.c.name_ja.label("category_name_ja"),
        _parent.c.slug.label("parent_slug"),
        _parent.c.name.label("parent_name"),
        _parent.c.name_zh.label("parent_name_zh"),
        _parent.c.name_ja.label("parent_name_ja"),
    )
    .join(_category, _category.c.id == _product.category_id)
    .outerjoin(_parent, _parent.c.id == _category.c.parent_id)
    .where(_product.slug == sa.bindparam("slug"), _product.active.is_(True))
)
_variant = Variant.__table__.c
VARIANTS = PreparedSelect(
    sa.select(
        _variant.id,
        _variant.sku,
        _variant.size,
        _variant.colour,
        _variant.on_hand,
        _variant.allocated,
        _variant.for_sale,
    )
    .where(_variant.product_id == sa.bindparam("product_id"))
    .order_by(_variant.position, _variant.id)
)
_image = ProductImage.__table__.c
IMAGES = PreparedSelect(
    sa.select(
        _image.path,
        _image.alt_text,
        _image.alt_text_zh,
        _image.alt_text_ja,
        _image.width,
        _image.height,
    )
    .where(_image.product_id == sa.bindparam("product_id"))
    .order_by(_image.position, _image.id)
)
_tier = PriceTier.__table__.c
TIERS = PreparedSelect(
    sa.select(_tier.min_quantity, _tier.unit_amount)
    .where(
        _tier.product_id == sa.bindparam("product_id"), _tier.currency == sa.bindparam("currency")
    )
    .order_by(_tier.min_quantity)
)


def _product_row(session: Session, slug: str):
    """The product's columns with its category's and the category parent's, in one row."""
    return session.execute(PRODUCT_ROW, {"slug": slug}).first()


def _crumb(row) -> CategoryCrumb:
    parent = None
    if row.parent_slug is not None:
        parent = CategoryCrumb(
            row.parent_slug, row.parent_name, row.parent_name_zh, row.parent_name_ja
        )
    return CategoryCrumb(
        row.category_slug, row.category_name, row.category_name_zh, row.category_name_ja, parent
    )


def _variants(session: Session, product_id: int) -> list[VariantCell]:
    return [
        VariantCell(
            id=row.id,
            sku=row.sku,
            size=row.size,
            colour=row.colour,
            available=max(row.on_hand - row.allocated, 0),  # as Variant.available
            for_sale=bool(row.for_sale),
        )
        for row in VARIANTS.rows(session.connection(), product_id=product_id)
    ]


def _images(session: Session, product, locale: str) -> list[ImageFacts]:
    """The product's pictures, each with its alt text in the visitor's language."""
    rows = IMAGES.rows(session.connection(), product_id=product.id)
    return [
        ImageFacts(row.path, image_alt(row, product, locale), row.width, row.height) for row in rows
    ]


def _tiers(session: Session, product_id: int, currency: str) -> list[pricing.Tier]:
    rows = TIERS.rows(session.connection(), product_id=product_id, currency=currency)
    return [pricing.Tier(*row) for row in rows]
