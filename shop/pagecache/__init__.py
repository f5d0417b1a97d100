"""A rendered-page cache for the catalogue that is never stale.

The listing, category, search, product, school-shop and home pages are rendered once per
(path and query, language and English region, currency, build, versions) and served from
the cache until a version they depend on changes:

- ``catalogue``: bumped by every committed write to what those pages show (products,
  variants, prices, images, categories, schools and their uniform lists);
- ``stock:<product slug>`` and ``school-stock:<school slug>``: bumped by every stock
  movement of that product (they all go through ``shop.stock.allocation``).

``changes`` works out what a transaction changes and bumps it after the commit; ``pages``
serves a page with the visitor's own parts (CSRF token, cart count, signed-in navigation,
flash messages) filled in on every request, and ``fastpath`` serves the hits of visitors
who are not signed in in front of Flask's own request handling; ``stores`` keeps versions
and pages in Redis when ``REDIS_URL`` is set, so every worker and instance sees a bump at
once; without it, pages in each process and versions in a file of the instance folder
that every process of this machine reads (a second worker, a cron job). The build (a hash
of the code, templates, translations and static files) is part of every key, so a deploy
never serves pages of the previous one.

``PAGE_CACHE=0`` turns it off (the benchmark measures both).
"""

import hashlib
from pathlib import Path

from flask import Flask

from shop import PROJECT_ROOT
from shop.pagecache import changes, fastpath, pages
from shop.pagecache.stores import MemoryStore, RedisStore

PAGE_CACHE_MAX_CHARS = 64 * 1024 * 1024  # this process's copy of pages: ~64 MB of text
BUILD_FOLDERS = ("shop", "templates")


def init_app(app: Flask) -> None:
    # Flask-WTF sets csrf_token both as a Jinja global and in every template's context.
    app.jinja_env.globals["csrf_token"] = pages.csrf_token
    app.context_processor(lambda: {"csrf_token": pages.csrf_token})
    app.jinja_env.globals["page_hole"] = pages.page_hole
    from shop.layout import site_header  # it fills the page cache's holes: imported after

    app.jinja_env.globals["site_header"] = site_header
    app.extensions["page_holes"] = pages.Holes(app.config["SECRET_KEY"])
    app.extensions["page_build"] = build_id(static_files=app.extensions.get("static_manifest"))
    if not app.config["PAGE_CACHE"]:
        app.extensions["page_store"] = None
        return
    store = make_store({**app.config, "INSTANCE_PATH": app.instance_path})
    app.extensions["page_store"] = store
    changes.register(app.extensions["sa_engine"], store)
    fastpath.init_app(app)


def make_store(config):
    redis_url = config.get("REDIS_URL")
    if not redis_url:
        versions = config.get("PAGE_CACHE_VERSIONS_FILE") or (
            Path(config["INSTANCE_PATH"]) / f"page-versions-{namespace(config)}.json"
        )
        return MemoryStore(PAGE_CACHE_MAX_CHARS, Path(versions))
    import redis

    client = redis.Redis.from_url(redis_url, socket_timeout=2, socket_connect_timeout=2)
    return RedisStore(client, namespace(config), PAGE_CACHE_MAX_CHARS)


def namespace(config) -> str:
    """Pages and versions of one database: instances on the same database share them."""
    seed = f"{config['DATABASE_URL']}\n{config.get('PAGE_CACHE_NAMESPACE') or ''}"
    return hashlib.sha1(seed.encode(), usedforsecurity=False).hexdigest()[:12]


def build_id(root: Path = PROJECT_ROOT, static_files: dict[str, str] | None = None) -> str:
    """A hash of the files that shape a page, read once at start-up: the code, templates
    and translations, and the static files' content-hashed names (``shop.assets``)."""
    digest = hashlib.sha1(usedforsecurity=False)
    for folder in BUILD_FOLDERS:
        for path in sorted((root / folder).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(str(path.relative_to(root)).encode())
                digest.update(path.read_bytes())
    for hashed in sorted((static_files or {}).values()):
        digest.update(hashed.encode())
    return digest.hexdigest()[:12]
