"""Engine, the per-request session and the declarative ``Base``.

One session per request: opened lazily on first use, rolled back and closed at teardown.
Nothing is committed behind a view's back: a view that changes data commits once itself
(``session.commit()``), or says so with ``@commits``. A refused action simply returns its
error page and nothing it began is kept. (One write that is a transaction by itself may
be committed as it runs, by ``run_alone``: the cart's usual add.)

GET and HEAD requests never write, nor do POST views marked ``@reads_only``, so their
session reads without a transaction (autocommit: no ``BEGIN`` and no ``ROLLBACK`` round
trip on PostgreSQL; under READ COMMITTED each statement saw its own snapshot anyway). A
write statement on one is a bug, refused before it reaches the database (``WriteOnRead``);
changed objects left unflushed are one too (raised under ``TESTING``, logged otherwise)
and are discarded.
"""

import time
from collections import namedtuple
from collections.abc import Iterable, Mapping, MutableMapping
from datetime import UTC, datetime
from functools import cache, wraps
from typing import Any, NoReturn, cast

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


def rows_changed(session: Session, statement: sa.Executable, values: dict | None = None) -> int:
    """Run an UPDATE or DELETE (with ``values`` for its bound parameters) and return how
    many rows it matched: the answer that makes a conditional write exactly once
    (``rowcount`` is on the cursor result, which ``Session.execute``'s type does not
    promise)."""
    result = session.execute(statement, values)
    return cast(sa.CursorResult, result).rowcount


def insert_loaded(session: Session, model: type, rows: list[dict]) -> list[Any]:
    """INSERT ``rows`` into ``model``'s table in one Core statement and give them back as
    ``model`` objects, persistent in ``session`` as though loaded: every column as stored
    (the defaults filled in), read from the statement's ``RETURNING``, nothing read again.

    For a hot path's new rows, where the unit of work's bookkeeping (its dependency sort,
    each object's history) costs more than the statements. The caller sets what the
    objects' relationships hold (``set_committed_value``); the session's ``before_flush``
    listeners do not see these rows (``do_orm_execute`` ones do, as for any Core write)."""
    if not rows:
        return []
    if any(row.keys() != rows[0].keys() for row in rows):
        raise ValueError("rows inserted in one statement must name the same columns")
    keys, statement = _insert_returning(model)
    objects = []
    for row in session.execute(statement, rows):
        obj = model(**dict(zip(keys, row, strict=True)))
        sa.orm.make_transient_to_detached(obj)
        session.add(obj)
        objects.append(obj)
    return objects


@cache
def _insert_returning(model: type) -> tuple[list[str], sa.Insert]:
    """``model``'s attribute names and an INSERT that returns their columns, built once."""
    mapper: sa.orm.Mapper = sa.inspect(model)
    keys = [attr.key for attr in mapper.column_attrs]
    columns = [mapper.column_attrs[key].columns[0] for key in keys]
    table = cast(sa.Table, mapper.local_table)
    return keys, sa.insert(table).returning(*columns, sort_by_parameter_order=True)


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


def run_alone(session: Session, statement: "PreparedSelect", params: dict) -> list[Any]:
    """Run ``statement`` (a prepared write that is all or nothing by itself: one upsert,
    say; its parameters plain values) as a transaction of its own when the session has
    none under way, committed at once; inside one, as one more statement of it (the
    caller's commit or rollback decides).

    On its own it runs on a connection of its own, from its SQL string on the driver's
    cursor (``driver_rows``: seen by the engine's listeners, its errors SQLAlchemy's), in
    autocommit on PostgreSQL: the database makes the one statement atomic, and is spared
    the ``BEGIN`` and ``COMMIT`` round trips, which are most of a small write's; and the
    session's transaction and its listeners are spared too (a third of the statement's
    cost on SQLite). psycopg switches a connection to autocommit and back without a word
    to the server; SQLite has no round trips to save, and switching its connection back
    from autocommit costs a ``PRAGMA read_uncommitted`` that expires every statement the
    connection has prepared: there it is an ordinary transaction. The session is left as
    it was.

    The session's listeners do not see such a write, so it must not be one they follow:
    a table the page cache's versions follow (``shop.pagecache.changes``) is refused."""
    if session.in_transaction():
        return list(session.execute(statement.statement, params).all())
    from shop.pagecache.changes import CATALOGUE_TABLES, WINDOW_TABLES  # they import models

    table = statement.statement.table.name  # type: ignore[union-attr]
    if table in CATALOGUE_TABLES or table in WINDOW_TABLES:
        raise ValueError(f"{table}: a write the page cache must see")
    bind = session.get_bind()
    engine = bind if isinstance(bind, sa.Engine) else bind.engine
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            rows = statement.rows(connection, **params)
            connection.commit()
            return rows
        driver: Any = connection.connection.driver_connection
        driver.autocommit = True
        try:
            return statement.rows(connection, **params)
        finally:
            driver.autocommit = False  # as the pool lent it


