"""Alembic, driven from the app's settings. The schema only ever comes from here."""

from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
EMAIL_LOWER_INDEX = "uq_user_account_email_lower"  # migration 0003


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """Autogenerate and the drift test ignore the indexes built by raw SQL."""
    from shop.catalog.models import (
        SEARCH_FTS_TABLE,
        SEARCH_GRAMS_INDEX,
        SEARCH_TRGM_INDEX,
        SORT_NAME_INDEXES,
    )

    if type_ == "table" and reflected and name.startswith(SEARCH_FTS_TABLE):
        return False
    skipped = (SEARCH_TRGM_INDEX, SEARCH_GRAMS_INDEX, EMAIL_LOWER_INDEX, *SORT_NAME_INDEXES)
    return not (type_ == "index" and name in skipped)


def alembic_config(database_url: str) -> Config:
    config = Config(str(MIGRATIONS_DIR / "alembic.ini"))
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["database_url"] = database_url
    return config


def reset_database(database_url: str) -> None:
    """Drop everything so the migrations build the schema from empty.

    For throwaway databases only: the test suite and the benchmark.
    """
    import sqlalchemy as sa

    from shop.db import make_engine

    engine = make_engine(database_url)
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(sa.text("DROP SCHEMA public CASCADE"))
            connection.execute(sa.text("CREATE SCHEMA public"))
        else:
            existing = sa.MetaData()
            existing.reflect(connection)
            existing.drop_all(connection)
    engine.dispose()


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    command.downgrade(alembic_config(database_url), revision)
