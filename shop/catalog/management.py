"""Managing the catalogue: creating and editing products, duplicating one, replacing its
price tiers, generating and editing variants, and the category tree. Plain functions over
a ``Session`` that take the acting staff member and plain values: they flush, never
commit (the admin's views commit), and write the audit row in the same transaction as
the change. Refusals are ``ShopError`` subclasses.

Stock columns are never touched here (``shop.stock.allocation`` owns them): a duplicated
product's variants start with nothing on hand.
"""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from shop.accounts.models import User
from shop.audit.service import record, record_changes, snapshot
from shop.catalog.models import Category, PriceTier, Product, Variant
from shop.catalog.rules import sku_problem
from shop.catalog.search import refresh_category_products, refresh_search_text
from shop.db import assign_fields, value_taken
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
    "gender",
    "age_group",
    "active",
    "featured",
    "school_id",
)
# Stored as None when blank: no translation; gender and age group not said.
OPTIONAL_TEXT_FIELDS = (
    "name_zh",
    "name_ja",
    "description_zh",
    "description_ja",
    "gender",
    "age_group",
)
VARIANT_FIELDS = ("sku", "size", "colour", "low_stock_threshold", "for_sale")
CATEGORY_FIELDS = ("slug", "name", "name_zh", "name_ja", "parent_id")
MAX_MATRIX = 400  # size × colour combinations generated at once
MATRIX_VALUE_MAX_LENGTH = 32  # a size or colour


def _audit(
    session: Session, actor: User, action: str, target_type: str, target_id: int, **kw: Any
) -> None:
    record(
        session,
        actor_user_id=actor.id,
        action=action,
        target_type=target_type,
        target_id=target_id,
        **kw,
    )


# --- products ----------------------------------------------------------------------------


class SlugTaken(ShopError):
    message = "Another product already uses this slug."


def _apply_product(product: Product, values: Mapping[str, Any]) -> None:
    assign_fields(product, values, PRODUCT_FIELDS, OPTIONAL_TEXT_FIELDS)
    refresh_search_text(product)


def create_product(session: Session, actor: User, values: Mapping[str, Any]) -> Product:
    """A new product from ``values`` (``PRODUCT_FIELDS``; empty translations become
    ``None``). Raises ``SlugTaken``."""
    if value_taken(session, Product.slug, values["slug"], None):
        raise SlugTaken()
    product = Product(slug=values["slug"], name=values["name"])
    _apply_product(product, values)
    session.add(product)
    session.flush()
    _audit(
        session,
        actor,
        "product.create",
        "product",
        product.id,
        after=snapshot(product, PRODUCT_FIELDS),
    )
    return product


def update_product(
    session: Session, actor: User, product: Product, values: Mapping[str, Any]
) -> list[str]:
    """Save ``values`` (as for ``create_product``) on ``product``; returns the names of
    the fields that changed. Raises ``SlugTaken``."""
    if value_taken(session, Product.slug, values["slug"], product.id):
        raise SlugTaken()
    before = snapshot(product, PRODUCT_FIELDS)
    _apply_product(product, values)
    session.flush()
    return record_changes(
        session,
        actor_user_id=actor.id,
        action="product.update",
        target_type="product",
        target_id=product.id,
        before=before,
        after=snapshot(product, PRODUCT_FIELDS),
    )


def set_active(session: Session, actor: User, product: Product, active: bool) -> bool:
    """Put ``product`` on sale (``True``) or take it off; ``False`` if it already was."""
    if product.active == active:
        return False
    product.active = active
    session.flush()
    _audit(
        session,
        actor,
        "product.activate" if active else "product.deactivate",
        "product",
        product.id,
        before={"active": not active},
        after={"active": active},
    )
    return True


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


def tiers_snapshot(product: Product) -> dict[str, list[list[int]]]:
    """The product's tiers as the audit shows them: ``{currency: [[min, amount]]}``."""
    tiers: dict[str, list[list[int]]] = {}
    for tier in product.price_tiers:
        tiers.setdefault(tier.currency, []).append([tier.min_quantity, tier.unit_amount])
    return tiers


def duplicate_product(session: Session, actor: User, original: Product) -> Product:
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
    _audit(
        session,
        actor,
        "product.duplicate",
        "product",
        copy.id,
        before={"source_id": original.id, "source_slug": original.slug},
        after={
            **snapshot(copy, PRODUCT_FIELDS),
            "skus": [variant.sku for variant in copy.variants],
            "tiers": tiers_snapshot(copy),
        },
    )
    return copy


