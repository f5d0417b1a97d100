"""Fixtures built on the app factory, over a database whose schema comes from Alembic.

SQLite by default (a file per test session); PostgreSQL when ``DATABASE_URL`` is set. The
schema is migrated once per session; every test starts with empty tables.

``app`` is the plain shop, without payments. A test marked ``live`` gets ``live_app``
instead: wired to localstripe and served, so that localstripe's webhooks reach it. Every
test that uses localstripe carries that mark (``make test-fast`` leaves them out).
Helpers shared by test modules are in tests/helpers/, never here.
"""

import os
import threading
import time
import uuid

import pytest
import sqlalchemy as sa
from jinja2.bccache import Bucket, BytecodeCache
from sqlalchemy.orm import Session
from werkzeug.routing import Rule

from shop import create_app, migrate, pagecache
from shop.accounts import passwords
from shop.accounts.models import User
from shop.db import make_engine, normalise_url
from shop.i18n_catalogs import compile_catalogs
from shop.jobs.queue import LOCAL_KEYS
from shop.models import metadata
from tests.accounts.helpers import login, make_user
from tests.helpers import database_copies
from tests.helpers.settings import TEST_SETTINGS
from tests.storage.moto_s3 import DUMMY_AWS, MotoS3, aws_environment

# Dummy AWS credentials for moto's S3 (the moto_s3 fixture), set before any test runs: the
# worker processes that tests.at_once starts on PostgreSQL copy the environment.
os.environ.update(DUMMY_AWS)


class CompiledTemplates(BytecodeCache):
    """Templates compiled once per test process, not once per app: a fresh app per test
    would compile every page it renders again (Jinja keys the code by the source's hash)."""

    def __init__(self) -> None:
        self.compiled: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        if bucket.key in self.compiled:
            bucket.bytecode_from_string(self.compiled[bucket.key])

    def dump_bytecode(self, bucket: Bucket) -> None:
        self.compiled[bucket.key] = bucket.bytecode_to_string()


COMPILED_TEMPLATES = CompiledTemplates()


def share_url_rules() -> None:
    """Every test makes its own app, and werkzeug compiles each of its ~130 routes anew:
    parses the rule with regular expressions and builds two URL-builder functions as
    Python source (an AST, then ``compile``) — most of ``create_app``'s time. What that
    yields depends only on the rule's own text, defaults and slash handling and on the
    map's converters, and the builders reach the rule through their ``self``; so a test
    process compiles each rule once and every app's copy of it takes the results.
    (Werkzeug's converters do not use their map once made, so rules share them.)"""
    compile_rule = Rule.compile
    compile_builder = Rule._compile_builder
    compiled: dict[tuple, tuple] = {}
    builders: dict[tuple, object] = {}

    def rule_key(rule: Rule) -> tuple:
        defaults = repr(sorted((rule.defaults or {}).items()))
        converters = tuple(sorted((name, id(kind)) for name, kind in rule.map.converters.items()))
        where = rule.host if rule.map.host_matching else rule.subdomain
        return (rule.rule, where, rule.merge_slashes, defaults, converters)

    def shared_builder(rule: Rule, append_unknown: bool = True):
        key = (rule.rule, tuple(rule._trace), repr(sorted((rule.defaults or {}).items())))
        key += (append_unknown,)
        if key not in builders:
            builders[key] = compile_builder(rule, append_unknown)
        return builders[key]

    def shared_compile(rule: Rule) -> None:
        key = rule_key(rule)
        if key not in compiled:
            compile_rule(rule)
            compiled[key] = (rule._parts, rule._trace, rule._converters, set(rule.arguments))
            return
        parts, trace, converters, arguments = compiled[key]
        rule._parts, rule._trace = list(parts), list(trace)
        rule._converters = dict(converters)
        rule.arguments.update(arguments)
        rule._build = rule._compile_builder(False).__get__(rule, None)
        rule._build_unknown = rule._compile_builder(True).__get__(rule, None)

    Rule._compile_builder = shared_builder  # type: ignore[method-assign]
    Rule.compile = shared_compile  # type: ignore[method-assign]


