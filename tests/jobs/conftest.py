"""Jobs against the real Redis (tests/redis_dbs.JOBS, this suite's own; only it is flushed)."""

import signal

import pytest
import redis
import sqlalchemy as sa

from shop.jobs.worker import run_worker
from shop.request_keys import UsedRequestKey
from tests.redis_dbs import JOBS

REDIS_URL = JOBS
QUICK_RETRIES = "0,0,0"  # three retries, at once


@pytest.fixture
def redis_client():
    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


@pytest.fixture
def rq_app(make_app, redis_client):
    return make_app(REDIS_URL=REDIS_URL, JOBS_RETRY_INTERVALS=QUICK_RETRIES)


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