# --- price tiers -------------------------------------------------------------------------


def replace_tiers(
    session: Session,
    actor: User,
    product: Product,
    tiers: Mapping[str, Sequence[tuple[int, int]]],
) -> bool:
    """The product's tiers become ``{currency: [(min_quantity, unit_amount)]}`` (already
    checked with ``rules.tier_problems``); a currency not given has none. ``False`` if
    they already were."""
    before = tiers_snapshot(product)
    product.price_tiers.clear()
    session.flush()  # the old rows go first: (product, currency, min_quantity) is unique
    for currency, ladder in tiers.items():
        for min_quantity, amount in ladder:
            product.price_tiers.append(
                PriceTier(currency=currency, min_quantity=min_quantity, unit_amount=amount)
            )
    session.flush()
    after = tiers_snapshot(product)
    if before == after:
        return False
    _audit(session, actor, "product.tiers", "product", product.id, before=before, after=after)
    return True


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
    session: Session,
    actor: User,
    product: Product,
    sizes: Sequence[str],
    colours: Sequence[str],
    pattern: str,
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
    if skus:
        _audit(session, actor, "variant.generate", "product", product.id, after={"added": skus})
    return skus


class SkuTaken(ShopError):
    message = "Another variant already uses this SKU."


def update_variant(
    session: Session, actor: User, variant: Variant, values: Mapping[str, Any]
) -> bool:
    """Save ``sku`` (stored upper-case), ``low_stock_threshold`` and ``for_sale`` on
    ``variant``; ``False`` if nothing changed. Raises ``SkuTaken``."""
    sku = values["sku"].strip().upper()
    if value_taken(session, Variant.sku, sku, variant.id):
        raise SkuTaken()
    before = snapshot(variant, VARIANT_FIELDS)
    variant.sku = sku
    variant.low_stock_threshold = values["low_stock_threshold"]
    variant.for_sale = bool(values["for_sale"])
    refresh_search_text(variant.product)
    session.flush()
    after = snapshot(variant, VARIANT_FIELDS)
    if before == after:
        return False
    _audit(session, actor, "variant.update", "variant", variant.id, before=before, after=after)
    return True


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


class CategorySlugTaken(ShopError):
    message = "Another category already uses this slug."


class CategoryLoop(ShopError):
    message = "A category cannot move under itself or one of its subcategories."


class CategoryNotEmpty(ShopError):
    message = "Move or delete the category's products and subcategories first."


SEARCHED_CATEGORY_FIELDS = ("name", "name_zh", "name_ja", "parent_id")


def _apply_category(category: Category, values: Mapping[str, Any]) -> None:
    category.name = values["name"]
    category.name_zh = values.get("name_zh") or None
    category.name_ja = values.get("name_ja") or None
    category.slug = values["slug"]
    category.parent_id = values.get("parent_id") or None


def create_category(session: Session, actor: User, values: Mapping[str, Any]) -> Category:
    """A new category from ``values`` (``CATEGORY_FIELDS``; ``parent_id`` ``None`` or 0:
    top level). Raises ``CategorySlugTaken``."""
    if value_taken(session, Category.slug, values["slug"], None):
        raise CategorySlugTaken()
    category = Category(slug=values["slug"], name=values["name"])
    _apply_category(category, values)
    session.add(category)
    session.flush()
    _audit(
        session,
        actor,
        "category.create",
        "category",
        category.id,
        after=snapshot(category, CATEGORY_FIELDS),
    )
    return category


def update_category(
    session: Session, actor: User, category: Category, values: Mapping[str, Any]
) -> bool:
    """Save ``values`` (as for ``create_category``) on ``category``; ``False`` if nothing
    changed. Raises ``CategoryLoop`` (under itself or a subcategory) or
    ``CategorySlugTaken``."""
    if not may_move_under(session, category, values.get("parent_id") or None):
        raise CategoryLoop()
    if value_taken(session, Category.slug, values["slug"], category.id):
        raise CategorySlugTaken()
    before = snapshot(category, CATEGORY_FIELDS)
    _apply_category(category, values)
    session.flush()
    after = snapshot(category, CATEGORY_FIELDS)
    if before == after:
        return False
    if any(before[name] != after[name] for name in SEARCHED_CATEGORY_FIELDS):
        # Its names (and its parent's) are in its products' and its subcategories'
        # products' search text.
        refresh_category_products(session, {category.id} | descendant_ids(session, category.id))
    _audit(session, actor, "category.update", "category", category.id, before=before, after=after)
    return True


