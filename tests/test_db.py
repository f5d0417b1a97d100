"""``PreparedSelect``: a fixed statement compiled once per dialect, run with plain values."""

import sqlalchemy as sa

from shop.catalog.models import Category
from shop.db import PreparedSelect
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
