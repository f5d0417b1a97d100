"""Where versions and rendered pages live: this process, or Redis for every instance.

A *version* is a random token per name (``catalogue``, ``stock:<product slug>``,
``school-stock:<school slug>``). Bumping a name gives it a new random token; a name
nobody has bumped yet gets one the first time it is read. Random tokens rather than
counters: a counter that Redis evicted, or that a restarted Redis forgot, would count
again from the start and meet pages cached under its old values; a new random token
never does.

A page is stored under a key that holds the versions it was rendered at, so a stored page
never changes: an instance may keep a copy in its own memory (``LocalPages``) in front of
Redis without ever serving one that is out of date.
"""

import fcntl
import json
import os
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable
from contextlib import contextmanager, suppress
from pathlib import Path

from redis.exceptions import RedisError

PAGE_TTL_SECONDS = 24 * 3600  # a backstop: a page is normally replaced by a new version
# Versions not bumped for this long are forgotten in Redis (a new token: misses, no harm).
VERSION_TTL_SECONDS = 2 * PAGE_TTL_SECONDS


def clock() -> float:
    """Now, in seconds since the epoch (one place for tests to move time)."""
    return time.time()


def new_token() -> str:
    """A version: when it was made (milliseconds, hex) and a random part, so a version
    never repeats and tells when the pages that read it last changed."""
    return f"{int(clock() * 1000):x}.{secrets.token_hex(8)}"


def token_time(token: str) -> float | None:
    """When ``token`` was made (seconds since the epoch), or ``None`` for a token of
    another shape."""
    stamp, dot, _random = token.partition(".")
    try:
        return int(stamp, 16) / 1000 if dot else None
    except ValueError:
        return None


