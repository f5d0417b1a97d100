"""How a request uses the database connection (shop.db).

GET, HEAD and ``@reads_only`` requests read without a transaction (no ``BEGIN`` or
``ROLLBACK`` round trip) and cannot write: a write statement is refused before it reaches
the database. Other requests run in a transaction, as before. The pool pings only a
connection that sat idle, so a database that restarted while the shop was quiet costs no
request an error, and one that dropped a connection in a busy spell costs the request
using it a 503 "try again" page, never a 500, and the next request finds a new connection.
"""

import sqlite3

import pytest
import sqlalchemy as sa

from shop import db as shop_db
from shop.catalog.models import Product
from shop.db import (
    PreparedSelect,
    WriteOnRead,
    get_session,
    make_engine,
    reads_only,
    rows_together,
)
from tests.factories import make_product


def in_autocommit(connection: sa.Connection) -> bool:
    """Whether the driver's connection ran what it was asked so far without a
    transaction: psycopg's autocommit; sqlite3 begins one only before a write (so a read
    needs no switch to autocommit, whose undoing makes SQLite forget its prepared
    statements), and reports whether one is open."""
    dbapi = connection.connection.dbapi_connection
    if isinstance(dbapi, sqlite3.Connection):
        return not dbapi.in_transaction
    return bool(dbapi.autocommit)


@pytest.fixture
def probe_app(make_app, session):
    """An app with probe views that read, or try to rename the product "polo", and say
    whether they ran without a transaction."""
    make_product(session, slug="polo", name="Summer polo")
    session.commit()
    app = make_app()

    def probe(action: str):
        db = get_session()
        if action == "orm":
            db.execute(sa.update(Product).values(name="Renamed"))
        elif action == "text":
            db.execute(sa.text("UPDATE product SET name = 'Renamed'"))
        elif action == "flush":
            db.scalars(sa.select(Product)).one().name = "Renamed"
            db.flush()
        name = polo_name(db)
        autocommit = in_autocommit(db.connection())
        db.commit()
        return {"autocommit": autocommit, "name": name}

    app.add_url_rule("/probe/<action>", "probe", probe, methods=["GET", "HEAD", "POST"])
    reading = reads_only(lambda action: probe(action))
    app.add_url_rule("/probe-reading/<action>", "probe_reading", reading, methods=["POST"])
    return app


def polo_name(db) -> str:
    return db.scalar(sa.select(Product.name).where(Product.slug == "polo"))


def test_a_get_reads_without_a_transaction(probe_app):
    response = probe_app.test_client().get("/probe/read")

    assert response.json == {"autocommit": True, "name": "Summer polo"}


def test_a_post_runs_in_a_transaction_and_writes(probe_app, session):
    response = probe_app.test_client().post("/probe/orm")

    assert response.json == {"autocommit": False, "name": "Renamed"}
    session.expire_all()
    assert polo_name(session) == "Renamed"


def test_a_post_marked_reads_only_reads_without_a_transaction(probe_app):
    response = probe_app.test_client().post("/probe-reading/read")

    assert response.json == {"autocommit": True, "name": "Summer polo"}


@pytest.mark.parametrize("action", ["orm", "text", "flush"])
@pytest.mark.parametrize(("method", "path"), [("GET", "/probe"), ("POST", "/probe-reading")])
def test_a_write_while_reading_only_is_refused_and_nothing_changes(
    probe_app, session, action, method, path
):
    with pytest.raises(WriteOnRead):
        probe_app.test_client().open(f"{path}/{action}", method=method)

    session.expire_all()
    assert polo_name(session) == "Summer polo"


# --- a database that dropped the shop's connections (PostgreSQL: a restart) -------------


@pytest.fixture
def postgres_app(make_app, database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("a server that drops connections: PostgreSQL only")
    app = make_app()
    app.add_url_rule("/probe", "probe", lambda: {"one": get_session().scalar(sa.select(1))})
    return app


def drop_pooled_connection(app, database_url) -> None:
    """End, on the server, the backend of the connection the app's pool hands out next
    (the pool is last in, first out), as a restart would."""
    with app.extensions["sa_engine"].connect() as connection:
        pid = connection.scalar(sa.text("SELECT pg_backend_pid()"))
    admin = make_engine(database_url)
    with admin.connect() as connection:
        assert connection.scalar(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    admin.dispose()


def test_a_connection_dropped_while_idle_is_replaced_before_a_request_uses_it(
    postgres_app, database_url, monkeypatch
):
    client = postgres_app.test_client()
    assert client.get("/probe").status_code == 200
    drop_pooled_connection(postgres_app, database_url)
    monkeypatch.setattr(shop_db, "IDLE_PING_SECONDS", 0)  # idle long enough to be pinged

    response = client.get("/probe")

    assert (response.status_code, response.json) == (200, {"one": 1})


def test_a_connection_dropped_in_a_busy_spell_is_a_503_once_then_the_pool_starts_afresh(
    postgres_app, database_url, monkeypatch
):
    client = postgres_app.test_client()
    assert client.get("/probe").status_code == 200
    drop_pooled_connection(postgres_app, database_url)
    monkeypatch.setattr(shop_db, "IDLE_PING_SECONDS", 3600)  # in use a moment ago: no ping

    dropped = client.get("/probe")
    after = client.get("/probe")

    assert dropped.status_code == 503
    assert dropped.headers["Retry-After"] == "5"
    assert (after.status_code, after.json) == (200, {"one": 1})


def test_a_connection_dropped_in_a_busy_spell_fails_reads_together_as_it_fails_one_read(
    postgres_app, database_url, monkeypatch
):
    one = PreparedSelect(sa.select(sa.literal(1).label("one")))

    def together():
        rows = rows_together(get_session().connection(), (one, {}), (one, {}))
        return {"ones": sum(row.one for read in rows for row in read)}

    postgres_app.add_url_rule("/together", "together", together)
    client = postgres_app.test_client()
    assert client.get("/together").status_code == 200
    drop_pooled_connection(postgres_app, database_url)
    monkeypatch.setattr(shop_db, "IDLE_PING_SECONDS", 3600)  # in use a moment ago: no ping

    dropped = client.get("/together")
    after = client.get("/together")

    assert dropped.status_code == 503
    assert (after.status_code, after.json) == (200, {"ones": 2})


def test_sqlite_reads_its_file_through_a_memory_map(database_url):
    """Pages read again come from the OS page cache in place, not through a system call
    into the connection's small cache, which a worker's mix of pages keeps emptying."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            if engine.dialect.name != "sqlite":
                pytest.skip("SQLite only")
            mapped = connection.exec_driver_sql("PRAGMA mmap_size").scalar()
    finally:
        engine.dispose()
    assert mapped == shop_db.SQLITE_MMAP_BYTES
