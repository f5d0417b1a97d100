"""A search's walk of the name terms without reading ``product`` (PostgreSQL only).

A search for one word walks ``product_fts_terms`` (0021) newest first and stops at the
cap (301). It read each walked product by its primary key for what the candidates are
ranked and filtered by: listed (active, not a school's own), featured, created_at. Each
row now carries those, kept by the terms' trigger on every write of them, and a partial
index holds the listed rows with the keys (``ix_product_fts_terms_listed``): a plain
search's walk reads a few index pages where it read 301 products. SQLite needs none.

Revision ID: 0029_search_term_keys
Revises: 0028_listing_version
Create Date: 2026-12-11 10:00:00
"""

from alembic import op

revision = "0029_search_term_keys"
down_revision = "0028_listing_version"
branch_labels = None
depends_on = None

LISTED_INDEX = "ix_product_fts_terms_listed"

# The terms of a product's names, as 0021 cut them, now with its keys. The old terms go
# only when a name changed (else every term stays and its keys are updated in place); the
# terms are sorted (``product_name_terms``), so two transactions writing the same terms
# take their locks in the same order.
PG_TERMS_TRIGGER_FUNCTION = """
CREATE OR REPLACE FUNCTION product_fts_terms_refresh() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND (OLD.name, OLD.name_zh, OLD.name_ja)
            IS DISTINCT FROM (NEW.name, NEW.name_zh, NEW.name_ja)) THEN
        DELETE FROM product_fts_terms
        WHERE product_id = OLD.id
          AND term = ANY(product_name_terms(OLD.name, OLD.name_zh, OLD.name_ja));
    END IF;
    IF TG_OP <> 'DELETE' THEN
        INSERT INTO product_fts_terms (term, product_id, listed, featured, created_at)
        SELECT term, NEW.id, NEW.active AND NEW.school_id IS NULL, NEW.featured,
               NEW.created_at
        FROM unnest(product_name_terms(NEW.name, NEW.name_zh, NEW.name_ja)) AS terms(term)
        ON CONFLICT (term, product_id) DO UPDATE
        SET listed = excluded.listed, featured = excluded.featured,
            created_at = excluded.created_at;
    END IF;
    RETURN NULL;
END $$"""
PG_TERMS_TRIGGER = """
CREATE TRIGGER product_fts_terms_refresh
AFTER INSERT OR DELETE
OR UPDATE OF name, name_zh, name_ja, active, school_id, featured, created_at ON product
FOR EACH ROW EXECUTE FUNCTION product_fts_terms_refresh()"""

# 0021's, for the downgrade.
OLD_TERMS_TRIGGER_FUNCTION = """
CREATE OR REPLACE FUNCTION product_fts_terms_refresh() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        DELETE FROM product_fts_terms
        WHERE product_id = OLD.id
          AND term = ANY(product_name_terms(OLD.name, OLD.name_zh, OLD.name_ja));
    END IF;
    IF TG_OP <> 'DELETE' THEN
        INSERT INTO product_fts_terms (term, product_id)
        SELECT term, NEW.id
        FROM unnest(product_name_terms(NEW.name, NEW.name_zh, NEW.name_ja)) AS terms(term)
        ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END $$"""
OLD_TERMS_TRIGGER = """
CREATE TRIGGER product_fts_terms_refresh
AFTER INSERT OR DELETE OR UPDATE OF name, name_zh, name_ja ON product
FOR EACH ROW EXECUTE FUNCTION product_fts_terms_refresh()"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("""
        ALTER TABLE product_fts_terms
            ADD COLUMN listed boolean NOT NULL DEFAULT false,
            ADD COLUMN featured boolean NOT NULL DEFAULT false,
            ADD COLUMN created_at timestamp with time zone""")
    op.execute("""
        UPDATE product_fts_terms AS terms
        SET listed = product.active AND product.school_id IS NULL,
            featured = product.featured, created_at = product.created_at
        FROM product WHERE product.id = terms.product_id""")
    op.execute(
        f"CREATE INDEX {LISTED_INDEX} ON product_fts_terms (term, product_id)"
        " INCLUDE (featured, created_at) WHERE listed"
    )
    op.execute("DROP TRIGGER product_fts_terms_refresh ON product")
    op.execute(PG_TERMS_TRIGGER_FUNCTION)
    op.execute(PG_TERMS_TRIGGER)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER product_fts_terms_refresh ON product")
    op.execute(OLD_TERMS_TRIGGER_FUNCTION)
    op.execute(OLD_TERMS_TRIGGER)
    op.execute(f"DROP INDEX {LISTED_INDEX}")
    op.execute("ALTER TABLE product_fts_terms DROP COLUMN listed, DROP COLUMN featured,"
               " DROP COLUMN created_at")