class LocalPages:
    """A bounded, thread-safe, least-recently-used map of page key → (expiry, text)."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self._entries: OrderedDict[str, tuple[float, str]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: str) -> str | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry[0] <= time.time():
                self._drop(key)
                return None
            self._entries.move_to_end(key)
            return entry[1]

    def put(self, key: str, text: str, ttl: float) -> None:
        if len(text) > self.max_bytes:
            return
        with self._lock:
            if key in self._entries:
                self._drop(key)
            self._entries[key] = (time.time() + ttl, text)
            self._bytes += len(text)
            while self._bytes > self.max_bytes:
                self._drop(next(iter(self._entries)))

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0

    def _drop(self, key: str) -> None:
        _expires, text = self._entries.pop(key)
        self._bytes -= len(text)


class MemoryStore:
    """Pages in this process; versions in this process, or in a file that every process
    of this machine reads (``versions_path``): then a second worker, or ``flask
    expire-reservations`` run from cron, bumps what the web process reads."""

    def __init__(self, max_bytes: int, versions_path: Path | None = None):
        self.pages = LocalPages(max_bytes)
        self.versions_path = versions_path
        self._versions: dict[str, str] = {}  # from the file, when there is one
        self._unshared: dict[str, str] = {}  # names the file does not hold yet
        self._seen: tuple[int, int] | None = None
        self._lock = threading.Lock()

    def read_versions(self, names: list[str]) -> list[str]:
        with self._lock:
            self._reload_if_changed()
            return [
                self._versions.get(name) or self._unshared.setdefault(name, new_token())
                for name in names
            ]

    def bump(self, names: Iterable[str]) -> None:
        names = list(names)
        with self._lock:
            if self.versions_path is None:
                self._versions.update((name, new_token()) for name in names)
                return
            with self._file_lock(self.versions_path):
                versions = self._read_file()
                versions.update((name, new_token()) for name in names)
                temporary = self.versions_path.with_suffix(f".{new_token()}.tmp")
                temporary.write_text(json.dumps(versions))
                os.replace(temporary, self.versions_path)
            self._reload_if_changed()

    def get_page(self, key: str) -> str | None:
        return self.pages.get(key)

    def put_page(self, key: str, text: str, ttl: float) -> None:
        self.pages.put(key, text, ttl)

    def clear(self) -> None:
        with self._lock:
            self._versions.clear()
            self._unshared.clear()
            if self.versions_path is not None:
                self.versions_path.unlink(missing_ok=True)
                self._seen = None
        self.pages.clear()

    def _reload_if_changed(self) -> None:
        if self.versions_path is None:
            return
        try:
            stat = self.versions_path.stat()
        except FileNotFoundError:
            seen = None
        else:
            seen = (stat.st_ino, stat.st_mtime_ns)
        if seen != self._seen:
            self._versions = self._read_file()
            # A name nobody has bumped keeps this process's token; once bumped, the file's.
            self._unshared = {
                name: token for name, token in self._unshared.items() if name not in self._versions
            }
            self._seen = seen

    def _read_file(self) -> dict[str, str]:
        if self.versions_path is None:
            return {}
        try:
            return json.loads(self.versions_path.read_text())
        except (FileNotFoundError, ValueError):
            return {}

    @contextmanager
    def _file_lock(self, versions_path: Path):
        versions_path.parent.mkdir(parents=True, exist_ok=True)
        with open(versions_path.with_suffix(".lock"), "a") as handle:  # noqa: PTH123
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


class StoreUnavailable(RuntimeError):
    """The shared store (Redis) did not answer: serve the page without the cache."""


class RedisStore:
    """Versions in Redis, so every worker and instance sees a bump at once; pages in Redis
    too, with a copy in this process's memory (safe: a stored page never changes).

    While Redis is away (a restart, a failover) reading versions raises
    ``StoreUnavailable`` and pages are rendered as if the cache were off; a page that
    cannot be stored is simply not stored. A bump that fails is logged by ``changes``
    (a restarted Redis forgets every version, so no old page can be served after it)."""

    def __init__(self, redis_client, namespace: str, max_bytes: int):
        self.redis = redis_client
        self.prefix = f"sf:pages:{namespace}:"
        self.pages = LocalPages(max_bytes)

    def read_versions(self, names: list[str]) -> list[str]:
        try:
            return self._read_versions(names)
        except RedisError as error:
            raise StoreUnavailable(str(error)) from error

    def _read_versions(self, names: list[str]) -> list[str]:
        keys = [self.prefix + "v:" + name for name in names]
        values = self.redis.mget(keys)
        missing = [key for key, value in zip(keys, values, strict=True) if value is None]
        if missing:
            pipe = self.redis.pipeline(transaction=False)
            for key in missing:
                pipe.set(key, new_token(), nx=True, ex=VERSION_TTL_SECONDS)
            pipe.mget(keys)
            values = pipe.execute()[-1]
        return [value.decode() for value in values]

    def bump(self, names: Iterable[str]) -> None:
        pipe = self.redis.pipeline(transaction=False)
        for name in names:
            pipe.set(self.prefix + "v:" + name, new_token(), ex=VERSION_TTL_SECONDS)
        pipe.execute()

    def get_page(self, key: str) -> str | None:
        text = self.pages.get(key)
        if text is not None:
            return text
        pipe = self.redis.pipeline(transaction=False)
        pipe.get(self.prefix + "p:" + key)
        pipe.pttl(self.prefix + "p:" + key)
        try:
            found, ttl_ms = pipe.execute()
        except RedisError:
            return None
        if found is None or ttl_ms <= 0:
            return None
        text = found.decode()
        self.pages.put(key, text, ttl_ms / 1000)
        return text

    def put_page(self, key: str, text: str, ttl: float) -> None:
        ttl_ms = int(ttl * 1000)  # rounded down: a page never outlives its time
        if ttl_ms <= 0:
            return
        self.pages.put(key, text, ttl)
        with suppress(RedisError):  # not shared this time; rendered again elsewhere
            self.redis.set(self.prefix + "p:" + key, text.encode(), px=ttl_ms)

    def clear(self) -> None:
        """Forget every version and page of this namespace (after restoring a backup)."""
        self.pages.clear()
        for key in self.redis.scan_iter(self.prefix + "*", count=500):
            self.redis.delete(key)