def share_build_ids() -> None:
    """``build_id`` hashes every code, template and translation file when an app is made
    (about a quarter of ``create_app``); they do not change while tests run, so each
    (folder, static files) pair is hashed once per process."""
    hash_build = pagecache.build_id
    ids: dict[tuple, str] = {}

    def shared(root=pagecache.PROJECT_ROOT, static_files=None):
        if root != pagecache.PROJECT_ROOT:  # a test's own folder, which it changes
            return hash_build(root, static_files)
        key = tuple(sorted((static_files or {}).items()))
        if key not in ids:
            ids[key] = hash_build(root, static_files)
        return ids[key]

    pagecache.build_id = shared


share_url_rules()
share_build_ids()
# The same scrypt with a small work factor (tests/accounts/helpers.py's): the shop checks
# such hashes the usual way, and a test process does not spend minutes hashing.
passwords.HASH_METHOD = "scrypt:1024:8:1"


@pytest.fixture(autouse=True)
def _forget_local_job_keys():
    """Jobs run in-process remember their keys in this process (shop.jobs.queue): every
    test starts with none, whichever app ran a job before."""
    LOCAL_KEYS.clear()
    yield
    LOCAL_KEYS.clear()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    url = os.environ.get("DATABASE_URL")
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    own_database = None
    if url:
        url = normalise_url(url)
        if worker and url.startswith("postgresql"):
            # Under pytest-xdist each worker empties tables between tests: on PostgreSQL
            # each gets a database of its own beside DATABASE_URL's, dropped at the end.
            url = own_database = database_copies.beside(url, worker)
            database_copies.create_empty(url)
        migrate.reset_database(url)
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
    compile_catalogs()
    migrate.upgrade(url)
    yield url
    database_copies.drop_made()
    if own_database is not None:
        for engine in EMPTYING_ENGINES.values():
            engine.dispose()
        database_copies.drop(own_database)


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
        app.jinja_env.bytecode_cache = COMPILED_TEMPLATES
        apps.append(app)
        return app

    yield factory
    for app in apps:
        app.extensions["sa_engine"].dispose()
    if not database_copies.is_copy(database_url):  # dropped after the test instead
        empty_tables(database_url)


EMPTYING_ENGINES: dict[str, sa.Engine] = {}


def empty_tables(url: str) -> None:
    """Delete every row, in one transaction: one statement finds the tables that have
    rows (a test writes to a few of the shop's tables), then those are emptied, children
    first."""
    engine = EMPTYING_ENGINES.get(url)
    if engine is None:
        engine = EMPTYING_ENGINES[url] = make_engine(url)
    tables = list(reversed(metadata.sorted_tables))
    with engine.begin() as connection:
        filled = set(connection.execute(sa.union_all(*(has_rows(table) for table in tables))))
        for table in tables:
            if (table.name,) in filled:
                connection.execute(table.delete())


def has_rows(table: sa.Table) -> sa.Select:
    """``SELECT '<table>' WHERE EXISTS (SELECT 1 FROM <table>)``."""
    return sa.select(sa.literal(table.name)).where(sa.exists().select_from(table))


@pytest.fixture
def app(request, make_app):
    """The plain shop, without payments; in a test marked ``live``, the shop wired to
    localstripe and served (``live_app``)."""
    if request.node.get_closest_marker("live"):
        return request.getfixturevalue("live_app")
    return make_app()


@pytest.fixture
def live_app(make_app, stripe_settings, serve, localstripe):
    """The shop wired to localstripe, served so that localstripe's webhooks reach it."""
    from tests.localstripe_server import register_webhook

    app = make_app(**stripe_settings)
    register_webhook(localstripe, serve(app) + "/stripe/webhook")
    return app


def pytest_collection_modifyitems(items):
    """Whatever asks for localstripe is a live test, however it asks (``make test-fast``
    leaves them out)."""
    for item in items:
        if "localstripe" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.live)


