"""The listing's indexes hold what a listing's walk checks, so it reads them alone.

``ix_product_listing`` and ``ix_product_listing_category`` (0013) are partial on
``school_id IS NULL``. PostgreSQL knows an entry of such an index meets that condition and
reads a listing's capped count from the index alone. SQLite checks the condition again on
every row, and ``school_id`` was not in the index, so it read the table row of each of the
count's up to 1,001 entries (~0.2 ms a page). With ``school_id`` as the last column, the
index covers the statement on both databases; the walk's order is unchanged.

A category with children (``category_id IN (…)``) is listed by a walk of
``ix_product_listing`` in the page's order that skips other categories' products: with
``category_id`` in that index, both databases check it in the index, and the products
skipped (before the page, or of other categories) are never read from the table.

Plain ``op.create_index``/``op.drop_index`` (not batch mode, which would rebuild
``product`` on SQLite and drop its FTS triggers: see 0002).

Revision ID: 0027_covering_listing_indexes
Revises: 0026_variant_facets
Create Date: 2026-12-09 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0027_covering_listing_indexes"
down_revision = "0026_variant_facets"
branch_labels = None
depends_on = None

LISTED = sa.text("school_id IS NULL")
BEFORE = {
    "ix_product_listing": ["active", "featured", "created_at", "id"],
    "ix_product_listing_category": ["active", "category_id", "featured", "created_at", "id"],
}
AFTER = {
    "ix_product_listing": [*BEFORE["ix_product_listing"], "category_id", "school_id"],
    "ix_product_listing_category": [*BEFORE["ix_product_listing_category"], "school_id"],
}


def _recreate(indexes: dict[str, list[str]]) -> None:
    for name, columns in indexes.items():
        op.drop_index(name, table_name="product")
        op.create_index(name, "product", columns, sqlite_where=LISTED, postgresql_where=LISTED)


def upgrade() -> None:
    _recreate(AFTER)


def downgrade() -> None:
    _recreate(BEFORE)
