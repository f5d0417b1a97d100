"""A school's uniform list as a parent sees it: the items a child of a grade and gender
needs, grouped by season, priced in the school's currency, with sizes to choose.

Plain functions over the session and the models; no request.
"""

from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from shop.cart.rules import InvalidQuantity, parse_quantity
from shop.catalog import pricing
from shop.catalog.models import PriceTier, Product, ProductImage
from shop.inputs import parse_id
from shop.locales import localized
from shop.schools import sizing
from shop.schools.models import SEASONS, School, UniformItem

PARENT_GENDERS = ("boys", "girls")


@dataclass(frozen=True)
class SizeChoice:
    """One option of an item's size select: a variant, labelled by size (and colour)."""

    variant_id: int
    size: str
    colour: str
    orderable: bool


@dataclass(frozen=True)
class ItemRow:
    """An item as the school page shows it."""

    item: UniformItem
    product: Product
    name: str
    currency: str
    school_price_amount: int | None
    tiers: list[pricing.TierRange]
    several_colours: bool
    choices: list[SizeChoice]
    advice: sizing.Advice | None

    @property
    def default_quantity(self) -> int:
        return self.item.quantity_per_child if self.item.required else 0

    @property
    def base_amount(self) -> int | None:
        return pricing.unit_amount(self.tiers[0] if self.tiers else None, self.school_price_amount)

    @property
    def lowest_amount(self) -> int | None:
        if self.school_price_amount is not None:
            return None
        return pricing.lowest_unit_amount(self.tiers)

    @property
    def picture(self) -> ProductImage | None:
        """The product's first image (the school list shows its thumbnail)."""
        return self.product.images[0] if self.product.images else None

    @property
    def recommended_variant_id(self) -> int | None:
        """The first orderable variant of the recommended size."""
        if self.advice is None or self.advice.size is None:
            return None
        for choice in self.choices:
            if choice.size == self.advice.size and choice.orderable:
                return choice.variant_id
        return None

    def choice(self, variant_id: int | None) -> SizeChoice | None:
        return next((c for c in self.choices if c.variant_id == variant_id), None)


@dataclass(frozen=True)
class SeasonGroup:
    season: str
    rows: list[ItemRow]


def parse_grade(raw: str | None, school: School) -> str | None:
    """One of the school's grade labels, else ``None`` (every grade)."""
    return raw if raw and raw in (school.grades or []) else None


def parse_gender(raw: str | None) -> str | None:
    return raw if raw in PARENT_GENDERS else None


def filter_items(
    items: Iterable[UniformItem], grade: str | None, gender: str | None
) -> list[UniformItem]:
    return [item for item in items if item.applies_to(grade, gender)]


def group_by_season(rows: Iterable) -> list[SeasonGroup]:
    """Rows (anything with ``.item.season``, or items themselves) grouped summer, winter,
    PE; empty seasons left out; the list's order kept inside a season."""
    by_season: dict[str, list] = {season: [] for season in SEASONS}
    for row in rows:
        item = getattr(row, "item", row)
        by_season.setdefault(item.season, []).append(row)
    return [SeasonGroup(season, found) for season, found in by_season.items() if found]


def missing_required(
    items: Iterable[UniformItem],
    grade: str | None,
    gender: str | None,
    chosen_product_ids: Iterable[int],
) -> list[UniformItem]:
    """The required items a child of ``grade`` and ``gender`` needs that were not chosen."""
    chosen = set(chosen_product_ids)
    return [
        item
        for item in filter_items(items, grade, gender)
        if item.required and item.product_id not in chosen
    ]


def load_items(session: Session, school: School) -> list[UniformItem]:
    """The school's list with products, variants and tiers in the school's currency, in
    a fixed number of queries; items of withdrawn products are left out."""
    items = session.scalars(
        sa.select(UniformItem)
        .join(Product, Product.id == UniformItem.product_id)
        .where(UniformItem.school_id == school.id, Product.active.is_(True))
        .order_by(UniformItem.position, UniformItem.id)
        .options(
            selectinload(UniformItem.product).selectinload(Product.variants),
            selectinload(UniformItem.product).selectinload(Product.images),
            selectinload(UniformItem.product).selectinload(
                Product.price_tiers.and_(PriceTier.currency == school.currency)
            ),
        )
    ).all()
    return list(items)


def size_choices(product: Product) -> list[SizeChoice]:
    return [
        SizeChoice(
            variant_id=variant.id,
            size=variant.size,
            colour=variant.colour,
            orderable=product.made_to_order or variant.available > 0,
        )
        for variant in product.variants
        if variant.for_sale
    ]


def build_rows(
    items: Iterable[UniformItem],
    *,
    currency: str,
    locale: str,
    height_cm: float | None = None,
    chest_cm: float | None = None,
    allowance_cm: int = 0,
) -> list[ItemRow]:
    """Rows for ``items``; with a height (or chest) each row carries the size advice."""
    rows = []
    for item in items:
        product = item.product
        tiers = [tier for tier in product.price_tiers if tier.currency == currency]
        advice = None
        if height_cm is not None or chest_cm is not None:
            advice = sizing.advise_size(product.size_chart, height_cm, chest_cm, allowance_cm)
        choices = size_choices(product)
        rows.append(
            ItemRow(
                item=item,
                product=product,
                name=localized(product, "name", locale),
                currency=currency,
                school_price_amount=item.school_price_amount,
                tiers=pricing.tier_ranges(tiers),
                several_colours=len({choice.colour for choice in choices}) > 1,
                choices=choices,
                advice=advice,
            )
        )
    return rows


# --- a child's kit, as posted ------------------------------------------------------------


@dataclass(frozen=True)
class KitProblem:
    """What is wrong with one item's choice (``code``: ``bad_quantity``, ``no_size``) or
    with the whole kit (``empty``, with no row)."""

    code: str
    row: ItemRow | None = None


@dataclass(frozen=True)
class KitChoice:
    """A parsed kit form: the variants and quantities to add, what the parent chose per
    item (to show the form again), and the problems found."""

    additions: dict[int, int]
    chosen_product_ids: set[int]
    selected: dict[int, int | None]  # item id → variant id
    quantities: dict[int, str]  # item id → the quantity as typed
    problems: list[KitProblem]


def variant_field(row: ItemRow) -> str:
    return f"variant-{row.item.id}"


def quantity_field(row: ItemRow) -> str:
    return f"qty-{row.item.id}"


def parse_kit(rows: Iterable[ItemRow], form) -> KitChoice:
    """Read ``variant-<item id>`` and ``qty-<item id>`` for the rows shown. A blank
    quantity counts as 0; a size is needed only for a quantity above 0."""
    additions: dict[int, int] = {}
    chosen: set[int] = set()
    selected: dict[int, int | None] = {}
    quantities: dict[int, str] = {}
    problems: list[KitProblem] = []
    for row in rows:
        variant_id = parse_id(form.get(variant_field(row)))
        raw_quantity = (form.get(quantity_field(row)) or "").strip()[:10]
        selected[row.item.id] = variant_id
        quantities[row.item.id] = raw_quantity
        try:
            quantity = parse_quantity(raw_quantity or "0", allow_zero=True)
        except InvalidQuantity:
            problems.append(KitProblem("bad_quantity", row))
            continue
        if quantity == 0:
            continue
        if variant_id is None or row.choice(variant_id) is None:
            problems.append(KitProblem("no_size", row))
            continue
        additions[variant_id] = additions.get(variant_id, 0) + quantity
        chosen.add(row.product.id)
    if not additions and not problems:
        problems.append(KitProblem("empty"))
    return KitChoice(additions, chosen, selected, quantities, problems)
