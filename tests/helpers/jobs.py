"""Jobs against the real Redis (tests/redis_dbs.JOBS, this suite's own): running the queued
jobs in this process, and the request keys they used."""

import signal

import sqlalchemy as sa

from shop.jobs.worker import run_worker
from shop.request_keys import UsedRequestKey
from tests.redis_dbs import JOBS

REDIS_URL = JOBS
QUICK_RETRIES = "0,0,0"  # three retries, at once


def work(app) -> None:
    """Run every queued job (and retry due) in this process, as ``flask worker --burst
    --simple`` does; RQ's signal handlers are put back afterwards."""
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        run_worker(app, burst=True, simple=True)
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)


def used_keys(app) -> list[str]:
    with app.extensions["sa_engine"].connect() as connection:
        return sorted(connection.scalars(sa.select(UsedRequestKey.key)))