def commits_without_waiting_for_disk(dialect: str) -> list[sa.ColumnElement[bool]]:
    """Conditions (always true) for the ``WHERE`` of a write that ``run_alone`` commits by
    itself, so that PostgreSQL acknowledges its commit before the commit's WAL reaches the
    disk: ``synchronous_commit = off`` for that one transaction (``set_config(…, true)``
    lasts until its commit; nothing else on the connection is affected). SQLite: none.

    For writes a visitor can simply repeat, never for money, stock or orders: the wait
    for the disk's flush is most of a small write's cost on PostgreSQL (its ``fdatasync``
    alone about 0.2 ms of the server's CPU per commit here). What it risks, and only if
    the PostgreSQL server itself crashes: the writes of the last moment (at most three
    times ``wal_writer_delay``, 0.6 s by default) are gone when it restarts, all of each
    transaction or none of it. A later commit that waits (an order placed from that cart)
    flushes every commit before it, so an order never refers to a lost line. Only for a
    statement that is a transaction of its own: inside a caller's transaction the setting
    would apply to the caller's whole commit."""
    if dialect != "postgresql":
        return []
    setting = sa.func.set_config("synchronous_commit", "off", sa.true())
    return [setting.is_not(None)]


POOL_SIZE = 10  # connections kept per process: at least gunicorn's threads per worker


class PreparedSelect:
    """A fixed Core ``SELECT`` (or ``text``, or a write ``run_alone`` runs) compiled once per
    dialect and run from its SQL string.

    For the hottest read paths only (a listing page, the category tree): SQLAlchemy walks
    a statement to build its cache key on every execution, which for a page with a few
    scalar subqueries costs more than the database does. Parameters are passed to the
    driver as they are, so they must be plain values (``str``, ``int``), never ones a
    column type would convert; rows come back as the driver gives them (SQLite booleans
    as 0/1).

    ``inline``: integer parameters (a page's ``offset`` and ``limit``, a count's ``cap``)
    that PostgreSQL gets written into the statement's text. PostgreSQL plans a prepared
    statement whose ``LIMIT``/``OFFSET`` are parameters anew on every execution (a plan
    made for unknown values would walk a tenth of the table), and that planning costs it
    more than running a listing page does; with the numbers in the text the statement
    keeps one plan per page (tests/catalog/test_query_plans.py checks it). SQLite has no
    such cost and keeps one prepared statement for every page."""

    # Texts kept per statement: one per page number a listing can show (its cap ÷ 24).
    MAX_INLINE_TEXTS = 256

    def __init__(
        self, statement: sa.Select | sa.TextClause | sa.Insert, inline: tuple[str, ...] = ()
    ) -> None:
        self.statement = statement
        self.inline = inline
        # Its columns' names (a ``text`` has none known): what ``ReadsBeside`` looks for.
        selected = getattr(statement, "selected_columns", None)
        self.columns = frozenset(selected.keys()) if selected is not None else frozenset()
        self._compiled: dict[str, sa.engine.Compiled] = {}
        self._inlined: dict[tuple[int, ...], str] = {}

    def rows(self, connection: sa.Connection, **params) -> list[Any]:
        """The rows, as named tuples (read them by position or by name)."""
        return driver_rows(connection, *self.driver_sql(connection.dialect, params))

    def driver_sql(self, dialect: sa.Dialect, params: Mapping[str, Any]) -> tuple[str, Any]:
        """The SQL string and the parameters, as the driver takes them."""
        compiled = self._compiled.get(dialect.name)
        if compiled is None:
            compiled = self.statement.compile(dialect=dialect)
            self._compiled[dialect.name] = compiled
        named = compiled.construct_params(params) or {}
        if self.inline and dialect.name == "postgresql":
            return self._inlined_sql(compiled, named)
        positions = getattr(compiled, "positiontup", None)  # set for positional paramstyles
        values = tuple(named[name] for name in positions) if positions is not None else named
        return compiled.string, values

    def _inlined_sql(self, compiled: sa.engine.Compiled, named: MutableMapping) -> tuple[str, Any]:
        """``compiled``'s text with the ``inline`` parameters written in (psycopg's
        ``%(name)s`` placeholders), and the other parameters."""
        numbers = tuple(_plain_int(named.pop(name), name) for name in self.inline)
        text = self._inlined.get(numbers)
        if text is None:
            text = compiled.string
            for name, number in zip(self.inline, numbers, strict=True):
                text = text.replace(f"%({name})s", str(number))
            if len(self._inlined) >= self.MAX_INLINE_TEXTS:
                self._inlined.clear()
            self._inlined[numbers] = text
        return text, named


