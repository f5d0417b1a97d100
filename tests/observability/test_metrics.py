"""``/metrics``: requests by endpoint and status, business counters after the commit, the
queue depth, the token, and multiprocess mode."""

import os
import subprocess
import sys
import textwrap

import pytest
import redis
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families
from rq import Queue

from shop import metrics
from shop.orders import lifecycle
from tests.localstripe_server import free_port
from tests.order_factories import make_order
from tests.redis_dbs import CSV_AND_HEALTH

TOKEN = "scrape-secret"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
REDIS_URL = CSV_AND_HEALTH


def scrape(client) -> dict:
    """``{(name, frozenset(labels.items())): value}`` from one authorised scrape."""
    response = client.get("/metrics", headers=AUTH)
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def requests_of(samples, endpoint, status, method="GET") -> float:
    labels = frozenset({"endpoint": endpoint, "method": method, "status": status}.items())
    return samples.get(("sourcefront_http_requests_total", labels), 0.0)


def test_requests_are_counted_by_endpoint_method_and_status(make_app):
    client = make_app(METRICS_TOKEN=TOKEN).test_client()
    before = scrape(client)
    client.get("/healthz")
    client.get("/healthz")
    client.get("/no/such/page/12345")
    client.post("/healthz")
    after = scrape(client)
    assert (
        requests_of(after, "health.healthz", "200") - requests_of(before, "health.healthz", "200")
        == 2
    )
    assert requests_of(after, "404", "404") - requests_of(before, "404", "404") == 1
    assert requests_of(after, "404", "405", "POST") - requests_of(before, "404", "405", "POST") == 1
    # The raw path is never a label.
    assert not any("12345" in str(key) for key in after)
    count = frozenset({"endpoint": "health.healthz"}.items())
    assert after[("sourcefront_http_request_duration_seconds_count", count)] >= 2


def test_an_odd_method_is_counted_as_other(make_app):
    client = make_app(METRICS_TOKEN=TOKEN).test_client()
    before = scrape(client)
    client.open("/healthz", method="BREW")
    after = scrape(client)
    # No route takes BREW: unrouted ("404"), answered 405, method "other".
    assert (
        requests_of(after, "404", "405", "other") - requests_of(before, "404", "405", "other") == 1
    )
    assert not any("BREW" in str(key) for key in after)


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": f"bearer {TOKEN}"},
        {"Authorization": TOKEN},
        {"Authorization": f"Bearer {TOKEN} "},
        {"Authorization": f"Basic {TOKEN}"},
    ],
)
def test_metrics_without_the_token_is_a_404(make_app, headers):
    response = make_app(METRICS_TOKEN=TOKEN).test_client().get("/metrics", headers=headers)
    assert response.status_code == 404
    assert "sourcefront_" not in response.text


def test_metrics_with_no_token_configured_is_a_404_even_from_loopback(make_app):
    client = make_app().test_client()
    response = client.get(
        "/metrics", headers={"Authorization": "Bearer "}, environ_base={"REMOTE_ADDR": "127.0.0.1"}
    )
    assert response.status_code == 404


def test_queue_depth_is_zero_without_redis(make_app):
    samples = scrape(make_app(METRICS_TOKEN=TOKEN).test_client())
    assert samples[("sourcefront_queue_depth", frozenset({"queue": "sourcefront"}.items()))] == 0


def test_queue_depth_counts_the_jobs_waiting_in_rq(make_app):
    connection = redis.Redis.from_url(REDIS_URL)
    queue = Queue(metrics.QUEUE_NAME, connection=connection)
    queue.empty()
    try:
        queue.enqueue("builtins.print", "a")
        queue.enqueue("builtins.print", "b")
        samples = scrape(make_app(METRICS_TOKEN=TOKEN, REDIS_URL=REDIS_URL).test_client())
        labels = frozenset({"queue": "sourcefront"}.items())
        assert samples[("sourcefront_queue_depth", labels)] == 2
    finally:
        queue.delete(delete_jobs=True)  # the jobs, the queue and its entry in rq:queues
        connection.close()


def test_with_redis_down_the_scrape_still_answers_without_a_depth(make_app):
    app = make_app(METRICS_TOKEN=TOKEN, REDIS_URL=f"redis://127.0.0.1:{free_port()}/10")
    samples = scrape(app.test_client())
    assert ("sourcefront_queue_depth", frozenset({"queue": "sourcefront"}.items())) not in samples
    assert any(name == "sourcefront_http_requests_total" for name, _labels in samples)


# --- business counters move after the commit, and only then -----------------------------


PAID = "sourcefront_orders_paid_total"
FAILED = "sourcefront_payments_failed_total"


def value(sample: str) -> float:
    return REGISTRY.get_sample_value(sample) or 0.0


def test_a_paid_order_counts_once_its_transaction_commits(app, session):
    order = make_order(session, payment_status="unpaid")
    session.commit()
    before = value(PAID)
    lifecycle.mark_paid(session, order, note="test")
    assert value(PAID) == before  # not yet: nothing is committed
    session.commit()
    assert value(PAID) == before + 1
    session.commit()  # a later, empty commit counts nothing more
    assert value(PAID) == before + 1


def test_a_rolled_back_payment_is_not_counted(app, session):
    order = make_order(session, payment_status="unpaid")
    session.commit()
    before = value(PAID)
    lifecycle.mark_paid(session, order, note="test")
    session.rollback()
    session.commit()
    assert value(PAID) == before


def test_a_failed_card_counts_after_the_commit(app, session):
    order = make_order(session, payment_status="unpaid")
    session.commit()
    before = value(FAILED)
    assert lifecycle.card_payment_failed(session, order, "pi_x", "declined") == "failed"
    session.commit()
    assert value(FAILED) == before + 1


# --- several processes ------------------------------------------------------------------------

CHILD = textwrap.dedent(
    """
    import sys
    from shop import create_app
    from tests.helpers.settings import TEST_SETTINGS

    app = create_app({**TEST_SETTINGS, "DATABASE_URL": sys.argv[1], "METRICS_TOKEN": "t"})
    client = app.test_client()
    if sys.argv[2] == "serve":
        for _ in range(3):
            assert client.get("/healthz").status_code == 200
    else:
        print(client.get("/metrics", headers={"Authorization": "Bearer t"}).text)
    """
)


@pytest.mark.slow
def test_multiprocess_mode_adds_up_every_workers_counts(database_url, tmp_path):
    files = tmp_path / "metrics"
    files.mkdir()
    env = {
        **os.environ,
        "PROMETHEUS_MULTIPROC_DIR": str(files),
        "SHOP_INSTANCE_PATH": str(tmp_path / "instance"),
    }
    env.pop("DATABASE_URL", None)

    def child(role):
        return subprocess.run(
            [sys.executable, "-c", CHILD, database_url, role],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        ).stdout

    child("serve")
    child("serve")
    text = child("scrape")
    samples = {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }
    assert requests_of(samples, "health.healthz", "200") == 6
    assert any(path.suffix == ".db" for path in files.iterdir())
