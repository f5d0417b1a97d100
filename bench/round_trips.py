"""Count what a request costs the database: SQL statements and round trips on the wire.

``RoundTrips(engine)`` listens to the engine (SQLAlchemy's ``before_cursor_execute``,
``commit`` and ``rollback``, and the pool's pre-ping) and turns on libpq's trace for every
PostgreSQL connection the pool opens, so that what psycopg sends on its own — ``BEGIN``
before a transaction's first statement, the ping's ``SELECT 1``, a ``ROLLBACK`` that
SQLAlchemy asked for — is counted too. A round trip is one exchange that the server ends
with ``ReadyForQuery``; each is named by the first message the client sent in it.

    counter = RoundTrips(engine)
    counter.take()            # forget what came before
    client.get("/checkout")
    counter.take()            # → {"statements": 7, "commits": 0, ..., "wire": {...}}

Single-threaded use only (one request at a time): the trace files are read between
requests, while every connection is back in the pool.
"""

import os
import tempfile
from collections import Counter
from pathlib import Path

import sqlalchemy as sa
from psycopg import pq

KINDS = ("ping", "begin", "statement", "commit", "rollback")


class RoundTrips:
    def __init__(self, engine: sa.Engine):
        self.engine = engine
        self.sql = Counter()
        self.statements: list[str] = []  # since the last ``take``, first lines
        self.traces: list[list] = []  # [pgconn, file, its descriptor, bytes read]
        self.tracing = True
        self.folder = Path(tempfile.mkdtemp(prefix="round-trips-"))
        sa.event.listen(engine, "before_cursor_execute", self._statement)
        sa.event.listen(engine, "commit", lambda conn: self.sql.update(["commits"]))
        sa.event.listen(engine, "rollback", lambda conn: self.sql.update(["rollbacks"]))
        sa.event.listen(engine.pool, "connect", self._trace)
        dialect = engine.dialect
        ping = dialect.do_ping

        def counted_ping(dbapi_connection):
            self.sql["pings"] += 1
            return ping(dbapi_connection)

        dialect.do_ping = counted_ping
        engine.dispose()  # connections opened before now are not traced: open them anew

    def stop_tracing(self) -> None:
        """Leave libpq's trace off from now on (it costs CPU); the SQL is still counted."""
        self._wire()
        for pgconn, _path, _fd, _offset in self.traces:
            if pgconn.status == pq.ConnStatus.OK:
                pgconn.untrace()
        self.traces = []
        self.tracing = False

    def _statement(self, conn, cursor, statement, parameters, context, executemany):
        self.sql["statements"] += 1
        self.statements.append(" ".join(statement.split())[:160])

    def _trace(self, dbapi_connection, _record) -> None:
        if self.engine.dialect.name != "postgresql" or not self.tracing:
            return
        path = self.folder / f"{len(self.traces)}.trace"
        # Kept open for good: libpq writes through a stream on this descriptor.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        self.traces.append([dbapi_connection.pgconn, path, fd, 0])
        self._start(dbapi_connection.pgconn, fd)

    @staticmethod
    def _start(pgconn, fd: int) -> None:
        pgconn.trace(fd)
        pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS | pq.Trace.REGRESS_MODE)

    def _wire(self) -> list[tuple[str, str]]:
        """Round trips since the last call (flushing libpq's buffered trace)."""
        wire: list[tuple[str, str]] = []
        for trace in self.traces:
            pgconn, path, fd, offset = trace
            if pgconn.status == pq.ConnStatus.OK:
                pgconn.untrace()  # flushes libpq's stream
                self._start(pgconn, fd)
            data = path.read_bytes()
            trace[3] = len(data)
            wire += exchanges(data[offset:].decode("utf-8", "replace"))
        return wire

    def take(self) -> dict:
        """What was counted since the last ``take``, and start again."""
        counts = {
            "statements": self.sql["statements"],
            "commits": self.sql["commits"],
            "rollbacks": self.sql["rollbacks"],
            "pings": self.sql["pings"],
            "sql": self.statements,
        }
        self.sql.clear()
        self.statements = []
        wire = self._wire()
        kinds = Counter(kind for kind, _ in wire)
        counts["round_trips"] = len(wire)
        counts["wire"] = {kind: kinds[kind] for kind in KINDS}
        counts["wire_sent"] = [sent for _, sent in wire]
        return counts


def exchanges(trace: str) -> list[tuple[str, str]]:
    """The exchanges in a libpq trace as ``(kind, what the client sent first)``: ``F``
    lines are the client's messages, and the server's ``ReadyForQuery`` closes each."""
    found = []
    first = None
    for line in trace.splitlines():
        fields = line.split("\t")
        if len(fields) < 3:
            continue
        direction, message = fields[0], fields[2]
        argument = fields[3] if len(fields) > 3 else ""
        if direction == "F" and first is None:
            first = (_kind(message, argument), f"{message} {argument.strip()}"[:120])
        elif direction == "B" and message == "ReadyForQuery" and first is not None:
            found.append(first)
            first = None
    return found


def _kind(message: str, argument: str) -> str:
    if message != "Query":
        return "statement"
    text = argument.strip().strip('"').strip().upper()
    if text in (";", "SELECT 1"):  # the pool's pre-ping (SQLAlchemy 2.1 sends ";")
        return "ping"
    if text.startswith(("BEGIN", "START TRANSACTION")):
        return "begin"
    if text == "COMMIT":
        return "commit"
    if text == "ROLLBACK":
        return "rollback"
    return "statement"