def _plain_int(value: Any, name: str) -> int:
    """``value`` if it is an ``int`` (never text: it is written into SQL)."""
    if type(value) is not int:
        raise TypeError(f"{name}: an int is written into the statement, not {value!r}")
    return value


Read = tuple[PreparedSelect, Mapping[str, Any]]  # a prepared statement and its parameters


def rows_together(connection: sa.Connection, *reads: Read) -> list[list[Any]]:
    """The rows of several reads, in order, each as ``PreparedSelect.rows`` gives them:
    on PostgreSQL sent at once in psycopg's pipeline mode and answered together (one
    round trip for all, where each would cost one), on SQLite (no round trips to save)
    one after another. For the reads of one page that do not depend on each other.

    They run on ``connection`` as they are (its transaction, or autocommit for a
    request that reads only), each seen by the engine's ``before_cursor_execute``
    listeners (the refusal of a write on a read; the tests' counts). A database error is
    raised as ``exec_driver_sql`` raises it, SQLAlchemy's own (a lost connection empties
    the pool the same way), and the reads after the failed one are not run. In a
    pipeline the rows are psycopg's named tuples, not ``sa.Row``: read them by position
    or by name."""
    if connection.dialect.name != "postgresql" or len(reads) < 2:
        return [statement.rows(connection, **params) for statement, params in reads]
    return _pipelined(
        connection,
        [statement.driver_sql(connection.dialect, params) for statement, params in reads],
    )


def driver_rows(connection: sa.Connection, statement: str, values: Any) -> list[Any]:
    """The rows of one statement run on the driver's own cursor, as named tuples: what
    ``exec_driver_sql`` does, less the result's metadata it builds on every execution
    (it cost more than SQLite's running of a window's lookup). Seen by the engine's
    listeners, and its errors raised as SQLAlchemy's, as ``_pipelined``'s are."""
    _begin(connection)
    driver: Any = connection.connection.driver_connection
    postgresql = connection.dialect.name == "postgresql"
    if postgresql:
        from psycopg.rows import namedtuple_row

        cursor = driver.cursor(row_factory=namedtuple_row)
    else:
        cursor = driver.cursor()
    try:
        statement, values = _before(connection, cursor, statement, values)
        cursor.execute(statement, values)
        _after(connection, cursor, statement, values)
        rows = cursor.fetchall()
        if postgresql or not rows:
            return rows
        make = _named_row([column[0] for column in cursor.description])
        return [make(row) for row in rows]
    except connection.dialect.loaded_dbapi.Error as error:
        _raise_as_sqlalchemy(connection, error, statement, values, cursor)
    finally:
        cursor.close()


def _named_row(names: list[str]):
    """The named tuple class's constructor for rows of these columns (one per shape)."""
    key = tuple(names)
    make = _ROW_CLASSES.get(key)
    if make is None:
        row_class: Any = namedtuple("Row", key, rename=True)  # type: ignore[misc]  # names read now
        make = row_class._make
        _ROW_CLASSES[key] = make
    return make


_ROW_CLASSES: dict[tuple[str, ...], Any] = {}


def _begin(connection: sa.Connection) -> None:
    if not connection.in_transaction():
        connection.begin()  # as any statement would (autobegin): SQLAlchemy's state stays true


def _before(connection: sa.Connection, cursor, statement: str, values: Any) -> tuple[str, Any]:
    for listener in connection.dispatch.before_cursor_execute:
        statement, values = listener(connection, cursor, statement, values, None, False)
    return statement, values


def _after(connection: sa.Connection, cursor, statement: str, values: Any) -> None:
    for listener in connection.dispatch.after_cursor_execute:
        listener(connection, cursor, statement, values, None, False)


def _raise_as_sqlalchemy(connection: sa.Connection, error, statement, values, cursor) -> NoReturn:
    # SQLAlchemy's one way from a driver error to its own, as exec_driver_sql takes it
    # (wrapped; a lost connection detected, and the pool emptied): private, and no
    # public call does the same.
    connection._handle_dbapi_exception(error, statement, values, cursor, None)


