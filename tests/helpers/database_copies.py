"""A database filled once per test process and copied for each test that needs it.

Filling some databases takes seconds: the query plans' 2,000-product catalogue takes 13 s
on PostgreSQL, most of it the search index's triggers, and as long again to empty. A copy
takes a fifth of a second (PostgreSQL's ``CREATE DATABASE … TEMPLATE``, SQLite's backup
API) and keeps what ``ANALYZE`` learnt. A copy is dropped after its test, never emptied
(``is_copy``); the templates go at the end of the session (``drop_made``).
"""

import itertools
import sqlite3
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa

from shop import migrate

_TEMPLATES: dict[tuple[str, str], str] = {}
_COPIES: set[str] = set()
_MADE: list[str] = []
_NUMBERS = itertools.count(1)


def _admin_engine(url: str) -> sa.Engine:
    """An autocommit connection to the server's ``postgres`` database."""
    admin_url = sa.make_url(url).set(database="postgres")
    return sa.create_engine(admin_url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)


def _drop_database(url: str) -> None:
    name = sa.make_url(url).database
    with _admin_engine(url).connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def beside(url: str, suffix: str) -> str:
    """A database next to ``url``'s: ``<database>_<suffix>`` on the same PostgreSQL
    server, ``<file>-<suffix>.sqlite3`` in the same folder."""
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = Path(parsed.database or "")
        name = str(path.with_name(f"{path.stem}-{suffix}.sqlite3"))
    else:
        name = f"{parsed.database}_{suffix}"
    return parsed.set(database=name).render_as_string(hide_password=False)


def create_empty(url: str) -> None:
    drop(url)
    if sa.make_url(url).get_backend_name() == "sqlite":
        return
    name = sa.make_url(url).database
    with _admin_engine(url).connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))


def template(url: str, name: str, fill: Callable[[str], None]) -> str:
    """The database ``name`` beside ``url``: migrated and given to ``fill`` the first time
    this process asks, the same database after that. ``fill`` must leave no connection
    open (a PostgreSQL template cannot be copied while it is used)."""
    key = (url, name)
    if key not in _TEMPLATES:
        made = beside(url, name)
        create_empty(made)
        _MADE.append(made)
        migrate.upgrade(made)
        fill(made)
        _TEMPLATES[key] = made
    return _TEMPLATES[key]


def copy(template_url: str) -> str:
    """A new database holding what ``template_url`` holds."""
    parsed = sa.make_url(template_url)
    made = beside(template_url, f"copy{next(_NUMBERS)}")
    if parsed.get_backend_name() == "sqlite":
        with (
            sqlite3.connect(parsed.database or "") as source,
            sqlite3.connect(sa.make_url(made).database or "") as target,
        ):
            source.backup(target)
        source.close()
        target.close()
    else:
        drop(made)
        name = sa.make_url(made).database
        with _admin_engine(template_url).connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}" TEMPLATE "{parsed.database}"'))
    _COPIES.add(made)
    return made


def drop(url: str) -> None:
    """Drop the database (PostgreSQL) or delete its file (SQLite)."""
    _COPIES.discard(url)
    if sa.make_url(url).get_backend_name() == "sqlite":
        path = sa.make_url(url).database or ""
        for name in (path, f"{path}-wal", f"{path}-shm"):
            Path(name).unlink(missing_ok=True)
    else:
        _drop_database(url)


def is_copy(url: str) -> bool:
    return url in _COPIES


def drop_made() -> None:
    """Drop the templates this process made (at the end of the session)."""
    for url in _MADE:
        drop(url)
    _MADE.clear()
    _TEMPLATES.clear()
