"""Variants written in plain SQL, as a script or another process would (the triggers on
``variant`` see them as any other write)."""

import sqlalchemy as sa

INSERT_VARIANT = sa.text(
    "INSERT INTO variant (product_id, sku, size, colour, position, on_hand, allocated,"
    " low_stock_threshold, for_sale) VALUES (:product_id, :sku, :size, :colour, 0, 0, 0, 5, :yes)"
)


def insert_variant(connection, product_id: int, sku: str, size: str, colour: str = "navy"):
    connection.execute(
        INSERT_VARIANT,
        {"product_id": product_id, "sku": sku, "size": size, "colour": colour, "yes": True},
    )
