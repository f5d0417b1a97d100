"""``price_lines`` prices what is being bought, for the cart page, checkout, order
creation and school roster orders alike (``price_cart`` is it for a cart). Prices come
from the catalogue, never from a form.

The tier is chosen by the total quantity of a product across all its sizes, colours and
children. A line bought for a child at a school whose uniform list gives the product a
school price (in the school's currency) is charged that price instead. A buyer marked for
a window that sets its own prices (``window``: ``shop.resellers.prices``) pays the
window's tiers for the products it prices, except on a child's school lines; such a line
keeps the factory's price for the same tier beside it (``factory_unit_amount``).
"""

from collections import defaultdict
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload
from sqlalchemy.orm.attributes import set_committed_value

from shop.cart.models import Cart, CartLine
from shop.cart.rules import Problem, line_problems, product_problems
from shop.catalog import pricing
from shop.catalog.models import PriceTier, Product, Variant
from shop.locales import localized
from shop.resellers import prices as window_prices


@dataclass(frozen=True)
class LineRequest:
    """Something to price: a variant and a quantity, and whom it is for."""

    variant: Variant
    quantity: int
    line_id: int | None = None  # the cart line, when pricing a cart
    school_id: int | None = None
    student_name: str = ""
    class_name: str = ""
    # Made to order although the product is stocked (a school's roster chose it for
    # pieces the shelf does not have; the product has a lead time): no stock is held.
    made_to_order: bool = False


@dataclass(frozen=True)
class PricedLine:
    variant_id: int
    sku: str
    size: str
    colour: str
    quantity: int
    available: int | None  # None: made to order
    unit_amount: int | None
    line_amount: int | None
    problems: list[Problem]
    line_id: int | None = None
    school_id: int | None = None
    student_name: str = ""
    class_name: str = ""
    school_price: bool = False  # charged the school's negotiated price
    made_to_order: bool = False  # this line only (see ``LineRequest.made_to_order``)
    factory_unit_amount: int | None = None  # at a window's price: the factory's own


@dataclass(frozen=True)
class ProductGroup:
    """One product's lines, priced together."""

    product_id: int
    slug: str
    name: str
    quantity: int
    tier: pricing.TierLike | None
    next_tier: pricing.NextTier | None
    amount: int | None
    made_to_order: bool
    lead_time_days: int | None
    lines: list[PricedLine]
    problems: list[Problem]

    @property
    def school_priced(self) -> bool:
        """Every line at a school's negotiated price: the tiers do not apply."""
        return all(line.school_price for line in self.lines)


@dataclass(frozen=True)
class CartPricing:
    currency: str
    groups: list[ProductGroup]
    total_amount: int
    item_count: int

    @property
    def can_checkout(self) -> bool:
        return bool(self.groups) and not any(
            group.problems or any(line.problems for line in group.lines) for group in self.groups
        )


def load_lines(session: Session, cart: Cart | None) -> list[CartLine]:
    """The cart's lines with their variants and products, in one query. They also become
    the cart's ``lines`` (the same rows, in the same order), so clearing the cart after
    placing an order loads nothing again."""
    if cart is None:
        return []
    loaded = _loaded_lines(cart)
    if loaded is not None:
        return loaded
    lines = list(
        session.scalars(
            sa.select(CartLine)
            .where(CartLine.cart_id == cart.id)
            .order_by(CartLine.id)
            .options(
                joinedload(CartLine.variant, innerjoin=True).joinedload(
                    Variant.product, innerjoin=True
                )
            )
        )
    )
    set_committed_value(cart, "lines", lines)
    return lines


def _loaded_lines(cart: Cart) -> list[CartLine] | None:
    """The cart's lines as ``get_cart`` loaded them, with their variants and products;
    ``None`` when they are not all there (or a line is not saved yet): then read again."""
    if "lines" in sa.inspect(cart).unloaded:
        return None
    lines = list(cart.lines)
    for line in lines:
        state = sa.inspect(line)
        if line.id is None or "variant" in state.unloaded or line.variant is None:
            return None
        if "product" in sa.inspect(line.variant).unloaded:
            return None
    return sorted(lines, key=lambda line: line.id)


def price_cart(
    session: Session,
    cart: Cart | None,
    currency: str,
    locale: str,
    window: "window_prices.PricingWindow | None" = None,
) -> CartPricing:
    requests = [
        LineRequest(
            variant=line.variant,
            quantity=line.quantity,
            line_id=line.id,
            school_id=line.school_id,
            student_name=line.student_name,
            class_name=line.class_name,
        )
        for line in load_lines(session, cart)
    ]
    return price_lines(session, requests, currency, locale, window)


def school_prices(
    session: Session, pairs: set[tuple[int, int]], currency: str
) -> dict[tuple[int, int], int]:
    """``{(school_id, product_id): unit_amount}`` for the schools' negotiated prices in
    ``currency`` (a school prices in its own currency only)."""
    from shop.schools.models import School, UniformItem  # schools build on the cart

    if not pairs:
        return {}
    rows = session.execute(
        sa.select(UniformItem.school_id, UniformItem.product_id, UniformItem.school_price_amount)
        .join(School, School.id == UniformItem.school_id)
        .where(
            UniformItem.school_id.in_({school_id for school_id, _ in pairs}),
            UniformItem.product_id.in_({product_id for _, product_id in pairs}),
            UniformItem.school_price_amount.is_not(None),
            School.currency == currency,
        )
        .order_by(UniformItem.id)
    )
    prices: dict[tuple[int, int], int] = {}
    for school_id, product_id, amount in rows:
        if amount is not None:  # the query asks for priced items only; for the type checker
            prices.setdefault((school_id, product_id), amount)
    return prices


