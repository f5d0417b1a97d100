"""Content in each market's words: image alt text in Chinese and Japanese, and the
indexes behind the admin's "Missing Chinese"/"Missing Japanese" product filters.

``product_image.alt_text_zh``/``alt_text_ja``: empty means "use the English alt text, or
the product's translated name". ``ix_product_missing_zh``/``ix_product_missing_ja``:
partial indexes on (created_at, id), the admin list's order, over the products whose name
or description lacks that language (``shop.catalog.models.MISSING_TRANSLATION``).

Revision ID: 0020_translations
Revises: 0019_school_time_zone
Create Date: 2026-12-05 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0020_translations"
down_revision = "0019_school_time_zone"
branch_labels = None
depends_on = None

# Written out here, not imported: a migration keeps the condition it was written with.
MISSING = {
    language: (
        f"name_{language} IS NULL OR name_{language} = '' OR ((description_{language} IS NULL"
        f" OR description_{language} = '') AND description <> '')"
    )
    for language in ("zh", "ja")
}


def upgrade() -> None:
    # Plain ALTER TABLE (SQLite 3.35+ and PostgreSQL alike): batch mode would copy the table.
    op.add_column("product_image", sa.Column("alt_text_zh", sa.String(length=255), nullable=True))
    op.add_column("product_image", sa.Column("alt_text_ja", sa.String(length=255), nullable=True))
    for language, condition in MISSING.items():
        op.create_index(
            f"ix_product_missing_{language}",
            "product",
            ["created_at", "id"],
            sqlite_where=sa.text(condition),
            postgresql_where=sa.text(condition),
        )


def downgrade() -> None:
    for language in MISSING:
        op.drop_index(f"ix_product_missing_{language}", table_name="product")
    op.drop_column("product_image", "alt_text_ja")
    op.drop_column("product_image", "alt_text_zh")
