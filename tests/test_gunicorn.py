"""The repository's deploy/gunicorn.conf.py keeps the shop serving while Stripe is slow.

One worker process with four threads (the repo's config, bind and counts overridden),
against the held-back stand-in Stripe (tests.held_stripe): three buyers place orders and
all three wait on Stripe; a product page still answers while Stripe holds all three. With
sync workers the three checkouts would queue behind one another and the page behind them.
The test follows the order of events (the stand-in counts what it holds), never the time.
"""

import os
import runpy
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from shop import migrate
from shop.db import make_engine
from shop.orders.models import Order
from shop.payments.stripe_gateway import DEFAULT_TIMEOUT_SECONDS
from tests.checkout_helpers import PICKUP
from tests.factories import make_product
from tests.held_stripe import HeldStripe
from tests.localstripe_server import free_port
from tests.processes import stop

ROOT = Path(__file__).resolve().parent.parent
GUNICORN_CONFIG = ROOT / "deploy" / "gunicorn.conf.py"
BUYERS = 3

requests = pytest.importorskip("requests")  # stripe's own HTTP library
pytest.importorskip("gunicorn")


@pytest.fixture
def shop_database(tmp_path):
    """A SQLite file migrated like production, with one product; → (url, slug, variant id)."""
    url = f"sqlite:///{tmp_path / 'shop.sqlite3'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    with Session(engine) as session:
        variant_id = make_product(session, slug="gunicorn-polo", on_hand=50).variants[0].id
        session.commit()
    engine.dispose()
    return url, "gunicorn-polo", variant_id


@pytest.fixture
def gunicorn(tmp_path, shop_database):
    """``gunicorn(stripe_base)`` → the shop's base URL, served by gunicorn until the test
    ends (its process group is always stopped)."""
    started = []
    instance = tmp_path / "instance"
    instance.mkdir()
    (instance / "config.py").write_text("WTF_CSRF_ENABLED = False\n")
    log = open(tmp_path / "gunicorn.log", "w+")  # noqa: SIM115 - closed at teardown

    def start(stripe_base: str) -> str:
        port = free_port()
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "SHOP_INSTANCE_PATH": str(instance),
            "DATABASE_URL": shop_database[0],
            "SECRET_KEY": "gunicorn-test-secret",
            "STRIPE_API_BASE": stripe_base,
            "STRIPE_SECRET_KEY": "sk_test_gunicorn",
            "STRIPE_TIMEOUT_SECONDS": "60",  # they wait on Stripe until the test releases it
        }
        process = subprocess.Popen(
            [
                *(sys.executable, "-m", "gunicorn", "--config", str(GUNICORN_CONFIG)),
                *("--chdir", str(ROOT), "--bind", f"127.0.0.1:{port}"),
                *("--workers", "1", "--threads", "4", "wsgi:app"),
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        started.append(process)
        base = f"http://127.0.0.1:{port}"
        for _ in range(300):
            if process.poll() is not None:
                break
            try:
                if get(f"{base}/products/{shop_database[1]}", timeout=1) == 200:
                    return base
            except OSError:
                pass
            time.sleep(0.1)
        pytest.fail(f"gunicorn did not start:\n{read(log)}")

    yield start
    for process in started:
        stop(process)
    log.close()


def read(log) -> str:
    log.flush()
    log.seek(0)
    return log.read()[-4000:]


def get(url: str, timeout: float) -> int:
    with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - loopback
        return response.status


def checkout(base: str, variant_id: int, results: list) -> None:
    """A buyer's cart → details → review → place; records where "place" sent them."""
    try:
        with requests.Session() as browser:
            browser.post(f"{base}/cart/add", data={"variant_id": variant_id, "quantity": 1})
            browser.post(f"{base}/checkout", data=PICKUP, allow_redirects=False)
            browser.get(f"{base}/checkout/review")
            placed = browser.post(f"{base}/checkout/place", allow_redirects=False, timeout=60)
            results.append((placed.status_code, placed.headers.get("Location", "")))
    except Exception as error:  # noqa: BLE001 - reported by the assertion below
        results.append(("error", repr(error)))


def test_the_config_runs_threaded_workers_that_outlast_a_stripe_call(monkeypatch):
    for name in ("GUNICORN_BIND", "WEB_CONCURRENCY", "GUNICORN_THREADS"):
        monkeypatch.delenv(name, raising=False)
    config = runpy.run_path(str(GUNICORN_CONFIG))
    cores = len(os.sched_getaffinity(0))
    assert (config["worker_class"], config["workers"], config["threads"]) == ("gthread", cores, 8)
    assert config["bind"] == "127.0.0.1:8000"
    assert config["timeout"] > DEFAULT_TIMEOUT_SECONDS
    assert config["graceful_timeout"] > DEFAULT_TIMEOUT_SECONDS
    assert "forwarded_allow_ips" not in config


def test_a_product_page_answers_while_every_checkout_waits_on_stripe(gunicorn, shop_database):
    url, slug, variant_id = shop_database
    with HeldStripe() as stripe_stand_in:
        base = gunicorn(stripe_stand_in.base)
        results: list = []
        buyers = [
            threading.Thread(target=checkout, args=(base, variant_id, results))
            for _ in range(BUYERS)
        ]
        for buyer in buyers:
            buyer.start()
        try:
            assert stripe_stand_in.wait_until_held(BUYERS, timeout=20), (
                f"only {stripe_stand_in.held} checkouts reached Stripe at once"
            )

            status = get(f"{base}/products/{slug}", timeout=30)
            still = (stripe_stand_in.held, stripe_stand_in.answered)

            assert status == 200
            assert still == (BUYERS, 0)  # answered while Stripe held every checkout
        finally:
            stripe_stand_in.release()
            for buyer in buyers:
                buyer.join(timeout=60)

    assert len(results) == BUYERS
    assert all(code == 303 and "/checkout/pay/" in where for code, where in results), results
    engine = make_engine(url)
    with engine.connect() as connection:
        assert connection.scalar(sa.select(sa.func.count(Order.id))) == BUYERS
    engine.dispose()
