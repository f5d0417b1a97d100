"""Search synonyms and the vocabulary that corrects typos.

- ``search_synonym_group`` and ``search_synonym``: groups of words staff declare to mean
  the same (制服, 学生服, 校服, uniform); a word belongs to one group at most (its primary
  key), so a query term finds its group by one index lookup. A starter group is inserted.
- The vocabulary of indexed words, for typo tolerance ("cottn" → cotton): a table
  ``product_fts_words`` (``word`` primary key) of the Latin words (a-z and digits, 3-40
  characters) of every ``product.search_text``, which a trigger on ``product`` adds to
  whoever writes (admin, CSV import, seeds, plain SQL). Words are never removed: a word no
  product holds any more only makes a correction that finds nothing. A lookup is by
  primary key, whatever the catalogue's size. Outside the models (its name starts with
  ``product_fts``, which autogenerate leaves alone).
  SQLite cuts the text in its trigger by turning separators into JSON array commas
  (``json_each``); PostgreSQL with ``regexp_split_to_table``.

Beware on SQLite, as with 0002 and 0014: a later batch migration that recreates
``product`` drops the triggers and must recreate them (``WORD_TRIGGERS``).

Revision ID: 0017_search_synonyms
Revises: 0016_sent_email
Create Date: 2026-12-05 10:00:00
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0017_search_synonyms"
down_revision = "0016_sent_email"
branch_labels = None
depends_on = None

# Characters that end a word, besides spaces and new lines: the commonest in product
# texts. JSON's own quote and backslash are among them, so the array below is always valid
# JSON. A "word" holding any other character (or a CJK one) is no Latin word and is left
# out. (Few: each is a nested ``replace()``, and SQLite's parser stack is shallow.)
SEPARATORS = ("\\", '"', "-", "(", ")", ",", ".", "/", "&", "%")


def sqlite_words(text: str) -> str:
    """SQL for the Latin words of ``text`` (a-z and digits, 3-40 characters) as rows of
    ``json_each``'s ``value``."""
    spaced = f"replace({text}, char(10), ' ')"
    for separator in SEPARATORS:
        spaced = f"replace({spaced}, '{separator}', ' ')"
    array = f"""('["' || replace({spaced}, ' ', '","') || '"]')"""
    return f"""
        SELECT words.value
        FROM json_each(CASE WHEN json_valid({array}) THEN {array} ELSE '[]' END) AS words
        WHERE length(words.value) BETWEEN 3 AND 40 AND words.value NOT GLOB '*[^a-z0-9]*'"""


WORD_TRIGGERS = {
    "product_fts_words_after_insert": f"""
        CREATE TRIGGER product_fts_words_after_insert AFTER INSERT ON product BEGIN
            INSERT OR IGNORE INTO product_fts_words (word) {sqlite_words("new.search_text")};
        END""",
    "product_fts_words_after_update": f"""
        CREATE TRIGGER product_fts_words_after_update AFTER UPDATE OF search_text ON product
        BEGIN
            INSERT OR IGNORE INTO product_fts_words (word) {sqlite_words("new.search_text")};
        END""",
}

# Latin words of 3-40 characters: what a typo can be corrected to. Sorted, so two
# transactions adding the same new words take their locks in the same order.
PG_WORDS_FUNCTION = r"""
CREATE FUNCTION product_fts_add_words() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO product_fts_words (word)
    SELECT DISTINCT word
    FROM regexp_split_to_table(NEW.search_text, '[^a-z0-9]+') AS words(word)
    WHERE length(word) BETWEEN 3 AND 40
    ORDER BY word
    ON CONFLICT (word) DO NOTHING;
    RETURN NULL;
END $$"""
PG_WORDS_TRIGGER = """
CREATE TRIGGER product_fts_add_words AFTER INSERT OR UPDATE OF search_text ON product
FOR EACH ROW EXECUTE FUNCTION product_fts_add_words()"""
PG_WORDS_BACKFILL = """
INSERT INTO product_fts_words (word)
SELECT DISTINCT word
FROM product CROSS JOIN LATERAL regexp_split_to_table(search_text, '[^a-z0-9]+') AS w(word)
WHERE length(word) BETWEEN 3 AND 40
ON CONFLICT (word) DO NOTHING"""

STARTER_GROUP = ("制服", "学生服", "校服", "uniform")


def upgrade() -> None:
    groups = op.create_table(
        "search_synonym_group",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_synonym_group")),
    )
    words = op.create_table(
        "search_synonym",
        sa.Column("word", sa.String(length=60), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["search_synonym_group.id"],
            name=op.f("fk_search_synonym_group_id_search_synonym_group"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("word", name=op.f("pk_search_synonym")),
    )
    op.create_index(op.f("ix_search_synonym_group_id"), "search_synonym", ["group_id"])
    now = datetime.now(UTC)
    op.bulk_insert(groups, [{"id": 1, "created_at": now, "updated_at": now}])
    op.bulk_insert(
        words,
        [
            {"word": word, "group_id": 1, "position": position}
            for position, word in enumerate(STARTER_GROUP)
        ],
    )

    op.create_table(
        "product_fts_words",
        sa.Column("word", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("word", name=op.f("pk_product_fts_words")),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("SELECT setval(pg_get_serial_sequence('search_synonym_group', 'id'), 1)")
        op.execute(PG_WORDS_FUNCTION)
        op.execute(PG_WORDS_TRIGGER)
        op.execute(PG_WORDS_BACKFILL)
        return
    for statement in WORD_TRIGGERS.values():
        op.execute(sa.text(statement))
    # The trigger's query with ``product`` beside it: json_each reads each row's text.
    backfill = sqlite_words("product.search_text").replace(
        "FROM json_each", "FROM product, json_each"
    )
    op.execute(f"INSERT OR IGNORE INTO product_fts_words (word) {backfill}")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER product_fts_add_words ON product")
        op.execute("DROP FUNCTION product_fts_add_words()")
    else:
        for trigger in WORD_TRIGGERS:
            op.execute(f"DROP TRIGGER {trigger}")
    op.drop_table("product_fts_words")
    op.drop_index(op.f("ix_search_synonym_group_id"), table_name="search_synonym")
    op.drop_table("search_synonym")
    op.drop_table("search_synonym_group")
