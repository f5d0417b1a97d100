"""Catalogue indexes whose cost does not grow with the catalogue.

The shop's listings all filter on ``active`` and ``school_id IS NULL`` (school-only products
are sold in their school's shop only) and page in a fixed order. Three partial indexes on
``school_id IS NULL`` (SQLite and PostgreSQL both use a partial index when the query states
its condition), each led by ``active`` so both planners take it as an equality and walk the
rest of the index in the page's order, stopping after the page:

- ``ix_product_listing`` (active, featured, created_at, id): ``/products`` in its default
  order, and its capped count (at most 1,001 index entries, never the whole table).
- ``ix_product_listing_category`` (active, category_id, featured, created_at, id): a
  category page (``category_id IN (the category and its children)``) and its count.
- ``ix_product_listing_newest`` (active, created_at, id): ``sort=newest``.

``ix_product_active_featured_created`` (migration 0002) is dropped: ``ix_product_listing``
does its work and, unlike it, does not read school-only products.

Plain ``op.create_index``/``op.drop_index``, not batch mode: batch mode rebuilds ``product``
on SQLite and would drop its FTS triggers (see 0002).

Revision ID: 0013_catalogue_indexes
Revises: 0012_one_time_keys_and_card
Create Date: 2026-12-04 21:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0013_catalogue_indexes"
down_revision = "0012_one_time_keys_and_card"
branch_labels = None
depends_on = None

LISTED = sa.text("school_id IS NULL")
INDEXES = {
    "ix_product_listing": ["active", "featured", "created_at", "id"],
    "ix_product_listing_category": ["active", "category_id", "featured", "created_at", "id"],
    "ix_product_listing_newest": ["active", "created_at", "id"],
}


def upgrade() -> None:
    for name, columns in INDEXES.items():
        op.create_index(name, "product", columns, sqlite_where=LISTED, postgresql_where=LISTED)
    op.drop_index("ix_product_active_featured_created", table_name="product")


def downgrade() -> None:
    op.create_index(
        "ix_product_active_featured_created",
        "product",
        ["active", "featured", "created_at", "id"],
    )
    for name in reversed(INDEXES):
        op.drop_index(name, table_name="product")
