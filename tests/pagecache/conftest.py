"""Fixtures for the never-stale tests of the rendered-page cache (``shop.pagecache``).

Every test runs twice: with the in-process ``MemoryStore`` and with ``RedisStore`` (Redis
the shared test database, a namespace of its own per test, emptied afterwards).

The proof that a page really comes from the cache, and the readers of pages:
``tests/helpers/pagecache.py``. Only a write made through the shop's own paths (which bump
versions) may change what a cached page shows.
"""

import itertools

import itsdangerous
import pytest

from shop.pagecache.stores import RedisStore
from tests.helpers.pagecache import store_settings


@pytest.fixture(params=["memory", "redis"])
def store_kind(request) -> str:
    return request.param


@pytest.fixture
def cache_app(make_app):
    """``cache_app(kind, **settings)`` → an app with that page store; Redis namespaces
    are emptied when the test ends."""
    apps = []

    def factory(kind: str, **settings):
        app = make_app(**{**store_settings(kind), **settings})
        assert app.extensions["page_store"] is not None, "the page cache must be on"
        apps.append(app)
        return app

    yield factory
    for app in apps:
        store = app.extensions["page_store"]
        if isinstance(store, RedisStore):
            store.clear()
            store.redis.close()


@pytest.fixture
def app(cache_app, store_kind):
    """The plain shop (no payments) with the page store of this run."""
    return cache_app(store_kind)


@pytest.fixture
def visitor(app):
    """An anonymous shopper's browser (``client`` is the staff member's)."""
    return app.test_client()


@pytest.fixture
def steady_tokens(monkeypatch):
    """Signed CSRF tokens carry the second they were signed in: hold the clock they read
    still, so a visitor's filled page (and its ETag) only changes when the page does."""
    seconds = itertools.repeat(1_800_000_000)
    monkeypatch.setattr(
        itsdangerous.timed.TimestampSigner, "get_timestamp", lambda _s: next(seconds)
    )
