"""Jobs against the real Redis (tests/redis_dbs.JOBS, this suite's own; only it is flushed)."""

import pytest
import redis

from tests.helpers.jobs import QUICK_RETRIES, REDIS_URL


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
