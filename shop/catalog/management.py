"""Managing the catalogue: duplicating a product, replacing its price tiers, generating
variants from a SKU pattern, and the category tree's rules. Plain functions over a
``Session``: they may flush, never commit (the admin's views commit and audit).

Stock columns are never touched here (``shop.stock.allocation`` owns them): a duplicated
product's variants start with nothing on hand.
"""

import re
from collections.abc import Mapping, Sequence

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from shop.catalog.models import Category, PriceTier, Product, Variant
from shop.catalog.rules import sku_problem
from shop.catalog.search import refresh_search_text
from shop.exceptions import ShopError

# A product's own columns: what a duplicate copies (with a new slug) and the audit shows.
PRODUCT_FIELDS = (
    "name",
    "name_zh",
    "name_ja",
    "slug",
    "category_id",
    "description",
    "description_zh",
    "description_ja",
    "made_to_order",
    "lead_time_days",
    "min_order_quantity",
    "order_increment",
    "active",
    "featured",
    "school_id",
)
MAX_MATRIX = 400  # size × colour combinations generated at once
MATRIX_VALUE_MAX_LENGTH = 32  # a size or colour


# --- duplication -------------------------------------------------------------------------


def free_slug(session: Session, base: str) -> str:
    """``polo`` → ``polo-copy`` (or ``polo-copy-2`` …), the first no product uses."""
    base = base[:110]
    candidate = f"{base}-copy"
    number = 1
    while session.scalar(sa.select(Product.id).where(Product.slug == candidate)) is not None:
        number += 1
        candidate = f"{base}-copy-{number}"
    return candidate


def free_sku(session: Session, base: str, taken: set[str]) -> str:
    """``POLO-S`` → ``POLO-S-COPY`` (or ``-COPY-2`` …), the first neither in the database
    nor in ``taken``; adds it to ``taken``."""
    base = base[:52]
    candidate = f"{base}-COPY"
    number = 1
    while (
        candidate in taken
        or session.scalar(sa.select(Variant.id).where(Variant.sku == candidate)) is not None
    ):
        number += 1
        candidate = f"{base}-COPY-{number}"
    taken.add(candidate)
    return candidate


def duplicate_product(session: Session, original: Product) -> Product:
    """A copy of ``original`` with a free slug and SKUs, its tiers and size chart,
    inactive and not featured, no stock and no images. Flushed (it has an id)."""
    copy = Product(
        **{name: getattr(original, name) for name in PRODUCT_FIELDS if name != "slug"},
        size_chart=original.size_chart,
    )
    copy.slug = free_slug(session, original.slug)
    copy.active = False
    copy.featured = False
    taken: set[str] = set()
    for variant in original.variants:
        copy.variants.append(
            Variant(
                sku=free_sku(session, variant.sku, taken),
                size=variant.size,
                colour=variant.colour,
                position=variant.position,
                low_stock_threshold=variant.low_stock_threshold,
                for_sale=variant.for_sale,
            )
        )
    for tier in original.price_tiers:
        copy.price_tiers.append(
            PriceTier(
                currency=tier.currency, min_quantity=tier.min_quantity, unit_amount=tier.unit_amount
            )
        )
    refresh_search_text(copy)
    session.add(copy)
    session.flush()
    return copy


# --- price tiers -------------------------------------------------------------------------


def replace_tiers(
    session: Session, product: Product, tiers: Mapping[str, Sequence[tuple[int, int]]]
) -> None:
    """The product's tiers become ``{currency: [(min_quantity, unit_amount)]}`` (already
    checked with ``rules.tier_problems``); a currency not given has none."""
    product.price_tiers.clear()
    session.flush()  # the old rows go first: (product, currency, min_quantity) is unique
    for currency, ladder in tiers.items():
        for min_quantity, amount in ladder:
            product.price_tiers.append(
                PriceTier(currency=currency, min_quantity=min_quantity, unit_amount=amount)
            )
    session.flush()


# --- variants ----------------------------------------------------------------------------


