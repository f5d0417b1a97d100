"""Engine, the per-request session and the declarative ``Base``.

One session per request: opened lazily on first use, rolled back and closed at teardown.
Nothing is committed behind a view's back: a view that changes data commits once itself
(``session.commit()``), or says so with ``@commits``. A refused action simply returns its
error page and nothing it began is kept. GET and HEAD requests never write: a flush or a
bulk write during one is an error (raised under ``TESTING``, logged otherwise) and is
rolled back.
"""

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from functools import wraps
from typing import cast

import sqlalchemy as sa
from flask import Flask, current_app, g, request
from sqlalchemy.orm import DeclarativeBase, ORMExecuteState, Session, sessionmaker

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """SQLite gives back naive datetimes; the shop stores UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def rows_changed(session: Session, statement: sa.Executable) -> int:
    """Run an UPDATE or DELETE and return how many rows it matched: the answer that makes
    a conditional write exactly once (``rowcount`` is on the cursor result, which
    ``Session.execute``'s type does not promise)."""
    result = session.execute(statement)
    return cast(sa.CursorResult, result).rowcount


def value_taken(
    session: Session, column: sa.orm.InstrumentedAttribute, value: object, row_id: int | None
) -> bool:
    """Whether a row other than ``row_id`` (``None``: any row) has ``value`` in the unique
    ``column`` (``Product.slug``, ``Variant.sku``, ``School.slug`` …): the friendly check
    before the unique index would refuse the write."""
    table = column.class_
    query = sa.select(table.id).where(column == value)
    if row_id is not None:
        query = query.where(table.id != row_id)
    return session.scalar(query) is not None


def assign_fields(
    row: object, values: Mapping[str, object], fields: Iterable[str], optional_text: Iterable[str]
) -> None:
    """Set each of ``fields`` that ``values`` names on ``row``; a blank ``optional_text``
    field is stored as ``None`` (no translation), not as an empty string."""
    optional = set(optional_text)
    for name in fields:
        if name in values:
            value = values[name]
            setattr(row, name, (value or None) if name in optional else value)


def lock_row(session: Session, column: sa.orm.InstrumentedAttribute, row_id: int) -> None:
    """Serialise writers of one row until the transaction ends: a no-op ``UPDATE`` of
    ``column`` (set to itself) takes the row lock on PostgreSQL and the write lock on
    SQLite. Pick a column no foreign key points at, so the lock stays a row lock."""
    table = column.class_
    session.execute(
        sa.update(table)
        .where(table.id == row_id)
        .values({column.key: column})
        .execution_options(synchronize_session=False, changes_nothing=True)
    )


POOL_SIZE = 10  # connections kept per process: at least gunicorn's threads per worker


class PreparedSelect:
    """A fixed Core ``SELECT`` compiled once per dialect and run from its SQL string.

    For the hottest read paths only (a listing page, the category tree): SQLAlchemy walks
    a statement to build its cache key on every execution, which for a page with a few
    scalar subqueries costs more than the database does. Parameters are passed to the
    driver as they are, so they must be plain values (``str``, ``int``), never ones a
    column type would convert; rows come back as the driver gives them (SQLite booleans
    as 0/1)."""

    def __init__(self, statement: sa.Select) -> None:
        self.statement = statement
        self._compiled: dict[str, sa.engine.Compiled] = {}

    def rows(self, connection: sa.Connection, **params) -> list[sa.Row]:
        compiled = self._compiled.get(connection.dialect.name)
        if compiled is None:
            compiled = self.statement.compile(dialect=connection.dialect)
            self._compiled[connection.dialect.name] = compiled
        named = compiled.construct_params(params) or {}
        positions = getattr(compiled, "positiontup", None)  # set for positional paramstyles
        values = tuple(named[name] for name in positions) if positions is not None else named
        return list(connection.exec_driver_sql(compiled.string, values).all())


def normalise_url(url: str) -> str:
    """Accept the usual ``postgres://`` spellings and use psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def make_engine(url: str) -> sa.Engine:
    url = normalise_url(url)
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"timeout": 30})
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    # A gthread worker serves up to GUNICORN_THREADS (8) requests at once: keep that many
    # connections open, so a busy worker never closes one only to open it again (a new
    # PostgreSQL connection costs more than most requests); bursts may borrow more.
    return sa.create_engine(url, pool_pre_ping=True, pool_size=POOL_SIZE, max_overflow=10)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def init_app(app: Flask) -> None:
    engine = make_engine(app.config["DATABASE_URL"])
    app.extensions["sa_engine"] = engine
    app.extensions["sa_sessionmaker"] = sessionmaker(engine, expire_on_commit=False)
    app.after_request(_refuse_writes_on_read)
    app.teardown_appcontext(_close_session)


def get_session() -> Session:
    """The session of the current request (or CLI command), opened on first use."""
    if "db_session" not in g:
        g.db_session = current_app.extensions["sa_sessionmaker"]()
    return g.db_session


def commits(view):
    """For a view that changes data: commit its session once it has answered below 400
    (a redirect after a successful POST). An error page commits nothing; two saves of
    the same unique thing at once answer the 409 "saved by someone else" page."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        response = current_app.make_response(view(*args, **kwargs))
        session = g.get("db_session")
        if session is not None and response.status_code < 400:
            try:
                session.commit()
            except sa.exc.IntegrityError:
                from shop.errors import conflict_page  # errors render templates; db is first

                return current_app.make_response(conflict_page())
        return response

    return wrapped


WROTE = "shop.db.wrote"  # session.info: something was written in this transaction


@sa.event.listens_for(Session, "after_flush")
def _remember_flush(session: Session, _context) -> None:
    session.info[WROTE] = True


@sa.event.listens_for(Session, "do_orm_execute")
def _remember_bulk_write(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        state.session.info[WROTE] = True


@sa.event.listens_for(Session, "after_transaction_end")
def _forget_writes(session: Session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(WROTE, None)


class WriteOnRead(RuntimeError):
    """A GET or HEAD request changed the database (it is rolled back)."""


def _refuse_writes_on_read(response):
    session = g.get("db_session")
    if session is None or request.method not in ("GET", "HEAD"):
        return response
    if session.info.get(WROTE) or session.new or session.dirty or session.deleted:
        message = f"{request.method} {request.path} changed the database; it was rolled back"
        if current_app.testing:
            raise WriteOnRead(message)
        current_app.logger.error(message)
    return response


def _close_session(exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        # close() rolls back whatever was not committed and detaches what was loaded
        # without expiring it (a streamed page may still read the signed-in user).
        session.close()
