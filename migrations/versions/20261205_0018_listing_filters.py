"""Listing filters: a product's gender and age group, and variant indexes by size and colour.

- ``product.gender`` and ``product.age_group``: optional keys (``shop.catalog.attributes``)
  the listing filters on, set in the product form and the catalogue CSV.
- ``ix_product_listing_<column>`` for ``made_to_order``, ``min_order_quantity``,
  ``gender`` and ``age_group``: like ``ix_product_listing`` (0013, partial on
  ``school_id IS NULL``) with the filtered column after ``active``, so a filtered page in
  the default order, and its capped count, walk only the matching entries.
- ``ix_variant_size_product`` (size, product_id) and ``ix_variant_colour_product``
  (colour, product_id): "has a variant of this size/colour" is one index lookup per
  product the listing walks, and the filter menus read the distinct sizes and colours by
  skipping through these indexes (one lookup per value), never the whole table.

Plain ``op.add_column``/``op.create_index``, not batch mode: batch mode rebuilds
``product`` on SQLite and would drop its FTS triggers (see 0002).

Revision ID: 0018_listing_filters
Revises: 0017_search_synonyms
Create Date: 2026-12-05 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0018_listing_filters"
down_revision = "0017_search_synonyms"
branch_labels = None
depends_on = None


LISTED = sa.text("school_id IS NULL")
FILTER_COLUMNS = ("made_to_order", "min_order_quantity", "gender", "age_group")


def upgrade() -> None:
    op.add_column("product", sa.Column("gender", sa.String(16), nullable=True))
    op.add_column("product", sa.Column("age_group", sa.String(16), nullable=True))
    op.create_index("ix_variant_size_product", "variant", ["size", "product_id"])
    op.create_index("ix_variant_colour_product", "variant", ["colour", "product_id"])
    for column in FILTER_COLUMNS:
        op.create_index(
            f"ix_product_listing_{column}",
            "product",
            ["active", column, "featured", "created_at", "id"],
            sqlite_where=LISTED,
            postgresql_where=LISTED,
        )


def downgrade() -> None:
    for column in reversed(FILTER_COLUMNS):
        op.drop_index(f"ix_product_listing_{column}", table_name="product")
    op.drop_index("ix_variant_colour_product", table_name="variant")
    op.drop_index("ix_variant_size_product", table_name="variant")
    # SQLite 3.35+ drops a column in place (batch mode would rebuild the table).
    op.drop_column("product", "age_group")
    op.drop_column("product", "gender")