def _pipelined(connection: sa.Connection, statements: list[tuple[str, Any]]) -> list[list[Any]]:
    from psycopg.rows import namedtuple_row  # only PostgreSQL gets here

    _begin(connection)
    driver: Any = connection.connection.driver_connection
    cursors: list[Any] = []
    sent: list[tuple[str, Any]] = []  # each statement and its parameters, as sent
    try:
        # Each statement is queued; leaving the pipeline sends one Sync and takes every
        # answer: the one round trip.
        with driver.pipeline():
            for statement, values in statements:
                cursors.append(cursor := driver.cursor(row_factory=namedtuple_row))
                sent.append(_before(connection, cursor, statement, values))
                cursor.execute(*sent[-1])
        for cursor, (statement, values) in zip(cursors, sent, strict=True):
            _after(connection, cursor, statement, values)
        return [cursor.fetchall() for cursor in cursors]
    except connection.dialect.loaded_dbapi.Error as error:
        # The failed read is the first without an answer (those after it were skipped).
        failed = next((i for i, c in enumerate(cursors[: len(sent)]) if c.pgresult is None), 0)
        statement, values = sent[failed] if sent else statements[0]
        _raise_as_sqlalchemy(
            connection, error, statement, values, cursors[failed] if cursors else None
        )
    finally:
        for cursor in cursors:
            cursor.close()


class ReadsBeside:
    """Reads that go to the database with the next statement run through ``rows``, in the
    same round trip on PostgreSQL (``rows_together``): what a page shows beside its main
    query (its menus), carried by the main query's first statement whichever path that
    query takes. They run just before it (a version read with them is never newer than
    what the statement reads).

    ``carried``: a single read of one value (a version) that a statement can carry as a
    column of that name, the same value on every row (a scalar subquery). The first
    statement with that column that finds rows answers the read itself, from the same
    snapshot as its rows: one statement where there were two (on PostgreSQL each costs
    the client and the server about as much as a small page's). A statement without the
    column, or without rows, leaves the read for the next one (or ``taken``), which then
    reads it after what the first statement read."""

    def __init__(self, *reads: Read, carried: str | None = None) -> None:
        if carried is not None and len(reads) != 1:
            raise ValueError("a carried read goes alone")
        self.reads = reads
        self.carried = carried
        self._rows: list[list[Any]] | None = None if reads else []

    def rows(self, statement: PreparedSelect, connection: sa.Connection, **params) -> list[Any]:
        """``statement.rows(connection, **params)``; the first time, with the reads."""
        if self._rows is not None:
            return statement.rows(connection, **params)
        if self.carried is not None and self.carried in statement.columns:
            rows = statement.rows(connection, **params)
            if rows:
                self._rows = [[(getattr(rows[0], self.carried),)]]
            return rows
        *self._rows, first = rows_together(connection, *self.reads, (statement, params))
        return first

    def taken(self, connection: sa.Connection) -> list[list[Any]]:
        """The reads' rows, in order (read now, together, if no statement carried them)."""
        if self._rows is None:
            self._rows = rows_together(connection, *self.reads)
        return self._rows


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
    # PostgreSQL connection costs more than most requests); bursts may borrow more. Last
    # in, first out: the busy connections stay busy, the spare ones idle (and are pinged
    # or recycled when next used).
    engine = sa.create_engine(
        url,
        pool_size=POOL_SIZE,
        max_overflow=10,
        pool_use_lifo=True,
        pool_recycle=POOL_RECYCLE_SECONDS,
    )
    sa.event.listen(engine.pool, "checkin", _note_idle_since)
    sa.event.listen(engine.pool, "checkout", _idle_pinger(engine.dialect))
    return engine


# A restarted PostgreSQL leaves the pool's connections dead. Pinging every one at every
# checkout (SQLAlchemy's pool_pre_ping) finds them, at a round trip per request. Here only
# a connection that sat idle for a while is pinged first: after a restart (which takes
# longer than that) every pooled connection has, and a dead one is replaced, along with
# every connection pooled before it, before the request sees it. A connection lost in the
# middle of a busy spell fails its statement instead: SQLAlchemy recognises the disconnect
# and empties the pool the same way, and the request answers the 503 "try again" page
# (shop.errors), as any request caught mid-restart must.
IDLE_PING_SECONDS = 1.0
POOL_RECYCLE_SECONDS = 1800  # and no connection lives longer than this
_IDLE_SINCE = "shop.db.idle_since"


def _note_idle_since(_dbapi_connection, record) -> None:
    if record is not None:
        record.info[_IDLE_SINCE] = time.monotonic()


