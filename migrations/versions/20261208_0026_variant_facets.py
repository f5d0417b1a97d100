"""The filter menus' sizes and colours as a table of their own, kept by the database.

- ``variant_facet``: (``kind``, ``value``), ``kind`` ``'size'`` or ``'colour'``, one row
  per distinct size and colour any variant has, the primary key in that order: the
  listing's menus read at most 60 of each kind by the key (~36 rows for the bench
  catalogue) instead of skipping through the variant indexes once per value.
- Triggers on ``variant`` (an insert; an update of ``size`` or ``colour``) add the new
  values with ``ON CONFLICT DO NOTHING``, whoever writes the variants (admin, CSV import,
  seeds, plain SQL): a value that is there already is neither written nor locked, so
  writers of variants never wait for each other over it. On PostgreSQL the insert trigger
  runs once per statement and adds the statement's distinct values in key order (a bulk
  insert of thousands of variants is one small insert here). The triggers never delete:
  a value no variant has any more stays until ``shop.catalog.facets.prune_facets`` (a
  periodic job) removes it.
- A backfill from the variants there are.

Revision ID: 0026_variant_facets
Revises: 0025_group_buys
Create Date: 2026-12-08 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0026_variant_facets"
down_revision = "0025_group_buys"
branch_labels = None
depends_on = None

BACKFILL = """
INSERT INTO variant_facet (kind, value)
SELECT DISTINCT 'size', size FROM variant
UNION
SELECT DISTINCT 'colour', colour FROM variant"""

SQLITE_TRIGGERS = {
    "variant_facet_after_insert": """
        CREATE TRIGGER variant_facet_after_insert AFTER INSERT ON variant BEGIN
            INSERT INTO variant_facet (kind, value)
            VALUES ('size', NEW.size), ('colour', NEW.colour)
            ON CONFLICT (kind, value) DO NOTHING;
        END""",
    "variant_facet_after_update": """
        CREATE TRIGGER variant_facet_after_update AFTER UPDATE OF size, colour ON variant
        BEGIN
            INSERT INTO variant_facet (kind, value)
            VALUES ('size', NEW.size), ('colour', NEW.colour)
            ON CONFLICT (kind, value) DO NOTHING;
        END""",
}

# One insert per statement, of its distinct values in key order: two statements adding
# the same new values take them in the same order.
PG_INSERT_FUNCTION = """
CREATE FUNCTION variant_facet_add_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO variant_facet (kind, value)
    SELECT kind, value FROM (
        SELECT 'size' AS kind, size AS value FROM inserted_variants
        UNION
        SELECT 'colour', colour FROM inserted_variants
    ) AS added
    ORDER BY kind, value
    ON CONFLICT (kind, value) DO NOTHING;
    RETURN NULL;
END $$"""
PG_INSERT_TRIGGER = """
CREATE TRIGGER variant_facet_add_inserted
AFTER INSERT ON variant REFERENCING NEW TABLE AS inserted_variants
FOR EACH STATEMENT EXECUTE FUNCTION variant_facet_add_inserted()"""
# A transition table cannot go with a column list: an update is one row at a time, and
# only of the rows whose size or colour changed (never a stock update's).
PG_UPDATE_FUNCTION = """
CREATE FUNCTION variant_facet_add_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO variant_facet (kind, value)
    VALUES ('colour', NEW.colour), ('size', NEW.size)
    ON CONFLICT (kind, value) DO NOTHING;
    RETURN NULL;
END $$"""
PG_UPDATE_TRIGGER = """
CREATE TRIGGER variant_facet_add_updated
AFTER UPDATE OF size, colour ON variant
FOR EACH ROW
WHEN (OLD.size IS DISTINCT FROM NEW.size OR OLD.colour IS DISTINCT FROM NEW.colour)
EXECUTE FUNCTION variant_facet_add_updated()"""


def upgrade() -> None:
    op.create_table(
        "variant_facet",
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("value", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("kind", "value", name=op.f("pk_variant_facet")),
    )
    if op.get_bind().dialect.name == "postgresql":
        for statement in (PG_INSERT_FUNCTION, PG_INSERT_TRIGGER):
            op.execute(statement)
        for statement in (PG_UPDATE_FUNCTION, PG_UPDATE_TRIGGER):
            op.execute(statement)
    else:
        for statement in SQLITE_TRIGGERS.values():
            op.execute(sa.text(statement))
    op.execute(BACKFILL)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER variant_facet_add_updated ON variant")
        op.execute("DROP FUNCTION variant_facet_add_updated()")
        op.execute("DROP TRIGGER variant_facet_add_inserted ON variant")
        op.execute("DROP FUNCTION variant_facet_add_inserted()")
    else:
        for trigger in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER {trigger}")
    op.drop_table("variant_facet")
