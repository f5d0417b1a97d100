"""``/healthz`` (alive, no I/O) and ``/readyz`` (database, migrations, Redis, registered
checks; 503 naming what fails, within a deadline)."""

import socket
import threading

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory

from shop import health, migrate
from tests.localstripe_server import free_port
from tests.redis_dbs import CSV_AND_HEALTH

REDIS_DB = CSV_AND_HEALTH


@pytest.fixture
def registered():
    """``registered(name, func)``: a readiness check for this test only."""
    names = []

    def register(name, func):
        names.append(name)
        health.register_check(name, func)

    yield register
    for name in names:
        health.unregister_check(name)


def test_healthz_answers_with_the_database_unreachable_and_asks_nothing(make_app, tmp_path):
    app = make_app(DATABASE_URL=f"sqlite:///{tmp_path}/no-such-dir/shop.sqlite3")
    connects = []
    sa.event.listen(app.extensions["sa_engine"], "connect", lambda *args: connects.append(1))
    response = app.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}
    assert response.headers["Cache-Control"] == "no-store"
    assert connects == []


def test_healthz_runs_no_readiness_check(client, registered):
    calls = []
    registered("counted", lambda: calls.append(1))
    assert client.get("/healthz").status_code == 200
    assert calls == []
    assert client.get("/readyz").status_code == 200
    assert calls == [1]


def test_readyz_on_a_healthy_shop_is_200_with_each_check_timed(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    body = response.json
    assert body["status"] == "ok"
    assert {"database", "migrations"} <= set(body["checks"])  # and storage's own check
    assert "redis" not in body["checks"]  # no REDIS_URL: no Redis check
    for result in body["checks"].values():
        assert result["status"] == "ok"
        assert isinstance(result["ms"], int | float) and result["ms"] >= 0
    assert "stripe" not in body["checks"]


def test_readyz_with_redis_answering_checks_it(make_app):
    response = make_app(REDIS_URL=REDIS_DB).test_client().get("/readyz")
    assert response.status_code == 200
    assert response.json["checks"]["redis"]["status"] == "ok"


def test_readyz_with_the_database_broken_is_503_naming_it(make_app, tmp_path):
    app = make_app(DATABASE_URL=f"sqlite:///{tmp_path}/no-such-dir/shop.sqlite3")
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.mimetype == "application/json"
    assert response.json["status"] == "unavailable"
    assert response.json["failing"] == ["database", "migrations"]
    assert response.json["checks"]["database"] == {
        "status": "error",
        "error": "OperationalError",
        "ms": response.json["checks"]["database"]["ms"],
    }


def test_readyz_with_postgresql_refusing_connections_is_503(make_app):
    app = make_app(DATABASE_URL=f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/shop")
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["failing"] == ["database", "migrations"]


@pytest.fixture
def silent_server():
    """A port that accepts connections and never says a word (a hung database)."""
    listener = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []

    def accept():
        while True:
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    yield listener.getsockname()[1], accepted
    listener.close()
    for connection in accepted:
        connection.close()


def test_a_hung_database_cannot_hang_the_probe(make_app, silent_server):
    port, accepted = silent_server
    app = make_app(
        DATABASE_URL=f"postgresql+psycopg://postgres@127.0.0.1:{port}/shop",
        READYZ_TIMEOUT_SECONDS=0.5,
    )
    response = app.test_client().get("/readyz")
    assert accepted  # the check reached the database, which never answered
    assert response.status_code == 503
    assert response.json["checks"]["database"] == {"status": "error", "error": "timeout", "ms": 500}
    assert app.test_client().get("/healthz").status_code == 200


def test_readyz_with_redis_on_a_closed_port_is_503_naming_redis(make_app):
    app = make_app(REDIS_URL=f"redis://127.0.0.1:{free_port()}/10")
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["failing"] == ["redis"]
    assert response.json["checks"]["redis"]["status"] == "error"
    assert response.json["checks"]["database"]["status"] == "ok"


def test_readyz_with_migrations_behind_is_503(make_app, tmp_path):
    url = f"sqlite:///{tmp_path}/behind.sqlite3"
    script = ScriptDirectory.from_config(migrate.alembic_config(url))
    [head] = script.get_heads()
    migrate.upgrade(url, script.get_revision(head).down_revision)
    response = make_app(DATABASE_URL=url).test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["failing"] == ["migrations"]
    assert response.json["checks"]["migrations"]["error"] == "not at head"
    assert response.json["checks"]["database"]["status"] == "ok"
    migrate.upgrade(url)  # and at head it is ready
    assert make_app(DATABASE_URL=url).test_client().get("/readyz").status_code == 200


def test_readyz_with_a_registered_check_raising_is_503_naming_it(client, registered):
    def bucket():
        raise OSError("bucket gone")

    registered("bucket", bucket)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json["failing"] == ["bucket"]
    assert response.json["checks"]["bucket"]["error"] == "OSError"
    assert "bucket gone" not in response.text  # details go to the log, not the public


def test_a_registered_check_runs_in_the_apps_context(make_app, registered):
    app = make_app(FACTORY_NAME="Probe Factory")
    seen = []
    registered("context", lambda: seen.append(health.current_app.config["FACTORY_NAME"]))
    assert app.test_client().get("/readyz").status_code == 200
    assert seen == ["Probe Factory"]


def test_a_hung_check_answers_503_at_the_deadline_and_runs_once(make_app, registered):
    app = make_app(READYZ_TIMEOUT_SECONDS=0.3)
    release = threading.Event()
    calls = []

    def hung():
        calls.append(1)
        release.wait(10)

    registered("hung", hung)
    client = app.test_client()
    try:
        for _ in range(3):
            response = client.get("/readyz")  # answered while the check is still blocked
            assert response.status_code == 503
            assert response.json["checks"]["hung"] == {
                "status": "error",
                "error": "timeout",
                "ms": 300,
            }
            assert response.json["checks"]["database"]["status"] == "ok"
        assert calls == [1]  # the probe waited on the one still running, never piled up
    finally:
        release.set()
    app.extensions[health.RUNNING]["hung"].result(timeout=10)  # the check has returned
    assert client.get("/readyz").status_code == 200
    assert len(calls) >= 2  # once it finished, the next probe ran it afresh


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": "Bearer " + "x" * 8000},
        {"Authorization": "Bearer é\u00ff"},
        {"Authorization": "Basic Zm9vOmJhcg=="},
        {"X-Request-ID": "../../etc/passwd\u00e9"},
        {"X-Request-ID": "a" * 5000},
        {"Accept": "*/*;q=nonsense, text/html;;;"},
        {"Content-Type": "application/json", "Accept-Language": "zz-ZZ;q=9"},
        {"If-None-Match": '"\u00ff', "Cookie": "session=garbage; remember_token=x|y"},
    ],
)
@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/metrics"])
def test_junk_headers_never_make_a_500(make_app, headers, path):
    app = make_app(METRICS_TOKEN="scrape-secret")
    response = app.test_client().get(path, headers=headers, data="{not json")
    assert response.status_code in (200, 404, 503)
    if path == "/metrics":
        assert response.status_code == 404
