"""Search whose cost does not grow with the catalogue on PostgreSQL, and a version for the
synonyms.

- ``product_fts_terms`` (PostgreSQL only): the terms of each product's names, one row per
  (term, product) with the primary key in that order, so the products of one term are a
  walk of the key in product order that stops after the search's cap (the GIN indexes of
  0002 and 0014 build a bitmap of every match first). A term is a Latin word (a run of
  a-z and digits) or two neighbouring characters of a run of other characters (衬衫,
  ブレ), of the names in every language folded as ``shop.catalog.search.fold`` does (NFKC,
  lower case). Kept by a trigger on the name columns, whoever writes them; a product's
  rows go with it. Outside the models (its name starts with ``product_fts``).
  SQLite needs none: its FTS5 tables are walked in product order already.
- ``search_synonym_version``: one row whose ``version`` every write to ``search_synonym``
  changes (a trigger: staff edits, migrations, plain SQL), so a process may keep the
  synonyms and know when they changed from the search statement itself. A random
  number, not a counter: a database rebuilt from empty never repeats a version that a
  process may still hold.

Revision ID: 0021_search_terms
Revises: 0020_translations
Create Date: 2026-12-05 13:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0021_search_terms"
down_revision = "0020_translations"
branch_labels = None
depends_on = None

# Must cut a name exactly as ``shop.catalog.search.walk_term`` looks a term up.
PG_TERMS_FUNCTION = r"""
CREATE FUNCTION product_name_terms(name text, name_zh text, name_ja text) RETURNS text[]
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    WITH folded(names) AS (
        SELECT lower(normalize(concat_ws(' ', name, name_zh, name_ja), NFKC))
    ),
    runs(run) AS (
        SELECT match[1] FROM folded, regexp_matches(names, '[^\x01-\x7f]{2,}', 'g') AS match
    )
    SELECT coalesce(array_agg(DISTINCT term ORDER BY term), '{}')
    FROM (
        SELECT match[1] FROM folded, regexp_matches(names, '[a-z0-9]+', 'g') AS match
        UNION ALL
        SELECT substr(run, i, 2) FROM runs, generate_series(1, length(run) - 1) AS i
    ) AS terms(term)
    WHERE length(term) <= 60
$$"""
# On an update the old terms go by the primary key; sorted, so two transactions writing
# the same terms take their locks in the same order.
PG_TERMS_TRIGGER_FUNCTION = """
CREATE FUNCTION product_fts_terms_refresh() RETURNS trigger LANGUAGE plpgsql AS $$
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
PG_TERMS_TRIGGER = """
CREATE TRIGGER product_fts_terms_refresh
AFTER INSERT OR DELETE OR UPDATE OF name, name_zh, name_ja ON product
FOR EACH ROW EXECUTE FUNCTION product_fts_terms_refresh()"""
PG_TERMS_BACKFILL = """
INSERT INTO product_fts_terms (term, product_id)
SELECT terms.term, product.id
FROM product
CROSS JOIN LATERAL unnest(product_name_terms(name, name_zh, name_ja)) AS terms(term)"""

# A random version, not a counter: see the docstring.
NEW_VERSION = {
    "sqlite": "random()",
    "postgresql": "floor(random() * 9007199254740991)::bigint",
}


def version_upsert(dialect: str) -> str:
    value = NEW_VERSION[dialect]
    return (
        f"INSERT INTO search_synonym_version (id, version) VALUES (1, {value}) "
        f"ON CONFLICT (id) DO UPDATE SET version = {value}"
    )


SQLITE_VERSION_TRIGGERS = {
    f"search_synonym_version_after_{event}": f"""
        CREATE TRIGGER search_synonym_version_after_{event} AFTER {event.upper()}
        ON search_synonym BEGIN
            {version_upsert("sqlite")};
        END"""
    for event in ("insert", "update", "delete")
}
PG_VERSION_FUNCTION = f"""
CREATE FUNCTION search_synonym_version_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    {version_upsert("postgresql")};
    RETURN NULL;
END $$"""
PG_VERSION_TRIGGER = """
CREATE TRIGGER search_synonym_version_bump
AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON search_synonym
FOR EACH STATEMENT EXECUTE FUNCTION search_synonym_version_bump()"""


def upgrade() -> None:
    op.create_table(
        "search_synonym_version",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_synonym_version")),
    )
    dialect = op.get_bind().dialect.name
    op.execute(version_upsert(dialect))
    if dialect != "postgresql":
        for statement in SQLITE_VERSION_TRIGGERS.values():
            op.execute(sa.text(statement))
        return
    op.execute(PG_VERSION_FUNCTION)
    op.execute(PG_VERSION_TRIGGER)

    op.create_table(
        "product_fts_terms",
        sa.Column("term", sa.String(length=60), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("term", "product_id", name=op.f("pk_product_fts_terms")),
    )
    op.execute(PG_TERMS_FUNCTION)
    op.execute(PG_TERMS_TRIGGER_FUNCTION)
    op.execute(PG_TERMS_TRIGGER)
    op.execute(PG_TERMS_BACKFILL)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER product_fts_terms_refresh ON product")
        op.execute("DROP FUNCTION product_fts_terms_refresh()")
        op.execute("DROP FUNCTION product_name_terms(text, text, text)")
        op.drop_table("product_fts_terms")
        op.execute("DROP TRIGGER search_synonym_version_bump ON search_synonym")
        op.execute("DROP FUNCTION search_synonym_version_bump()")
    else:
        for trigger in SQLITE_VERSION_TRIGGERS:
            op.execute(f"DROP TRIGGER {trigger}")
    op.drop_table("search_synonym_version")
