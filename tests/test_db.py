"""``PreparedSelect``: a fixed statement compiled once per dialect, run with plain values.
``rows_together``: several of them in one round trip on PostgreSQL (a pipeline), one after
another on SQLite, with the same rows, errors and transaction as one at a time.
``run_alone``: one write as a transaction of its own, or a statement of the one under way."""

import pytest
import sqlalchemy as sa

from shop.catalog.models import Category
from shop.db import PreparedSelect, ReadsBeside, WriteOnRead, rows_together, run_alone
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


SLUGS_FROM = PreparedSelect(
    sa.select(Category.slug, Category.position)
    .where(Category.position >= sa.bindparam("position"))
    .order_by(Category.slug)
)
NAME_OF = PreparedSelect(sa.select(Category.name).where(Category.slug == sa.bindparam("slug")))
NO_SUCH_TABLE = PreparedSelect(sa.text("SELECT slug FROM no_such_table WHERE id = :id"))


def three_categories(session) -> None:
    for position, slug in enumerate(["coats", "hats", "shirts"]):
        make_category(session, slug=slug, name=slug.title(), position=position)


def reads(position: int = 1, slug: str = "hats"):
    return (SLUGS_FROM, {"position": position}), (NAME_OF, {"slug": slug})


def test_reads_together_give_each_its_rows_in_order_as_one_at_a_time_would(session):
    three_categories(session)
    session.commit()
    connection = session.connection()

    together = rows_together(connection, *reads(1, "hats"), (NAME_OF, {"slug": "coats"}))

    assert [[tuple(row) for row in rows] for rows in together] == [
        [("hats", 1), ("shirts", 2)],
        [("Hats",)],
        [("Coats",)],
    ]
    assert together[0][1].slug == "shirts" and together[0][1][1] == 2  # by name, by position
    alone = [SLUGS_FROM.rows(connection, position=1), NAME_OF.rows(connection, slug="hats")]
    assert [list(map(tuple, rows)) for rows in together[:2]] == [
        list(map(tuple, rows)) for rows in alone
    ]
    assert rows_together(connection, *reads(9, "socks")) == [[], []]


def test_reads_together_are_seen_by_the_engine_listeners_in_order(app, session):
    three_categories(session)
    session.commit()
    seen = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    engine = app.extensions["sa_engine"]
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        with app.extensions["sa_reader"]() as reader:
            rows_together(reader.connection(), *reads())
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)

    dialect = engine.dialect
    assert seen == [
        SLUGS_FROM.driver_sql(dialect, {"position": 1})[0],
        NAME_OF.driver_sql(dialect, {"slug": "hats"})[0],
    ]


def test_reads_together_in_a_transaction_see_its_writes_and_an_error_needs_its_rollback(
    session,
):
    three_categories(session)  # flushed, not committed
    assert session.in_transaction()

    assert rows_together(session.connection(), *reads(2, "coats")) == [
        [("shirts", 2)],
        [("Coats",)],
    ]
    with pytest.raises(sa.exc.DBAPIError, match="no_such_table"):
        rows_together(session.connection(), *reads(), (NO_SUCH_TABLE, {"id": 1}), *reads())
    session.rollback()

    assert rows_together(session.connection(), *reads(0)) == [[], []]  # nothing was kept


def test_reads_together_without_a_transaction_stay_usable_after_an_error(app, session):
    three_categories(session)
    session.commit()

    with app.extensions["sa_reader"]() as reader:
        connection = reader.connection()
        for _ in range(7):  # psycopg prepares a statement on its fifth run
            assert rows_together(connection, *reads()) == [
                [("hats", 1), ("shirts", 2)],
                [("Hats",)],
            ]
        with pytest.raises(sa.exc.DBAPIError, match="no_such_table") as raised:
            rows_together(connection, *reads(), (NO_SUCH_TABLE, {"id": 1}), *reads())
        assert not raised.value.connection_invalidated

        assert rows_together(connection, *reads(2, "coats")) == [[("shirts", 2)], [("Coats",)]]
        assert NAME_OF.rows(connection, slug="shirts") == [("Shirts",)]
        assert not connection.invalidated


def test_a_write_among_reads_together_on_a_read_only_session_is_refused(app, session):
    three_categories(session)
    session.commit()
    delete = PreparedSelect(sa.text("DELETE FROM category WHERE slug = :slug"))

    with app.extensions["sa_reader"]() as reader:
        with pytest.raises(WriteOnRead):
            rows_together(reader.connection(), *reads(), (delete, {"slug": "hats"}))
        assert rows_together(reader.connection(), *reads(0, "hats"))[1] == [("Hats",)]
    assert category_slugs(app) == ["coats", "hats", "shirts"]


