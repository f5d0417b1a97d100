"""Catalogue rows for tests, built the way the shop builds them (search text included)."""

import itertools
from datetime import timedelta

from shop.catalog.models import Category, PriceTier, Product, ProductImage, Variant
from shop.catalog.search import refresh_search_text
from shop.db import utcnow

_numbers = itertools.count(1)


def make_category(session, slug=None, name=None, parent=None, **fields) -> Category:
    number = next(_numbers)
    category = Category(
        slug=slug or f"category-{number}",
        name=name or f"Category {number}",
        parent=parent,
        **fields,
    )
    session.add(category)
    session.flush()
    return category


def make_product(
    session,
    *,
    category=None,
    slug=None,
    name=None,
    tiers=((1, 8900),),
    currency="CNY",
    sizes=("130",),
    colours=("navy",),
    on_hand=10,
    age_days=0,
    images=0,
    **fields,
) -> Product:
    """A product with a variant per size × colour and CNY tiers ``(min_quantity, amount)``."""
    number = next(_numbers)
    slug = slug or f"product-{number}"
    product = Product(
        slug=slug,
        name=name or f"Product {number}",
        category=category or make_category(session),
        created_at=utcnow() - timedelta(days=age_days),
        **fields,
    )
    for position, (size, colour) in enumerate(itertools.product(sizes, colours)):
        product.variants.append(
            Variant(
                sku=f"T-{number}-{size}-{colour}".upper(),
                size=size,
                colour=colour,
                position=position,
                on_hand=on_hand,
            )
        )
    for min_quantity, amount in tiers:
        product.price_tiers.append(
            PriceTier(currency=currency, min_quantity=min_quantity, unit_amount=amount)
        )
    for position in range(images):
        product.images.append(
            ProductImage(
                path=f"products/{slug}-{position}.png",
                alt_text=f"{product.name} view {position}",
                width=800,
                height=800,
                position=position,
            )
        )
    refresh_search_text(product)
    session.add(product)
    session.flush()
    return product