@pytest.fixture
def outbox(tmp_path):
    """``outbox()`` → the emails sent so far, oldest first."""
    from shop.mail import read_outbox

    return lambda: read_outbox(tmp_path / "outbox")


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def sign_in(client, session):
    """``sign_in("warehouse")`` → that staff member (made on first use), signed in."""

    def as_role(role: str):
        email = f"{role}@factory.example"
        user = session.scalars(sa.select(User).where(User.email == email)).first()
        if user is None:
            user = make_user(session, email=email, role=role, name=role.title())
        response = login(client, email=email)
        assert response.status_code == 302, response.text
        client.get(response.headers["Location"])  # the welcome message, shown and gone
        return user

    return as_role


@pytest.fixture
def session_factory():
    """``with session_factory(app) as session:`` — a session on that app's engine."""
    return lambda app: Session(app.extensions["sa_engine"], expire_on_commit=False)


@pytest.fixture
def uncached(app):
    """The shop with its page cache off: every request renders its page."""
    app.extensions["page_store"] = None
    return app


@pytest.fixture
def session(app):
    """A session on the app's engine for arranging data; commit what the app must see."""
    with Session(app.extensions["sa_engine"], expire_on_commit=False) as db_session:
        yield db_session


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
def stripe_keys() -> dict:
    """Stripe's keys without a Stripe to reach (a test points STRIPE_API_BASE somewhere)."""
    from tests.localstripe_server import WEBHOOK_SECRET

    return {
        "STRIPE_SECRET_KEY": "sk_test_sourcefront",
        "STRIPE_PUBLISHABLE_KEY": "pk_test_sourcefront",
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
    }


@pytest.fixture
def stripe_settings(localstripe, stripe_keys) -> dict:
    return {
        "STRIPE_API_BASE": localstripe,
        "STRIPE_JS_URL": f"{localstripe}/js.stripe.com/v3/",
        **stripe_keys,
    }


@pytest.fixture
def serve():
    """``serve(app)`` → the app on a free loopback port until the test ends."""
    from werkzeug.serving import make_server

    servers = []

    def start(app) -> str:
        server = make_server("127.0.0.1", 0, _closed_before_sent(app), threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()
    # A request still being answered (a webhook arriving as the test ends) holds a database
    # connection; let it finish before the app's engine is disposed, or the connection
    # outlives its pool and is reported unclosed.
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline and any(
        "process_request_thread" in thread.name for thread in threading.enumerate()
    ):
        time.sleep(0.02)


def _closed_before_sent(app):
    """``app`` with each answer's body read and closed before the server sends it.

    werkzeug's server closes a body after sending it, and after reading what the client
    still sends; when the client has reset the connection (Chromium dropping a favicon's
    request as a test ends), that read raises first and the body is never closed: a
    static file's stays open until the garbage collector reports it, in whichever test
    is then running."""

    def wsgi(environ, start_response):
        body = app(environ, start_response)
        try:
            return [b"".join(body)]
        finally:
            if hasattr(body, "close"):
                body.close()

    return wsgi


@pytest.fixture(scope="session")
def moto_s3():
    """S3 served by moto for this test session."""
    with aws_environment():
        server = MotoS3().start()
        try:
            yield server
        finally:
            server.stop()


@pytest.fixture
def bucket(moto_s3) -> str:
    """A fresh, empty bucket on moto's server."""
    return moto_s3.new_bucket()


@pytest.fixture
def s3_settings(moto_s3, bucket) -> dict:
    """Settings that put an app's uploads in this test's bucket (under a prefix)."""
    return {"STORAGE_URL": f"s3://{bucket}/media", "STORAGE_ENDPOINT_URL": moto_s3.endpoint}


@pytest.fixture
def empty_database_url(database_url):
    """An empty database of its own (migration round trips cannot disturb other tests)."""
    url = database_copies.beside(database_url, f"migrations_{uuid.uuid4().hex[:12]}")
    database_copies.create_empty(url)
    yield url
    database_copies.drop(url)