def test_reads_beside_go_with_the_first_statement_and_only_the_first(session):
    three_categories(session)
    session.commit()
    connection = session.connection()
    beside = ReadsBeside((NAME_OF, {"slug": "coats"}), (SLUGS_FROM, {"position": 2}))

    assert beside.rows(NAME_OF, connection, slug="hats") == [("Hats",)]
    assert beside.rows(NAME_OF, connection, slug="shirts") == [("Shirts",)]
    assert beside.taken(connection) == [[("Coats",)], [("shirts", 2)]]

    untaken = ReadsBeside((NAME_OF, {"slug": "coats"}))
    assert untaken.taken(connection) == [[("Coats",)]]
    assert ReadsBeside().rows(NAME_OF, connection, slug="hats") == [("Hats",)]


# A read of one value, and a page's statement that carries it beside each of its rows.
COATS_POSITION = sa.select(Category.position).where(Category.slug == "coats")
COATS_POSITION_READ = PreparedSelect(COATS_POSITION)
NAMES_CARRYING = PreparedSelect(
    sa.select(Category.name, COATS_POSITION.scalar_subquery().label("coats_position"))
    .where(Category.position >= sa.bindparam("position"))
    .order_by(Category.name)
)


def test_a_carried_read_is_answered_by_the_first_statement_with_rows_that_carries_it(app, session):
    three_categories(session)
    session.commit()
    connection = session.connection()
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        statements.append(statement)

    engine = app.extensions["sa_engine"]
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        carried = ReadsBeside((COATS_POSITION_READ, {}), carried="coats_position")
        # a statement without the column leaves the read to the next one
        assert carried.rows(NAME_OF, connection, slug="hats") == [("Hats",)]
        assert len(statements) == 2  # with the read (a pipeline on PostgreSQL)
        assert carried.taken(connection) == [[(0,)]]

        statements.clear()
        carried = ReadsBeside((COATS_POSITION_READ, {}), carried="coats_position")
        rows = carried.rows(NAMES_CARRYING, connection, position=1)
        assert [row.name for row in rows] == ["Hats", "Shirts"]
        assert carried.taken(connection) == [[(0,)]]
        assert len(statements) == 1  # the read came with the rows

        statements.clear()
        carried = ReadsBeside((COATS_POSITION_READ, {}), carried="coats_position")
        assert carried.rows(NAMES_CARRYING, connection, position=9) == []  # no row to carry it
        assert carried.taken(connection) == [[(0,)]]  # read on its own, after
        assert len(statements) == 2
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)

    with pytest.raises(ValueError, match="alone"):
        ReadsBeside(*reads(), carried="coats_position")


def category_slugs(app) -> list[str]:
    with app.extensions["sa_engine"].connect() as other:
        return list(other.scalars(sa.select(Category.slug).order_by(Category.slug)))


# A prepared write names its columns' values: no column default fills one in.
KEY_USED_NOW = (
    sa.insert(UsedRequestKey)
    .values(key=sa.bindparam("key"), used_at=sa.func.current_timestamp())
    .returning(UsedRequestKey.key)
)


def test_a_write_run_alone_is_committed_at_once_and_leaves_the_session_as_it_was(app, session):
    insert = PreparedSelect(KEY_USED_NOW)

    assert [tuple(row) for row in run_alone(session, insert, {"key": "k1"})] == [("k1",)]
    assert not session.in_transaction()
    with app.extensions["sa_engine"].connect() as other:
        assert other.scalar(sa.select(UsedRequestKey.key)) == "k1"


def test_a_write_run_alone_inside_a_transaction_is_part_of_it(app, session):
    session.execute(sa.select(1))
    run_alone(session, PreparedSelect(KEY_USED_NOW), {"key": "k2"})
    session.rollback()

    assert session.scalar(sa.select(sa.func.count()).select_from(UsedRequestKey)) == 0


def test_run_alone_refuses_a_write_the_page_cache_follows(app, session):
    insert = PreparedSelect(sa.insert(Category).returning(Category.id))

    with pytest.raises(ValueError, match="page cache"):
        run_alone(session, insert, {"slug": "hats", "name": "Hats", "position": 0})
    assert category_slugs(app) == []


