"""A version of what listing pages show beside their products, so a process may keep it.

- ``listing_version``: one row (``id`` 1) whose ``version`` changes with every write to
  ``category`` or ``variant_facet`` (the menus), and with every write to ``product`` that
  changes which products a listing lists (an insert, a delete, a change of ``active``,
  ``category_id`` or ``school_id``), whoever writes (staff, the CSV import, the variant
  triggers of 0026, the facet prune, plain SQL). A listing page reads this one number
  beside its products and takes its category and filter menus, and its count, from the
  process's copy while it holds (``shop.catalog.listing``'s ``KeptListing``), instead of
  reading 24 categories and ~36 sizes and colours and counting up to 1,001 products on
  every page.
- A random number, not a counter, as ``search_synonym_version`` (0021): a database rebuilt
  from empty never repeats a version that a process may still hold.
- On PostgreSQL the triggers are constraint triggers deferred to the commit: the version
  row is locked only while a transaction commits, never while it goes on to wait for
  other rows (writers of new sizes or products would otherwise hold it from their first
  such write to their commit, and two imports could each wait for the other). The first
  of a transaction's triggers writes the row, the others see that it did (a setting local
  to the transaction): an import of 10,000 products writes it once. An insert of a value
  already there (``ON CONFLICT DO NOTHING``) inserts no row and fires nothing: writers of
  variants with known values, and of stock, never touch it.

Revision ID: 0028_listing_version
Revises: 0027_covering_listing_indexes
Create Date: 2026-12-10 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0028_listing_version"
down_revision = "0027_covering_listing_indexes"
branch_labels = None
depends_on = None

MENU_TABLES = ("category", "variant_facet")
LISTED_COLUMNS = ("active", "category_id", "school_id")
NEW_VERSION = {
    "sqlite": "random()",
    "postgresql": "floor(random() * 9007199254740991)::bigint",
}


def version_upsert(dialect: str) -> str:
    value = NEW_VERSION[dialect]
    return (
        f"INSERT INTO listing_version (id, version) VALUES (1, {value}) "
        f"ON CONFLICT (id) DO UPDATE SET version = {value}"
    )


def _changed(old_is_not_new: str) -> str:
    return " OR ".join(old_is_not_new.format(column=column) for column in LISTED_COLUMNS)


SQLITE_EVENTS = {
    **{(table, event): "" for table in MENU_TABLES for event in ("insert", "update", "delete")},
    ("product", "insert"): "",
    ("product", "delete"): "",
    ("product", "update"): f"OF {', '.join(LISTED_COLUMNS)} ON product WHEN "
    + _changed("OLD.{column} IS NOT NEW.{column}"),
}
SQLITE_TRIGGERS = {
    f"listing_version_after_{table}_{event}": f"""
        CREATE TRIGGER listing_version_after_{table}_{event} AFTER {event.upper()}
        {condition or f"ON {table}"}
        BEGIN
            {version_upsert("sqlite")};
        END"""
    for (table, event), condition in SQLITE_EVENTS.items()
}
BUMPED = "shop.listing_version_bumped"  # set, local to the transaction, once it bumped
PG_FUNCTION = f"""
CREATE FUNCTION listing_version_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('{BUMPED}', true) IS DISTINCT FROM 'yes' THEN
        {version_upsert("postgresql")};
        PERFORM set_config('{BUMPED}', 'yes', true);
    END IF;
    RETURN NULL;
END $$"""
# name → (table, what fires it, when)
PG_EVENTS = {
    **{
        f"listing_version_bump_{table}": (table, "INSERT OR UPDATE OR DELETE", "")
        for table in MENU_TABLES
    },
    "listing_version_bump_product": ("product", "INSERT OR DELETE", ""),
    "listing_version_bump_product_update": (
        "product",
        f"UPDATE OF {', '.join(LISTED_COLUMNS)}",
        f"WHEN ({_changed('OLD.{column} IS DISTINCT FROM NEW.{column}')})",
    ),
}
PG_TRIGGERS = {
    name: f"""
        CREATE CONSTRAINT TRIGGER {name} AFTER {events} ON {table}
        DEFERRABLE INITIALLY DEFERRED
        FOR EACH ROW {condition}
        EXECUTE FUNCTION listing_version_bump()"""
    for name, (table, events, condition) in PG_EVENTS.items()
}
# A constraint trigger cannot fire on TRUNCATE: an ordinary one, at once (no one truncates
# these tables while the shop runs; a test's reset might).
TRUNCATED = (*MENU_TABLES, "product")
PG_TRUNCATE_TRIGGERS = {
    f"listing_version_bump_{table}_truncate": f"""
        CREATE TRIGGER listing_version_bump_{table}_truncate AFTER TRUNCATE ON {table}
        FOR EACH STATEMENT EXECUTE FUNCTION listing_version_bump()"""
    for table in TRUNCATED
}


def upgrade() -> None:
    op.create_table(
        "listing_version",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_listing_version")),
    )
    dialect = op.get_bind().dialect.name
    op.execute(version_upsert(dialect))
    if dialect == "postgresql":
        op.execute(PG_FUNCTION)
        for statement in (*PG_TRIGGERS.values(), *PG_TRUNCATE_TRIGGERS.values()):
            op.execute(statement)
    else:
        for statement in SQLITE_TRIGGERS.values():
            op.execute(sa.text(statement))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name, (table, _events, _condition) in PG_EVENTS.items():
            op.execute(f"DROP TRIGGER {name} ON {table}")
        for table in TRUNCATED:
            op.execute(f"DROP TRIGGER listing_version_bump_{table}_truncate ON {table}")
        op.execute("DROP FUNCTION listing_version_bump()")
    else:
        for trigger in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER {trigger}")
    op.drop_table("listing_version")
