"""Fixtures built on the app factory, over a database whose schema comes from Alembic.

SQLite by default (a file per test session); PostgreSQL when ``DATABASE_URL`` is set. The
schema is migrated once per session; every test starts with empty tables.
"""

import os
import uuid
from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from shop import create_app, migrate
from shop.db import make_engine, normalise_url
from shop.i18n_catalogs import compile_catalogs
from shop.jobs.queue import LOCAL_KEYS
from shop.models import metadata
from tests.redis_dbs import SHARED

TEST_SETTINGS = {
    "TESTING": True,
    "SECRET_KEY": "test-secret",
    "WTF_CSRF_ENABLED": False,
    "SERVER_NAME": "localhost",
}


# What production must configure beyond the secret key (shop.config.check_settings).
PRODUCTION_SETTINGS = {
    "SHOP_ENV": "production",
    "STRIPE_SECRET_KEY": "sk_test_production_like",
    "STRIPE_PUBLISHABLE_KEY": "pk_test_production_like",
    "STRIPE_WEBHOOK_SECRET": "whsec_production_like",
    # Links in emails, and the one host production answers (the test client's).
    "SHOP_BASE_URL": "http://localhost",
    # Rate limits shared by every worker; Redis runs on loopback (tests/redis_dbs.SHARED).
    "REDIS_URL": SHARED,
    # No worker runs for these tests (tests/jobs/ start their own): jobs such as emails
    # run in-process after the commit, so the outbox has them.
    "JOBS_INLINE": "1",
}


@pytest.fixture(autouse=True)
def _forget_local_job_keys():
    """Jobs run in-process remember their keys in this process (shop.jobs.queue): every
    test starts with none, whichever app ran a job before."""
    LOCAL_KEYS.clear()
    yield
    LOCAL_KEYS.clear()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    url = os.environ.get("DATABASE_URL")
    if url:
        url = normalise_url(url)
        migrate.reset_database(url)
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
    compile_catalogs()
    migrate.upgrade(url)
    return url


@pytest.fixture
def make_app(database_url, tmp_path):
    """Build an app with extra settings; tables are emptied after the test. Apps of one
    test that use Redis share a page-cache namespace no other test uses (emptying the
    tables bumps no page versions)."""
    apps = []
    page_cache_namespace = f"test-{uuid.uuid4().hex}"

    def factory(**overrides):
        settings = {
            **TEST_SETTINGS,
            "DATABASE_URL": database_url,
            "UPLOAD_FOLDER": str(tmp_path / "uploads"),
            "MAIL_OUTBOX": str(tmp_path / "outbox"),
            "PAGE_CACHE_NAMESPACE": page_cache_namespace,
            "PAGE_CACHE_VERSIONS_FILE": str(tmp_path / "page-versions.json"),
            **overrides,
        }
        app = create_app(settings)
        apps.append(app)
        return app

    yield factory
    for app in apps:
        app.extensions["sa_engine"].dispose()
    empty_tables(database_url)


def empty_tables(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as connection:
        for table in reversed(metadata.sorted_tables):
            connection.execute(table.delete())
    engine.dispose()


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def outbox(tmp_path):
    """``outbox()`` → the emails sent so far, oldest first."""
    from shop.mail import read_outbox

    return lambda: read_outbox(tmp_path / "outbox")


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def session_factory():
    """``with session_factory(app) as session:`` — a session on that app's engine."""
    return lambda app: Session(app.extensions["sa_engine"], expire_on_commit=False)


@pytest.fixture
def session(app):
    """A session on the app's engine for arranging data; commit what the app must see."""
    with Session(app.extensions["sa_engine"], expire_on_commit=False) as db_session:
        yield db_session


@contextmanager
def recording_queries(app):
    """``with recording_queries(app) as statements: ...`` collects the SQL the app runs."""
    engine = app.extensions["sa_engine"]
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


@pytest.fixture(scope="session")
def localstripe(tmp_path_factory):
    """The base URL of a localstripe started for this test session."""
    from tests import localstripe_server

    with open(tmp_path_factory.mktemp("stripe") / "log", "w") as log:
        process, base = localstripe_server.start(log)
        yield base
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def stripe_settings(localstripe) -> dict:
    from tests.localstripe_server import WEBHOOK_SECRET

    return {
        "STRIPE_API_BASE": localstripe,
        "STRIPE_JS_URL": f"{localstripe}/js.stripe.com/v3/",
        "STRIPE_SECRET_KEY": "sk_test_sourcefront",
        "STRIPE_PUBLISHABLE_KEY": "pk_test_sourcefront",
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
    }


@pytest.fixture
def serve():
    """``serve(app)`` → the app on a free loopback port until the test ends."""
    import threading

    from werkzeug.serving import make_server

    servers = []

    def start(app) -> str:
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}"

    yield start
    for server in servers:
        server.shutdown()