PAGE_OF_SLUGS = PreparedSelect(
    sa.select(Category.slug)
    .where(Category.position >= sa.bindparam("position"))
    .order_by(Category.slug)
    .offset(sa.bindparam("offset"))
    .limit(sa.bindparam("limit")),
    inline=("offset", "limit"),
)


@pytest.mark.parametrize(
    "dialect, inlined",
    [(sa.dialects.postgresql.psycopg.dialect(), True), (sa.dialects.sqlite.dialect(), False)],
)
def test_inline_numbers_are_written_into_the_text_on_postgresql_only(dialect, inlined):
    text, values = PAGE_OF_SLUGS.driver_sql(dialect, {"position": 2, "offset": 48, "limit": 24})

    assert ("LIMIT 24 OFFSET 48" in text) is inlined
    if inlined:
        assert values == {"position": 2}
        again, _ = PAGE_OF_SLUGS.driver_sql(dialect, {"position": 9, "offset": 0, "limit": 24})
        assert "LIMIT 24 OFFSET 0" in again
    else:
        assert "?" in text and 48 in values and 24 in values


@pytest.mark.parametrize("offset", ["48", "0; DROP TABLE category", 2.0, True, None])
def test_an_inline_number_must_be_an_int(offset):
    with pytest.raises(TypeError):
        PAGE_OF_SLUGS.driver_sql(
            sa.dialects.postgresql.psycopg.dialect(), {"position": 1, "offset": offset, "limit": 5}
        )


def test_a_prepared_select_with_inline_numbers_pages_as_with_parameters(session):
    for position, slug in enumerate(["a", "b", "c", "d", "e"]):
        make_category(session, slug=slug, name=slug.upper(), position=position)
    session.commit()
    connection = session.connection()

    pages = [
        [row.slug for row in PAGE_OF_SLUGS.rows(connection, position=1, offset=offset, limit=2)]
        for offset in (0, 2, 4)
    ]

    assert pages == [["b", "c"], ["d", "e"], []]


def test_prepared_rows_are_read_by_name_and_by_position(session):
    make_category(session, slug="caps", name="Caps", position=3)
    session.commit()
    connection = session.connection()

    (row,) = SLUGS_FROM.rows(connection, position=3)
    empty = SLUGS_FROM.rows(connection, position=99)

    assert (row.slug, row.position) == ("caps", 3) == (row[0], row[1])
    assert empty == []
    with pytest.raises(sa.exc.DBAPIError):  # the driver's error, as SQLAlchemy raises it
        NO_SUCH_TABLE.rows(connection, id=1)


def test_rows_inserted_loaded_come_back_as_stored_and_read_nothing_again(app, session):
    from shop.db import insert_loaded
    from shop.orders.models import OrderEvent
    from tests.helpers.queries import recording_queries
    from tests.order_factories import make_order

    order = make_order(session)
    session.commit()
    order_id = order.id
    session.expunge_all()

    with recording_queries(app) as statements:
        events = insert_loaded(
            session,
            OrderEvent,
            [
                {"order_id": order_id, "kind": "placed", "visible_to_customer": True},
                {"order_id": order_id, "kind": "note", "visible_to_customer": False},
            ],
        )
        written = len(statements)
        seen = [(e.kind, e.note, e.visible_to_customer, e.created_at is not None) for e in events]
        assert len(statements) == written  # every column came back with the INSERT

    # In the order given, the defaults filled in, and persistent, nothing pending.
    assert seen == [("placed", "", True, True), ("note", "", False, True)]
    assert all(sa.inspect(e).persistent for e in events)
    assert not session.new and not session.dirty
    assert session.get(OrderEvent, events[1].id) is events[1]
    events[1].note = "changed"  # an ordinary persistent object: a change is an UPDATE
    session.commit()
    session.expunge_all()
    stored = session.scalars(
        sa.select(OrderEvent.note).where(OrderEvent.order_id == order_id).order_by(OrderEvent.id)
    ).all()
    assert stored[-2:] == ["", "changed"]
    assert insert_loaded(session, OrderEvent, []) == []
    # One statement for all rows: each must name the same columns (SQLAlchemy would
    # silently drop what the first row does not name).
    with pytest.raises(ValueError, match="same columns"):
        insert_loaded(
            session,
            OrderEvent,
            [{"order_id": order_id, "kind": "a"}, {"order_id": order_id, "kind": "b", "note": "x"}],
        )
