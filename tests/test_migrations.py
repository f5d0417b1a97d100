"""The schema comes from Alembic: empty → head, down → up again, and no drift."""

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from shop import migrate
from shop.catalog.models import SEARCH_FTS_TABLE
from shop.db import make_engine
from shop.models import metadata


def table_names(url: str) -> set[str]:
    """Tables, less SQLite's FTS5 search index (its own test is below)."""
    engine = make_engine(url)
    names = set(sa.inspect(engine).get_table_names())
    engine.dispose()
    return {name for name in names if not name.startswith(SEARCH_FTS_TABLE)}


def schema_drift(url: str) -> list:
    engine = make_engine(url)
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_object": migrate.include_object}
        )
        drift = compare_metadata(context, metadata)
    engine.dispose()
    return drift


def test_empty_database_to_head_builds_every_table(empty_database_url):
    assert table_names(empty_database_url) == set()
    migrate.upgrade(empty_database_url)
    assert table_names(empty_database_url) == set(metadata.tables) | {"alembic_version"}


def test_downgrade_to_base_and_upgrade_again(empty_database_url):
    migrate.upgrade(empty_database_url)
    migrate.downgrade(empty_database_url, "base")
    assert table_names(empty_database_url) <= {"alembic_version"}
    migrate.upgrade(empty_database_url)
    assert set(metadata.tables) <= table_names(empty_database_url)


# SQLite cannot reflect the lower(email) index; shop.migrate.include_object skips it anyway.
@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
def test_models_match_the_migrations(empty_database_url):
    migrate.upgrade(empty_database_url)
    assert schema_drift(empty_database_url) == []


def test_search_index_follows_inserts_updates_and_deletes(empty_database_url):
    """The trigram index (FTS5 on SQLite, pg_trgm on PostgreSQL) must never go stale."""
    from sqlalchemy.orm import Session

    from shop.catalog.listing import ListingQuery, list_products
    from tests.factories import make_product

    migrate.upgrade(empty_database_url)
    engine = make_engine(empty_database_url)

    def found(q: str) -> list[str]:
        with Session(engine) as session:
            listing = list_products(
                session, ListingQuery(q=q), currency="CNY", locale="en", per_page=24
            )
            return [card.slug for card in listing.cards]

    with Session(engine) as session:
        product = make_product(session, slug="blazer", name="Wool blazer")
        session.commit()
        assert found("wool") == ["blazer"]
        product.name = "Cotton blazer"
        from shop.catalog.search import refresh_search_text

        refresh_search_text(product)
        session.commit()
        assert found("wool") == [] and found("cotton") == ["blazer"]
        session.delete(product)
        session.commit()
        assert found("cotton") == []
    engine.dispose()
