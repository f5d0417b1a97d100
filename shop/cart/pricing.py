"""``price_cart``: the one entry point that prices a cart, for the cart page, checkout
and order creation alike. Prices come from the catalogue, never from a form.

The tier is chosen by the total quantity of a product across all its sizes and colours.
"""

from collections import defaultdict
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from shop.cart.models import Cart, CartLine
from shop.cart.rules import Problem, line_problems, product_problems
from shop.catalog import pricing
from shop.catalog.models import PriceTier, Product, Variant
from shop.locales import localized


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
    if cart is None:
        return []
    return list(
        session.scalars(
            sa.select(CartLine)
            .where(CartLine.cart_id == cart.id)
            .order_by(CartLine.id)
            .options(selectinload(CartLine.variant).selectinload(Variant.product))
        )
    )


def price_cart(session: Session, cart: Cart | None, currency: str, locale: str) -> CartPricing:
    lines = load_lines(session, cart)
    by_product: dict[int, list[CartLine]] = defaultdict(list)
    for line in lines:
        by_product[line.variant.product_id].append(line)
    tiers_by_product: dict[int, list[PriceTier]] = defaultdict(list)
    if by_product:
        for tier in session.scalars(
            sa.select(PriceTier).where(
                PriceTier.product_id.in_(by_product), PriceTier.currency == currency
            )
        ):
            tiers_by_product[tier.product_id].append(tier)

    groups = []
    for product_id, product_lines in by_product.items():
        product = product_lines[0].variant.product
        groups.append(_price_group(product, product_lines, tiers_by_product[product_id], locale))
    total = sum(group.amount or 0 for group in groups)
    count = sum(group.quantity for group in groups)
    return CartPricing(currency=currency, groups=groups, total_amount=total, item_count=count)


def _price_group(product: Product, lines: list[CartLine], tiers, locale: str) -> ProductGroup:
    quantity = sum(line.quantity for line in lines)
    tier = pricing.select_tier(tiers, quantity) or pricing.base_tier(tiers)
    priced_lines = []
    for line in lines:
        variant = line.variant
        available = None if product.made_to_order else variant.available
        unit = tier.unit_amount if tier else None
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
                problems=line_problems(line.quantity, available=available),
            )
        )
    amount = tier.unit_amount * quantity if tier else None
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
            has_price=tier is not None,
        ),
    )
