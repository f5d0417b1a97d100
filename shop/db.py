"""Engine, the per-request session and the declarative ``Base``.

One session per request: opened lazily on first use, committed after a successful
response, rolled back when the request failed, closed at teardown.
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from flask import Flask, current_app, g
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

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


def lock_row(session: Session, column: sa.orm.InstrumentedAttribute, row_id: int) -> None:
    """Serialise writers of one row until the transaction ends: a no-op ``UPDATE`` of
    ``column`` (set to itself) takes the row lock on PostgreSQL and the write lock on
    SQLite. Pick a column no foreign key points at, so the lock stays a row lock."""
    table = column.class_
    session.execute(
        sa.update(table)
        .where(table.id == row_id)
        .values({column.key: column})
        .execution_options(synchronize_session=False)
    )


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
    return sa.create_engine(url, pool_pre_ping=True)


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
    app.after_request(_commit_session)
    app.teardown_appcontext(_close_session)


def get_session() -> Session:
    """The session of the current request (or CLI command), opened on first use."""
    if "db_session" not in g:
        g.db_session = current_app.extensions["sa_sessionmaker"]()
    return g.db_session


def _commit_session(response):
    session = g.get("db_session")
    if session is not None and response.status_code < 400:
        try:
            session.commit()
        except sa.exc.IntegrityError:
            from shop.errors import conflict_page  # errors render templates; db comes first

            page, status = conflict_page()
            return current_app.response_class(page, status=status, mimetype="text/html")
    return response


def _close_session(exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.rollback()
        session.close()