class VariantsRefused(ShopError):
    """The matrix cannot be generated; ``messages`` say why, ``field`` which input
    (``"sizes"`` or ``"pattern"``) they belong to."""

    def __init__(self, messages: list[str], field: str = "sizes") -> None:
        super().__init__(" ".join(messages))
        self.messages, self.field = messages, field


def render_sku(pattern: str, slug: str, size: str, colour: str) -> str:
    """``"{slug}-{size}-{colour}"`` for ``polo``, ``S``, ``navy blue`` →
    ``"POLO-S-NAVY-BLUE"``."""
    sku = pattern.replace("{slug}", slug).replace("{size}", size).replace("{colour}", colour)
    return re.sub(r"\s+", "-", sku.strip()).upper()


def _check_matrix(sizes: Sequence[str], colours: Sequence[str], pattern: str) -> None:
    if any(len(value) > MATRIX_VALUE_MAX_LENGTH for value in (*sizes, *colours)):
        raise VariantsRefused([str(_l("Sizes and colours are at most 32 characters each."))])
    if len(sizes) * len(colours) > MAX_MATRIX:
        raise VariantsRefused([str(_l("At most %(n)d combinations at once.", n=MAX_MATRIX))])
    if "{size}" not in pattern or "{colour}" not in pattern:
        raise VariantsRefused(
            [str(_l("The pattern needs both {size} and {colour}."))], field="pattern"
        )


def _check_skus(session: Session, skus: Sequence[str]) -> None:
    """Every SKU valid (``rules.sku_problem``), none twice, none already used."""
    errors: list[str] = []
    seen: set[str] = set()
    for sku in skus:
        if sku_problem(sku) is not None:
            errors.append(str(_l("“%(sku)s” is not a valid SKU.", sku=sku)))
        elif sku in seen:
            errors.append(str(_l("The pattern gives “%(sku)s” twice.", sku=sku)))
        seen.add(sku)
    if not errors and skus:
        taken = session.scalars(sa.select(Variant.sku).where(Variant.sku.in_(skus))).all()
        errors.extend(str(_l("SKU “%(sku)s” is already used.", sku=sku)) for sku in taken)
    if errors:
        raise VariantsRefused(errors)


def generate_variants(
    session: Session, product: Product, sizes: Sequence[str], colours: Sequence[str], pattern: str
) -> list[str]:
    """A variant for each size × colour the product lacks, its SKU from ``pattern``
    (``{slug}``, ``{size}``, ``{colour}``), after those it has. Returns the new SKUs
    (none when every combination exists); ``VariantsRefused`` changes nothing."""
    _check_matrix(sizes, colours, pattern)
    existing = {(variant.size, variant.colour) for variant in product.variants}
    missing = [(s, c) for s in sizes for c in colours if (s, c) not in existing]
    skus = [render_sku(pattern, product.slug, size, colour) for size, colour in missing]
    _check_skus(session, skus)
    position = max((v.position for v in product.variants), default=-1) + 1
    for offset, ((size, colour), sku) in enumerate(zip(missing, skus, strict=True)):
        product.variants.append(
            Variant(sku=sku, size=size, colour=colour, position=position + offset)
        )
    refresh_search_text(product)
    session.flush()
    return skus


# --- the category tree -------------------------------------------------------------------


def descendant_ids(session: Session, category_id: int) -> set[int]:
    """The ids of every category below ``category_id``, at any depth."""
    found: set[int] = set()
    frontier = {category_id}
    while frontier:
        children = set(
            session.scalars(sa.select(Category.id).where(Category.parent_id.in_(frontier)))
        )
        frontier = children - found
        found |= children
    return found


def impossible_parent_ids(session: Session, category: Category | None) -> set[int]:
    """Where ``category`` may not move: under itself or one of its subcategories (a new
    category may go anywhere)."""
    if category is None:
        return set()
    return {category.id} | descendant_ids(session, category.id)


def may_move_under(session: Session, category: Category, parent_id: int | None) -> bool:
    """Whether ``category`` may have ``parent_id`` as its parent (``None``: top level)."""
    return parent_id is None or parent_id not in impossible_parent_ids(session, category)
