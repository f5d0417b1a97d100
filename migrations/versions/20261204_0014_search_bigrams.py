"""Search for one- and two-character terms, and price and name sorts, by index.

- A gram index for terms too short for the trigram indexes of 0002 (衬衫, 校服, 裤, "xl"):
  every character and every two-character substring of ``product.search_text`` (those with
  a space or a newline left out: a term never holds one) is a token.
  SQLite: a contentless FTS5 table ``product_fts_grams`` (``detail=none``: product ids
  only) whose tokens are the grams hex-encoded (so the ``ascii`` tokenizer keeps every one
  whole), its rowid the product's id, kept in step by triggers that cut ``search_text`` with
  plain SQL (``json_each`` over a run of zeros gives the positions). PostgreSQL: the
  immutable function ``product_search_grams(text)`` and a GIN index on it.
- ``product_sort_price``: each product's base price per currency (the unit amount of its
  lowest-``min_quantity`` tier), kept by triggers on ``price_tier`` whoever writes the
  tiers (admin, CSV import, seeds, plain SQL), with an index (currency, amount,
  product_id): ``sort=price_asc``/``price_desc`` walk it and stop after the page.
- ``ix_product_listing_name`` (+ ``_zh``, ``_ja``): the localized name the listing sorts
  by (``coalesce(name_zh, name)``), partial on ``school_id IS NULL`` like the 0013 indexes.

Beware on SQLite, as with 0002: a later batch migration that recreates ``product`` or
``price_tier`` drops their triggers and must recreate them (``GRAM_TRIGGERS``,
``SORT_PRICE_TRIGGERS`` here); the search and sort tests fail if it does not. Plain
``op.create_index``, no batch mode.

Revision ID: 0014_search_bigrams
Revises: 0013_catalogue_indexes
Create Date: 2026-12-04 22:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0014_search_bigrams"
down_revision = "0013_catalogue_indexes"
branch_labels = None
depends_on = None

LISTED = sa.text("school_id IS NULL")
NAME_INDEXES = {
    "ix_product_listing_name": ["active", "name", "id"],
    # Expressions: outside the models (shop.catalog.models.SORT_NAME_INDEXES).
    "ix_product_listing_name_zh": [sa.text(c) for c in ("active", "coalesce(name_zh, name)", "id")],
    "ix_product_listing_name_ja": [sa.text(c) for c in ("active", "coalesce(name_ja, name)", "id")],
}


def sqlite_grams(text: str) -> str:
    """SQL for the space-separated hex tokens of ``text``: for each position, the
    character there and the two characters from there (only the character at the end).
    Must give exactly what ``shop.catalog.search.gram_token`` looks for.

    ``json_each`` over ``[0,0,…]`` (one element per character) gives the positions; no
    ``length()`` per position, which would count the characters again each time."""
    positions = f"json_each('[0' || replace(hex(zeroblob(length({text}) - 1)), '00', ',0') || ']')"
    return f"""(
        SELECT group_concat(
            CASE
                WHEN c1 IN ('', ' ', char(10)) THEN NULL
                WHEN c2 IN (' ', char(10)) THEN hex(c1)
                ELSE hex(gram) || ' ' || hex(c1)
            END, ' ')
        FROM (
            SELECT gram, substr(gram, 1, 1) AS c1, substr(gram, 2, 1) AS c2
            FROM (SELECT DISTINCT substr({text}, key + 1, 2) AS gram FROM {positions})
        )
    )"""


GRAM_TRIGGERS = {
    "product_fts_grams_after_insert": f"""
        CREATE TRIGGER product_fts_grams_after_insert AFTER INSERT ON product BEGIN
            INSERT INTO product_fts_grams(rowid, grams)
            VALUES (new.id, {sqlite_grams("new.search_text")});
        END""",
    "product_fts_grams_after_delete": f"""
        CREATE TRIGGER product_fts_grams_after_delete AFTER DELETE ON product BEGIN
            INSERT INTO product_fts_grams(product_fts_grams, rowid, grams)
            VALUES ('delete', old.id, {sqlite_grams("old.search_text")});
        END""",
    "product_fts_grams_after_update": f"""
        CREATE TRIGGER product_fts_grams_after_update AFTER UPDATE OF search_text ON product
        BEGIN
            INSERT INTO product_fts_grams(product_fts_grams, rowid, grams)
            VALUES ('delete', old.id, {sqlite_grams("old.search_text")});
            INSERT INTO product_fts_grams(rowid, grams)
            VALUES (new.id, {sqlite_grams("new.search_text")});
        END""",
}

PG_GRAMS_FUNCTION = r"""
CREATE FUNCTION product_search_grams(search_text text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE COST 10000 AS $$
    SELECT coalesce(array_agg(DISTINCT gram), '{}')
    FROM (
        SELECT c, c || coalesce(lead(c) OVER (ORDER BY i), '') AS pair
        FROM unnest(string_to_array(search_text, NULL)) WITH ORDINALITY AS chars(c, i)
    ) AS pairs
    CROSS JOIN LATERAL (VALUES (c), (pair)) AS grams(gram)
    WHERE strpos(gram, ' ') = 0 AND strpos(gram, E'\n') = 0
$$"""


def sqlite_sort_price_refresh(row: str) -> str:
    return f"""
            DELETE FROM product_sort_price
            WHERE product_id = {row}.product_id AND currency = {row}.currency;
            INSERT INTO product_sort_price (product_id, currency, amount)
            SELECT product_id, currency, unit_amount FROM price_tier
            WHERE product_id = {row}.product_id AND currency = {row}.currency
            ORDER BY min_quantity LIMIT 1;"""


SORT_PRICE_TRIGGERS = {
    "price_tier_sort_after_insert": f"""
        CREATE TRIGGER price_tier_sort_after_insert AFTER INSERT ON price_tier BEGIN
            {sqlite_sort_price_refresh("new")}
        END""",
    "price_tier_sort_after_delete": f"""
        CREATE TRIGGER price_tier_sort_after_delete AFTER DELETE ON price_tier BEGIN
            {sqlite_sort_price_refresh("old")}
        END""",
    "price_tier_sort_after_update": f"""
        CREATE TRIGGER price_tier_sort_after_update AFTER UPDATE ON price_tier BEGIN
            {sqlite_sort_price_refresh("old")}
            {sqlite_sort_price_refresh("new")}
        END""",
}

# PostgreSQL: an upsert, so two transactions changing one product's tiers cannot collide.
PG_SORT_PRICE_FUNCTIONS = (
    """
CREATE FUNCTION product_sort_price_refresh(p_product_id integer, p_currency varchar)
RETURNS void LANGUAGE sql AS $$
    INSERT INTO product_sort_price (product_id, currency, amount)
    SELECT product_id, currency, unit_amount FROM price_tier
    WHERE product_id = p_product_id AND currency = p_currency
    ORDER BY min_quantity LIMIT 1
    ON CONFLICT (product_id, currency) DO UPDATE SET amount = excluded.amount;
    DELETE FROM product_sort_price
    WHERE product_id = p_product_id AND currency = p_currency
      AND NOT EXISTS (
          SELECT 1 FROM price_tier WHERE product_id = p_product_id AND currency = p_currency
      );
$$""",
    """
CREATE FUNCTION price_tier_sort_price() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        PERFORM product_sort_price_refresh(OLD.product_id, OLD.currency);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        PERFORM product_sort_price_refresh(NEW.product_id, NEW.currency);
    END IF;
    RETURN NULL;
END $$""",
    """
CREATE TRIGGER price_tier_sort_price AFTER INSERT OR UPDATE OR DELETE ON price_tier
FOR EACH ROW EXECUTE FUNCTION price_tier_sort_price()""",
)

BACKFILL_SORT_PRICE = """
    INSERT INTO product_sort_price (product_id, currency, amount)
    SELECT tier.product_id, tier.currency, tier.unit_amount FROM price_tier AS tier
    WHERE tier.min_quantity = (
        SELECT min(other.min_quantity) FROM price_tier AS other
        WHERE other.product_id = tier.product_id AND other.currency = tier.currency
    )"""


def upgrade() -> None:
    op.create_table(
        "product_sort_price",
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["product.id"],
            name=op.f("fk_product_sort_price_product_id_product"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("product_id", "currency", name=op.f("pk_product_sort_price")),
    )
    op.create_index(
        "ix_product_sort_price_order", "product_sort_price", ["currency", "amount", "product_id"]
    )
    for name, columns in NAME_INDEXES.items():
        op.create_index(name, "product", columns, sqlite_where=LISTED, postgresql_where=LISTED)

    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_GRAMS_FUNCTION)
        op.execute(
            "CREATE INDEX ix_product_search_grams ON product "
            "USING gin (product_search_grams(search_text))"
        )
        for statement in PG_SORT_PRICE_FUNCTIONS:
            op.execute(statement)
    else:
        op.execute(
            "CREATE VIRTUAL TABLE product_fts_grams USING fts5("
            "grams, content='', detail=none, tokenize='ascii')"
        )
        for statement in (*GRAM_TRIGGERS.values(), *SORT_PRICE_TRIGGERS.values()):
            op.execute(sa.text(statement))
        op.execute(
            "INSERT INTO product_fts_grams(rowid, grams) "
            f"SELECT id, {sqlite_grams('search_text')} FROM product"
        )
    op.execute(BACKFILL_SORT_PRICE)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER price_tier_sort_price ON price_tier")
        op.execute("DROP FUNCTION price_tier_sort_price()")
        op.execute("DROP FUNCTION product_sort_price_refresh(integer, varchar)")
        op.execute("DROP INDEX ix_product_search_grams")
        op.execute("DROP FUNCTION product_search_grams(text)")
    else:
        for trigger in (*SORT_PRICE_TRIGGERS, *GRAM_TRIGGERS):
            op.execute(f"DROP TRIGGER {trigger}")
        op.execute("DROP TABLE product_fts_grams")
    for name in reversed(NAME_INDEXES):
        op.drop_index(name, table_name="product")
    op.drop_index("ix_product_sort_price_order", table_name="product_sort_price")
    op.drop_table("product_sort_price")
