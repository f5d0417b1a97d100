"""Low stock, defined once: a variant is low when what is available (on hand less
allocated) is below its own ``low_stock_threshold``; a threshold of 0 never warns.

The admin's product list, stock list and dashboard all ask these, in SQL
(``variant_is_low``, ``product_has_low_stock``) or on a loaded variant (``is_low``).
"""

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from shop.catalog.models import Product, Variant


def available_column() -> ColumnElement[int]:
    """A variant's available stock as SQL (``Variant.available`` on a loaded row)."""
    return Variant.on_hand - Variant.allocated


def variant_is_low() -> ColumnElement[bool]:
    """The low-stock condition on ``Variant`` rows."""
    return sa.and_(
        Variant.low_stock_threshold > 0,
        available_column() < Variant.low_stock_threshold,
    )


def is_low(variant: Variant) -> bool:
    """``variant_is_low`` for a variant already loaded."""
    return variant.low_stock_threshold > 0 and variant.available < variant.low_stock_threshold


def product_has_low_stock() -> ColumnElement[bool]:
    """Products kept in stock (not made to order) with a for-sale variant that is low."""
    return sa.and_(
        Product.made_to_order.is_(False),
        sa.exists().where(
            Variant.product_id == Product.id, Variant.for_sale.is_(True), variant_is_low()
        ),
    )
