"""Window visits: counted where counting is cheap, then folded into ``reseller_visit``.

Every new visitor of a window counts one visit (``shop.resellers.marking``), and a window
is a page that is shared to be opened by many at once: a database write per visitor would
make each of them wait for a commit (and, on SQLite, for every other visitor's). With
``REDIS_URL`` a visit goes to this process's tally (``VisitTally``), which a timer sends
to Redis at most ``WINDOW_VISITS_SEND_SECONDS`` (1 s) after it took the visit, as one
``HINCRBY`` per window and day on the day's hash (``sf:visits:<namespace>:<day>``, a field
per window); the job ``fold-window-visits`` (every minute) moves the counts into
``reseller_visit``, so a window's dashboard is about a minute behind. Without Redis (one
machine, no scheduler needed) a visit is written to the database at once, as a tally is
when Redis does not answer.

Folding is exactly once between any number of folds at once: a fold first claims each
day's hash by renaming it to a name of its own (``RENAME`` is atomic: of two folds, one
finds the hash gone), adds what it claimed in one transaction, then deletes its claim. A
fold that dies between its commit and the delete leaves its claim behind; the next fold
older than ``STALE_CLAIM_SECONDS`` claims it again and adds it (visits are counted twice
rather than lost; the window is one statement long).
"""

import atexit
import logging
import os
import secrets
import threading
import time
import weakref
from collections import Counter
from datetime import date

import sqlalchemy as sa
from flask import current_app
from redis.exceptions import RedisError
from sqlalchemy.dialects import postgresql, sqlite

from shop.resellers.models import ResellerVisit

logger = logging.getLogger(__name__)

STALE_CLAIM_SECONDS = 600  # a claim this old belongs to a fold that died


def _visits_upsert(insert) -> sa.Insert:
    table = ResellerVisit.__table__
    statement = insert(table).values(
        reseller_id=sa.bindparam("reseller_id"), day=sa.bindparam("day"), visits=sa.bindparam("n")
    )
    return statement.on_conflict_do_update(
        index_elements=["reseller_id", "day"],
        set_={"visits": table.c.visits + statement.excluded.visits},
    )


# Built once: counting runs on every new visitor's window page (without Redis).
_UPSERTS = {
    "sqlite": _visits_upsert(sqlite.insert),
    "postgresql": _visits_upsert(postgresql.insert),
}


def add_visits(connection: sa.Connection, reseller_id: int, day: date, visits: int = 1) -> None:
    """``visits`` more for the window on ``day``: one statement, so concurrent adds all
    count (in the caller's transaction; a plain connection: no ORM on the way)."""
    upsert = _UPSERTS[connection.dialect.name]
    connection.execute(upsert, {"reseller_id": reseller_id, "day": day, "n": visits})


def prefix_for(config) -> str:
    from shop.pagecache import namespace  # the page cache's: one per database

    return f"sf:visits:{namespace(config)}:"


def _prefix() -> str:
    return prefix_for(current_app.config)


def redis_for(app):
    """The Redis client visits are counted with, or ``None`` without ``REDIS_URL``."""
    if not app.config.get("REDIS_URL"):
        return None
    from shop.jobs.redis_queue import connection

    return connection(app)


def _redis():
    return redis_for(current_app)


def store_visits(engine: sa.Engine, counts: dict[tuple[date, int], int]) -> None:
    """``counts`` (visits by day and window) added in the database, in one transaction."""
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # A visit is a statistic: its commit need not wait for the disk (3-4 ms on
            # every new visitor's page). A crash of PostgreSQL may lose the last fraction
            # of a second of visits, never corrupt them (no order or money is written).
            connection.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
        for (day, reseller_id), visits in sorted(counts.items()):
            add_visits(connection, reseller_id, day, visits)


