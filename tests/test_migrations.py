"""The schema comes from Alembic: empty → head, down → up again, and no drift."""

import uuid

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from shop import migrate
from shop.db import make_engine
from shop.models import metadata


@pytest.fixture
def empty_database_url(database_url, tmp_path):
    """A database of its own, so the round trip cannot disturb the other tests."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'migrations.sqlite3'}"
        return
    name = f"migrations_{uuid.uuid4().hex[:12]}"
    admin = make_engine(database_url).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield str(sa.make_url(database_url).set(database=name).render_as_string(hide_password=False))
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def table_names(url: str) -> set[str]:
    engine = make_engine(url)
    names = set(sa.inspect(engine).get_table_names())
    engine.dispose()
    return names


def schema_drift(url: str) -> list:
    engine = make_engine(url)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
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


def test_models_match_the_migrations(empty_database_url):
    migrate.upgrade(empty_database_url)
    assert schema_drift(empty_database_url) == []
