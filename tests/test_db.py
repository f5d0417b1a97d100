"""``PreparedSelect``: a fixed statement compiled once per dialect, run with plain values.
``run_alone``: one write as a transaction of its own, or a statement of the one under way."""

import pytest
import sqlalchemy as sa

from shop.catalog.models import Category
from shop.db import PreparedSelect, run_alone
from shop.request_keys import UsedRequestKey
from tests.factories import make_category


def test_a_prepared_select_runs_with_its_parameters_and_compiles_once(session):
    make_category(session, slug="shirts", name="Shirts")
    make_category(session, slug="trousers", name="Trousers")
    session.commit()
    prepared = PreparedSelect(
        sa.select(Category.slug, Category.name)
        .where(Category.slug.in_([sa.bindparam("first"), sa.bindparam("second")]))
        .order_by(Category.slug)
        .limit(sa.bindparam("limit"))
    )
    connection = session.connection()

    rows = prepared.rows(connection, first="trousers", second="shirts", limit=5)
    assert [(row.slug, row.name) for row in rows] == [
        ("shirts", "Shirts"),
        ("trousers", "Trousers"),
    ]
    compiled = prepared._compiled[connection.dialect.name]

    assert [row.slug for row in prepared.rows(connection, first="shirts", second="x", limit=5)] == [
        "shirts"
    ]
    assert prepared.rows(connection, first="shirts", second="trousers", limit=1)[0].slug == "shirts"
    assert prepared._compiled[connection.dialect.name] is compiled


def test_a_prepared_select_takes_literal_values_from_the_statement(session):
    make_category(session, slug="coats", name="Coats")
    session.commit()
    prepared = PreparedSelect(sa.select(Category.slug).where(Category.name == "Coats"))

    assert [row.slug for row in prepared.rows(session.connection())] == ["coats"]


def category_slugs(app) -> list[str]:
    with app.extensions["sa_engine"].connect() as other:
        return list(other.scalars(sa.select(Category.slug).order_by(Category.slug)))


def test_a_write_run_alone_is_committed_at_once_and_leaves_the_session_as_it_was(app, session):
    insert = sa.insert(UsedRequestKey).returning(UsedRequestKey.key)

    assert [tuple(row) for row in run_alone(session, insert, {"key": "k1"})] == [("k1",)]
    assert not session.in_transaction()
    with app.extensions["sa_engine"].connect() as other:
        assert other.scalar(sa.select(UsedRequestKey.key)) == "k1"


def test_a_write_run_alone_inside_a_transaction_is_part_of_it(app, session):
    session.execute(sa.select(1))
    run_alone(session, sa.insert(UsedRequestKey).returning(UsedRequestKey.key), {"key": "k2"})
    session.rollback()

    assert session.scalar(sa.select(sa.func.count()).select_from(UsedRequestKey)) == 0


def test_run_alone_refuses_a_write_the_page_cache_follows(app, session):
    insert = sa.insert(Category).returning(Category.id)

    with pytest.raises(ValueError, match="page cache"):
        run_alone(session, insert, {"slug": "hats", "name": "Hats", "position": 0})
    assert category_slugs(app) == []
