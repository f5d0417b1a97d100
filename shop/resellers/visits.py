"""Window visits: counted where counting is cheap, then folded into ``reseller_visit``.

Every new visitor of a window counts one visit (``shop.resellers.marking``), and a window
is a page that is shared to be opened by many at once: a database write per visitor would
make each of them wait for a commit (and, on SQLite, for every other visitor's). With
``REDIS_URL`` a visit is one ``HINCRBY`` on the day's hash in Redis
(``sf:visits:<namespace>:<day>``, a field per window), and the job ``fold-window-visits``
(every minute) moves the counts into ``reseller_visit``, so a window's dashboard is at most
a minute behind. Without Redis (one machine, no scheduler needed) a visit is written to the
database at once, as it is when Redis does not answer.

Folding is exactly once between any number of folds at once: a fold first claims each
day's hash by renaming it to a name of its own (``RENAME`` is atomic: of two folds, one
finds the hash gone), adds what it claimed in one transaction, then deletes its claim. A
fold that dies between its commit and the delete leaves its claim behind; the next fold
older than ``STALE_CLAIM_SECONDS`` claims it again and adds it (visits are counted twice
rather than lost; the window is one statement long).
"""

import logging
import secrets
import time
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


def count_in_redis(client, config, reseller_id: int, day: date) -> None:
    """One visit for the window on ``day``, in Redis (``client`` may be a pipeline)."""
    client.hincrby(f"{prefix_for(config)}{day.isoformat()}", str(reseller_id), 1)


def count_visit(reseller_id: int, day: date) -> None:
    """One visit for the window on ``day``: in Redis when there is one, else (or when it
    does not answer) in the database."""
    client = _redis()
    if client is not None:
        try:
            count_in_redis(client, current_app.config, reseller_id, day)
            return
        except RedisError as error:
            logger.warning("window visit written to the database (Redis: %s)", error)
    with current_app.extensions["sa_engine"].begin() as connection:
        if connection.dialect.name == "postgresql":
            # A visit is a statistic: its commit need not wait for the disk (3-4 ms on
            # every new visitor's page). A crash of PostgreSQL may lose the last fraction
            # of a second of visits, never corrupt them (no order or money is written).
            connection.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
        add_visits(connection, reseller_id, day)


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
