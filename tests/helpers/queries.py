"""The SQL an app runs, recorded."""

from contextlib import contextmanager

import sqlalchemy as sa


@contextmanager
def recording_queries(app):
    """``with recording_queries(app) as statements: ...`` collects the SQL the app runs."""
    engine = app.extensions["sa_engine"]
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