_TIER = PriceTier.__table__
# Core, built once: every cart page and checkout step prices the cart, and tiers are plain
# values (``pricing.Tier``), so loading them as ORM objects would only cost time.
_TIERS = sa.select(_TIER.c.product_id, _TIER.c.min_quantity, _TIER.c.unit_amount).where(
    _TIER.c.product_id.in_(sa.bindparam("product_ids", expanding=True)),
    _TIER.c.currency == sa.bindparam("currency"),
)


def load_tiers(session: Session, product_ids, currency: str) -> dict[int, list[pricing.Tier]]:
    """``{product_id: [Tier, ...]}``, the products' price tiers in ``currency``."""
    tiers: dict[int, list[pricing.Tier]] = defaultdict(list)
    if product_ids:
        rows = session.execute(_TIERS, {"product_ids": list(product_ids), "currency": currency})
        for product_id, min_quantity, unit_amount in rows:
            tiers[product_id].append(pricing.Tier(min_quantity, unit_amount))
    return tiers


def price_lines(
    session: Session,
    requests: list[LineRequest],
    currency: str,
    locale: str,
    window: "window_prices.PricingWindow | None" = None,
) -> CartPricing:
    by_product: dict[int, list[LineRequest]] = defaultdict(list)
    for request in requests:
        by_product[request.variant.product_id].append(request)
    tiers_by_product = load_tiers(session, by_product, currency)
    negotiated = school_prices(
        session,
        {(r.school_id, r.variant.product_id) for r in requests if r.school_id is not None},
        currency,
    )
    own = window_prices.prices_by_id(session, window, by_product, currency) if window else {}

    groups = []
    for product_id, product_lines in by_product.items():
        product = product_lines[0].variant.product
        factory_tiers = tiers_by_product[product_id]
        reseller_tiers = (
            window_prices.scale_tiers(factory_tiers, own[product_id]) if product_id in own else None
        )
        groups.append(
            _price_group(product, product_lines, factory_tiers, negotiated, locale, reseller_tiers)
        )
    total = sum(group.amount or 0 for group in groups)
    count = sum(group.quantity for group in groups)
    return CartPricing(currency=currency, groups=groups, total_amount=total, item_count=count)


def _price_group(
    product: Product,
    lines: list[LineRequest],
    tiers,
    negotiated: dict,
    locale: str,
    reseller_tiers: list[pricing.Tier] | None = None,
) -> ProductGroup:
    quantity = sum(line.quantity for line in lines)
    tier = pricing.tier_for(tiers, quantity)
    factory_tier = None
    if reseller_tiers is not None:  # a window's price: its tier, the factory's beside it
        factory_tier, tiers = tier, reseller_tiers
        tier = pricing.tier_for(tiers, quantity)
    priced_lines = []
    # Pieces of each variant on the lines so far: two children in the same size share
    # the shelf, so a line gets what is left after the earlier ones.
    taken_before: dict[int, int] = {}
    for line in lines:
        variant = line.variant
        made_to_order = line.made_to_order and product.lead_time_days is not None
        available = None if product.made_to_order or made_to_order else variant.available
        before = taken_before.get(variant.id, 0)
        if available is not None:
            taken_before[variant.id] = before + line.quantity
        left = None if available is None else max(available - before, 0)
        school_unit = negotiated.get((line.school_id, product.id))
        factory_unit = None
        if factory_tier is not None and line.school_id is None:
            unit = pricing.unit_amount(tier, school_unit)
            factory_unit = factory_tier.unit_amount
        else:
            unit = pricing.unit_amount(factory_tier or tier, school_unit)
        priced_lines.append(
            PricedLine(
                variant_id=variant.id,
                sku=variant.sku,
                size=variant.size,
                colour=variant.colour,
                quantity=line.quantity,
                available=available,
                unit_amount=unit,
                line_amount=unit * line.quantity if unit is not None else None,
                problems=line_problems(line.quantity, available=left),
                line_id=line.line_id,
                school_id=line.school_id,
                student_name=line.student_name,
                class_name=line.class_name,
                school_price=school_unit is not None,
                made_to_order=made_to_order,
                factory_unit_amount=factory_unit,
            )
        )
    has_price = all(line.unit_amount is not None for line in priced_lines)
    amount = (
        sum(line.line_amount for line in priced_lines if line.line_amount is not None)
        if has_price
        else None
    )
    return ProductGroup(
        product_id=product.id,
        slug=product.slug,
        name=localized(product, "name", locale),
        quantity=quantity,
        tier=tier,
        next_tier=pricing.next_tier(tiers, quantity),
        amount=amount,
        made_to_order=product.made_to_order,
        lead_time_days=product.lead_time_days,
        lines=priced_lines,
        problems=product_problems(
            quantity,
            min_order_quantity=product.min_order_quantity,
            order_increment=product.order_increment,
            active=product.active,
            has_price=has_price,
        ),
    )