def _idle_pinger(dialect: sa.Dialect):
    def ping_if_idle(dbapi_connection, record, _proxy) -> None:
        idle_since = record.info.pop(_IDLE_SINCE, None)
        if idle_since is None or time.monotonic() - idle_since < IDLE_PING_SECONDS:
            return  # new, or in use a moment ago
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as error:
            # The pool drops it and every connection pooled before it, then tries again
            # with a new one (which fails as OperationalError, a 503, if the database is
            # still away).
            raise sa.exc.InvalidatePoolError(str(error)) from error

    return ping_if_idle


# SQLite reads the database through a memory map of (up to) this many bytes instead of
# copying each page into the connection's own 2 MB cache: a worker's pages (a search's
# index pages and candidate rows, a listing's, a product's) push each other out of that
# cache, and every page read again is a system call and a copy. The map is the OS page
# cache itself, shared by every worker. Beyond it (a bigger file), pages are read as before.
SQLITE_MMAP_BYTES = 1 << 30


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute(f"PRAGMA mmap_size={SQLITE_MMAP_BYTES}")
    cursor.close()


READ_METHODS = ("GET", "HEAD")
READING = "db_reading"  # in ``g``: this request's session reads only
READER = "shop.db.reader"  # execution option of the engine such sessions read with


def init_app(app: Flask) -> None:
    engine = make_engine(app.config["DATABASE_URL"])
    app.extensions["sa_engine"] = engine
    app.extensions["sa_sessionmaker"] = sessionmaker(engine, expire_on_commit=False)
    # The same pool; on PostgreSQL each checkout switches the connection to autocommit and
    # back, which psycopg does without a word to the server. sqlite3 begins a transaction
    # only before a write, so its reads need no switch - and switching back would cost a
    # ``PRAGMA read_uncommitted``, which makes SQLite forget every statement it had
    # prepared on the connection (each page's SQL compiled anew).
    options: dict = {READER: True}
    if engine.dialect.name != "sqlite":
        options["isolation_level"] = "AUTOCOMMIT"
    reader = engine.execution_options(**options)
    app.extensions["sa_reader"] = sessionmaker(reader, expire_on_commit=False)
    sa.event.listen(engine, "before_cursor_execute", _refuse_write_statement)
    app.url_value_preprocessor(_note_reading)
    app.after_request(_refuse_writes_on_read)
    app.teardown_appcontext(_close_session)


def get_session() -> Session:
    """The session of the current request (or CLI command, or job), opened on first use:
    for a GET or HEAD request, or a view marked ``@reads_only``, one that reads without a
    transaction and cannot write."""
    if "db_session" not in g:
        maker = "sa_reader" if g.get(READING) else "sa_sessionmaker"
        g.db_session = current_app.extensions[maker]()
    return g.db_session


def reads_only(view):
    """For a POST view that changes no data (a form step kept in the visitor's cookie):
    its session reads like a GET's."""
    view.reads_only = True
    return view


def _note_reading(endpoint: str | None, _values) -> None:
    """Whether the request reads only, noted before any ``before_request`` hook can open
    the session (URL value preprocessors run first). Only in the request's own ``g``: a
    job run in-process after the commit has an app context, and a session, of its own."""
    view = current_app.view_functions.get(endpoint) if endpoint else None
    setattr(g, READING, request.method in READ_METHODS or getattr(view, "reads_only", False))


def commits(view):
    """For a view that changes data: commit its session once it has answered below 400
    (a redirect after a successful POST). An error page commits nothing; two saves of
    the same unique thing at once answer the 409 "saved by someone else" page. A session
    with no transaction under way (the view wrote only through ``run_alone``, or nothing)
    has nothing to commit."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        response = current_app.make_response(view(*args, **kwargs))
        session = g.get("db_session")
        if session is not None and response.status_code < 400 and session.in_transaction():
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
    """A GET, HEAD or ``@reads_only`` request tried to change the database (nothing was
    written)."""


_WRITES = ("INSERT", "UPDATE", "DELETE", "MERGE", "CREATE", "ALTER", "DROP", "TRUNCATE")


def _refuse_write_statement(conn, _cursor, statement, _parameters, context, _executemany):
    """On a reading connection (GET, HEAD, ``@reads_only``), a write is refused before
    the database sees it: with no transaction there would be nothing to roll it back."""
    if not conn.get_execution_options().get(READER):
        return
    if context is not None and (context.isinsert or context.isupdate or context.isdelete):
        verb = "write"
    else:
        verb = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else ""
        if verb not in _WRITES:
            return
    raise WriteOnRead(f"a {verb} statement while reading only: {statement[:80]}")


def _refuse_writes_on_read(response):
    session = g.get("db_session")
    if session is None or not g.get(READING):
        return response
    if session.info.get(WROTE) or session.new or session.dirty or session.deleted:
        message = f"{request.method} {request.path} changed objects; they were discarded"
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