def is_empty(session: Session, category: Category) -> bool:
    """No product and no subcategory in ``category``."""
    has_product = sa.select(Product.id).where(Product.category_id == category.id)
    has_child = sa.select(Category.id).where(Category.parent_id == category.id)
    return (
        session.scalar(has_product.limit(1)) is None and session.scalar(has_child.limit(1)) is None
    )


def delete_category(session: Session, actor: User, category: Category) -> None:
    """Delete an empty category. Raises ``CategoryNotEmpty`` (nothing changes)."""
    if not is_empty(session, category):
        raise CategoryNotEmpty()
    _audit(
        session,
        actor,
        "category.delete",
        "category",
        category.id,
        before=snapshot(category, CATEGORY_FIELDS),
    )
    session.delete(category)
    session.flush()


# --- the product page's one save ---------------------------------------------------------


class VariantRowsRefused(ShopError):
    """Inline variant rows that cannot be saved: ``errors`` maps a variant id to what is
    wrong with its row (a SKU another variant uses)."""

    def __init__(self, errors: Mapping[int, list[str]]) -> None:
        super().__init__(" ".join(m for messages in errors.values() for m in messages))
        self.errors = dict(errors)


@dataclass(frozen=True)
class Matrix:
    """Sizes × colours to add, with the SKU pattern (``generate_variants``)."""

    sizes: Sequence[str]
    colours: Sequence[str]
    pattern: str


def _save_variant_rows(
    session: Session, actor: User, product: Product, rows: Mapping[int, Mapping[str, Any]]
) -> None:
    """``{variant id: {sku, low_stock_threshold, for_sale}}`` for the product's variants
    (ids that are not the product's are ignored). The SKUs are checked together first, so
    two rows may not end on the same SKU and a refusal changes nothing."""
    mine = {variant.id: variant for variant in product.variants}
    wanted = {vid: values for vid, values in rows.items() if vid in mine}
    errors: dict[int, list[str]] = {}
    seen: dict[str, int] = {}
    for vid, values in wanted.items():
        sku = values["sku"].strip().upper()
        if sku in seen:
            errors.setdefault(vid, []).append(str(_l("The SKU “%(sku)s” is on two rows.", sku=sku)))
        seen[sku] = vid
    if seen:
        holders = session.execute(
            sa.select(Variant.id, Variant.sku).where(Variant.sku.in_(list(seen)))
        ).all()
        for holder_id, sku in holders:
            if holder_id != seen[sku]:
                message = str(_l("Another variant already uses this SKU."))
                errors.setdefault(seen[sku], []).append(message)
    if errors:
        raise VariantRowsRefused(errors)
    for vid, values in wanted.items():
        variant = mine[vid]
        before = snapshot(variant, VARIANT_FIELDS)
        variant.sku = values["sku"].strip().upper()
        variant.low_stock_threshold = values["low_stock_threshold"]
        variant.for_sale = bool(values["for_sale"])
        after = snapshot(variant, VARIANT_FIELDS)
        if before != after:
            _audit(session, actor, "variant.update", "variant", vid, before=before, after=after)


def save_product(
    session: Session,
    actor: User,
    product: Product,
    *,
    values: Mapping[str, Any],
    tiers: Mapping[str, Sequence[tuple[int, int]]] | None = None,
    variants: Mapping[int, Mapping[str, Any]] | None = None,
    matrix: Matrix | None = None,
) -> None:
    """The product page's one save: details (``update_product``), the tier ladders
    (``replace_tiers``; ``None``: left as they are), the variant rows and new size ×
    colour combinations, in one transaction. Raises ``SlugTaken``, ``VariantRowsRefused``
    or ``VariantsRefused``; the caller rolls back, so a refusal changes nothing."""
    update_product(session, actor, product, values)
    if tiers is not None:
        replace_tiers(session, actor, product, tiers)
    if variants:
        _save_variant_rows(session, actor, product, variants)
    refresh_search_text(product)
    session.flush()
    if matrix is not None:
        generate_variants(session, actor, product, matrix.sizes, matrix.colours, matrix.pattern)
