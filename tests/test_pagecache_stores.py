"""The page cache's stores: bounded memory, expiry, versions that survive eviction."""

import secrets
import time

import pytest
import redis

from shop.pagecache.stores import LocalPages, MemoryStore, RedisStore
from tests.redis_dbs import SHARED

REDIS_URL = SHARED


@pytest.fixture
def redis_store():
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.RedisError:
        pytest.skip(f"no Redis at {SHARED}")
    store = RedisStore(client, f"test-{secrets.token_hex(4)}", max_bytes=10_000)
    yield store
    store.clear()


@pytest.fixture(params=["memory", "redis"])
def store(request):
    if request.param == "memory":
        return MemoryStore(max_bytes=10_000)
    return request.getfixturevalue("redis_store")


def test_local_pages_keep_the_most_recently_used_within_their_size():
    pages = LocalPages(max_bytes=25)
    pages.put("a", "x" * 10, ttl=60)
    pages.put("b", "y" * 10, ttl=60)
    assert pages.get("a") == "x" * 10  # now "b" is the least recently used
    pages.put("c", "z" * 10, ttl=60)
    assert pages.get("b") is None
    assert pages.get("a") == "x" * 10
    assert pages.get("c") == "z" * 10


def test_local_pages_refuse_a_page_bigger_than_the_whole_cache():
    pages = LocalPages(max_bytes=5)
    pages.put("big", "x" * 6, ttl=60)
    assert pages.get("big") is None


def test_local_pages_expire():
    pages = LocalPages(max_bytes=100)
    pages.put("soon", "x", ttl=0.05)
    assert pages.get("soon") == "x"
    time.sleep(0.06)
    assert pages.get("soon") is None


def test_a_version_is_stable_until_bumped(store):
    first = store.read_versions(["catalogue", "stock:polo"])
    assert store.read_versions(["catalogue", "stock:polo"]) == first
    store.bump(["stock:polo"])
    after = store.read_versions(["catalogue", "stock:polo"])
    assert after[0] == first[0]
    assert after[1] != first[1]


def test_pages_round_trip(store):
    store.put_page("key", "<p>hello \ue000csrf\ue001</p>", ttl=60)
    assert store.get_page("key") == "<p>hello \ue000csrf\ue001</p>"
    assert store.get_page("other") is None


def test_another_instance_sees_a_bump_and_the_page(redis_store):
    other = RedisStore(redis_store.redis, redis_store.prefix.split(":")[2], max_bytes=10_000)
    before = other.read_versions(["catalogue"])
    redis_store.bump(["catalogue"])
    assert other.read_versions(["catalogue"]) != before
    redis_store.put_page("k", "page", ttl=60)
    assert other.get_page("k") == "page"


def test_a_forgotten_version_never_comes_back_as_an_old_one(redis_store):
    """Redis may evict or lose a version: the name gets a new token, never a value a page
    was stored under before."""
    seen = set(redis_store.read_versions(["catalogue"]))
    for _ in range(20):
        redis_store.redis.delete(redis_store.prefix + "v:catalogue")
        token = redis_store.read_versions(["catalogue"])[0]
        assert token not in seen
        seen.add(token)


def test_clear_page_cache_forgets_this_shops_pages_only(make_app):
    namespace = secrets.token_hex(4)
    app = make_app(REDIS_URL=REDIS_URL, PAGE_CACHE_NAMESPACE=namespace, JOBS_INLINE=True)
    neighbour = make_app(
        REDIS_URL=REDIS_URL, PAGE_CACHE_NAMESPACE=namespace + "-other", JOBS_INLINE=True
    )
    store, other = app.extensions["page_store"], neighbour.extensions["page_store"]
    try:
        store.redis.ping()
    except redis.RedisError:
        pytest.skip(f"no Redis at {SHARED}")
    store.put_page("k", "page", ttl=60)
    other.put_page("k", "theirs", ttl=60)
    versions = store.read_versions(["catalogue"])
    store.pages.clear()  # the CLI runs in its own process: only Redis is shared
    result = app.test_cli_runner().invoke(args=["clear-page-cache"])
    assert "cleared" in result.output
    assert store.get_page("k") is None
    assert store.read_versions(["catalogue"]) != versions
    other.pages.clear()
    assert other.get_page("k") == "theirs"
    other.clear()


def test_processes_of_one_machine_share_versions_through_the_file(tmp_path):
    """Without Redis, a second worker or a cron job bumps what the web process reads."""
    path = tmp_path / "page-versions.json"
    web, cron = MemoryStore(10_000, path), MemoryStore(10_000, path)
    catalogue, polo = web.read_versions(["catalogue", "stock:polo"])
    cron.bump(["stock:polo"])
    after = web.read_versions(["catalogue", "stock:polo"])
    assert after[1] != polo
    assert after[0] == catalogue  # a name nobody bumped keeps its token: pages stay cached
    assert cron.read_versions(["stock:polo"]) == [after[1]]
    web.bump(["catalogue"])
    assert cron.read_versions(["catalogue"]) == web.read_versions(["catalogue"])