class VisitTally:
    """The window visits this process has counted and not yet sent to Redis.

    A visit sent on its own was one ``HINCRBY`` round trip on every new visitor's window
    page, cached or not (about a fifth of a cached window page's time). A tally is sent by
    a timer thread ``interval`` seconds after the first visit it holds: one ``HINCRBY``
    per window and day, together (``MULTI``/``EXEC``: all or none), at most once per
    interval whatever the traffic; and what is left at the process's exit (``atexit``).
    With ``interval`` 0 each visit is sent at once, by the request that made it (the
    tests' setting). A tally Redis does not take is written to the database.

    The price: a process that dies without exiting (SIGKILL, a crash) loses the visits of
    its last interval, as PostgreSQL's asynchronous commit of a visit may; visits are a
    statistic, never an order or money.
    """

    def __init__(self, app, interval: float):
        self.interval = interval
        self._client = redis_for(app)
        self._prefix = prefix_for(app.config)
        self._engine = app.extensions["sa_engine"]
        self._lock = threading.Lock()
        self._counts: Counter[tuple[date, int]] = Counter()
        self._timer: threading.Timer | None = None
        _TALLIES.add(self)

    def add(self, reseller_id: int, day: date) -> None:
        """One visit for the window on ``day``."""
        with self._lock:
            self._counts[(day, reseller_id)] += 1
            if self.interval > 0:
                if self._timer is None:
                    self._timer = threading.Timer(self.interval, self.send)
                    self._timer.daemon = True  # exit does not wait: ``atexit`` sends
                    self._timer.start()
                return
        self.send()

    def send(self) -> int:
        """Send what the tally holds (Redis, else the database); the number of visits."""
        with self._lock:
            counts, self._counts = self._counts, Counter()
            timer, self._timer = self._timer, None
        if timer is not None and timer is not threading.current_thread():
            timer.cancel()  # sent now, by the caller
        if not counts:
            return 0
        try:
            self._send_to_redis(counts)
        except RedisError as error:
            logger.warning(
                "%d window visit(s) written to the database (Redis: %s)", counts.total(), error
            )
            store_visits(self._engine, counts)
        return counts.total()

    def _send_to_redis(self, counts: Counter) -> None:
        if len(counts) == 1:  # the usual tally: one window, one day
            [((day, reseller_id), visits)] = counts.items()
            self._client.hincrby(f"{self._prefix}{day.isoformat()}", str(reseller_id), visits)
            return
        pipeline = self._client.pipeline(transaction=True)
        for (day, reseller_id), visits in counts.items():
            pipeline.hincrby(f"{self._prefix}{day.isoformat()}", str(reseller_id), visits)
        pipeline.execute()

    def _forked(self) -> None:
        """In a forked child: the parent's visits are the parent's to send, and its timer
        did not come across."""
        self._lock = threading.Lock()
        self._counts = Counter()
        self._timer = None


_TALLIES: "weakref.WeakSet[VisitTally]" = weakref.WeakSet()
TALLY = "window_visit_tally"  # app.extensions


def _after_fork_in_child() -> None:
    for tally in list(_TALLIES):
        tally._forked()


os.register_at_fork(after_in_child=_after_fork_in_child)


@atexit.register
def send_every_tally() -> None:
    """At the process's exit: every app's tally sent (a worker's last visits)."""
    for tally in list(_TALLIES):
        try:
            tally.send()
        except Exception:  # noqa: BLE001 - the others must still be sent
            logger.exception("window visits not sent at exit")


def tally_for(app) -> VisitTally | None:
    """The app's visit tally (made on first use), or ``None`` without ``REDIS_URL``."""
    tally = app.extensions.get(TALLY)
    if tally is None and app.config.get("REDIS_URL"):
        interval = app.config["WINDOW_VISITS_SEND_SECONDS"]
        tally = app.extensions[TALLY] = VisitTally(app, interval)
    return tally


def count_visit(app, reseller_id: int, day: date) -> None:
    """One visit for the window on ``day``: in this process's tally for Redis when there
    is one, else in the database at once."""
    tally = tally_for(app)
    if tally is not None:
        tally.add(reseller_id, day)
    else:
        store_visits(app.extensions["sa_engine"], {(day, reseller_id): 1})


def fold_visits(now: float | None = None) -> int:
    """Move the visits counted in Redis into ``reseller_visit``; the number moved."""
    client = _redis()
    if client is None:
        return 0
    now = time.time() if now is None else now
    prefix = _prefix()
    claims = []
    for key in client.scan_iter(match=f"{prefix}*", count=1000):
        name = key.decode()
        rest = name[len(prefix) :]
        if rest.startswith("claim:"):
            if now - _claimed_at(rest) < STALE_CLAIM_SECONDS:
                continue  # another fold's, at work now
            day_text = rest.split(":")[2]
        else:
            day_text = rest
        try:
            day = date.fromisoformat(day_text)
        except ValueError:  # not a day's count: not ours to fold
            logger.warning("window visits: %s is not a day's count; left alone", name)
            continue
        claim = f"{prefix}claim:{int(now)}-{secrets.token_hex(6)}:{day_text}"
        try:
            client.rename(name, claim)
        except RedisError:  # gone: another fold claimed it first
            continue
        claims.append((claim, day))
    moved = 0
    for claim, day in claims:
        counts = {int(field): int(value) for field, value in client.hgetall(claim).items()}
        with current_app.extensions["sa_engine"].begin() as connection:
            for reseller_id, visits in sorted(counts.items()):
                add_visits(connection, reseller_id, day, visits)
        client.delete(claim)
        moved += sum(counts.values())
    return moved


def _claimed_at(rest: str) -> float:
    """When a claim (``claim:<seconds>-<random>:<day>``) was made."""
    stamp = rest.split(":")[1].split("-")[0]
    return float(stamp) if stamp.isdigit() else 0.0
