"""Listing and search indexes.

- product(active, featured, created_at, id): the default listing order is an index walk.
- product(category_id, active): category pages count without visiting every product.
- A trigram index over product.search_text for substring search of 3+ characters:
  PostgreSQL's pg_trgm GIN index; on SQLite an FTS5 ``trigram`` table with the product
  ids as rowids, kept in step by triggers. Neither is in the models (see
  shop.catalog.models.SEARCH_FTS_TABLE); autogenerate is told to leave them alone.

Beware on SQLite: a later batch migration that recreates ``product`` drops the triggers;
such a migration must recreate them (the search tests fail if it does not).

Revision ID: 0002_search_indexes
Revises: 0001_catalogue
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_search_indexes"
down_revision = "0001_catalogue"
branch_labels = None
depends_on = None

FTS_TRIGGERS = {
    "product_fts_after_insert": """
        CREATE TRIGGER product_fts_after_insert AFTER INSERT ON product BEGIN
            INSERT INTO product_fts(rowid, search_text) VALUES (new.id, new.search_text);
        END""",
    "product_fts_after_delete": """
        CREATE TRIGGER product_fts_after_delete AFTER DELETE ON product BEGIN
            INSERT INTO product_fts(product_fts, rowid, search_text)
            VALUES ('delete', old.id, old.search_text);
        END""",
    "product_fts_after_update": """
        CREATE TRIGGER product_fts_after_update AFTER UPDATE OF search_text ON product BEGIN
            INSERT INTO product_fts(product_fts, rowid, search_text)
            VALUES ('delete', old.id, old.search_text);
            INSERT INTO product_fts(rowid, search_text) VALUES (new.id, new.search_text);
        END""",
}


def upgrade() -> None:
    with op.batch_alter_table("product", schema=None) as batch_op:
        batch_op.create_index(
            "ix_product_active_featured_created",
            ["active", "featured", "created_at", "id"],
            unique=False,
        )
        batch_op.create_index("ix_product_category_active", ["category_id", "active"], unique=False)

    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute(
            "CREATE INDEX ix_product_search_trgm ON product USING gin (search_text gin_trgm_ops)"
        )
        return
    op.execute(
        "CREATE VIRTUAL TABLE product_fts USING fts5("
        "search_text, content='product', content_rowid='id', tokenize='trigram')"
    )
    for statement in FTS_TRIGGERS.values():
        op.execute(sa.text(statement))
    op.execute("INSERT INTO product_fts(product_fts) VALUES ('rebuild')")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX ix_product_search_trgm")
    else:
        for trigger in FTS_TRIGGERS:
            op.execute(f"DROP TRIGGER {trigger}")
        op.execute("DROP TABLE product_fts")
    with op.batch_alter_table("product", schema=None) as batch_op:
        batch_op.drop_index("ix_product_category_active")
        batch_op.drop_index("ix_product_active_featured_created")
