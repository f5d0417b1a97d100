"""``flask worker`` and ``flask scheduler``, and the periodic jobs they run."""

import os
import shutil
import signal
import subprocess
import sys
import threading
import time

import pytest
import redis
import sqlalchemy as sa
from rq import Queue
from rq.job import Job

from shop.jobs import job_status
from shop.jobs.periodic import ExpiryReport, ReconcileReport
from shop.jobs.queue import job_id_for
from shop.jobs.scheduler import TIMETABLE, period_key, queue_due
from shop.mail import SentEmail, read_outbox, send_after_commit
from shop.orders.models import Order
from tests.checkout_helpers import add_to_cart, place_order
from tests.factories import make_product
from tests.helpers.jobs import REDIS_URL, work
from tests.localstripe_server import register_webhook

PROJECT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# A moment 10 seconds into a 5-minute period (and so into its minute as well).
NOW = 1_800_000_000 - 1_800_000_000 % 300 + 10


def flask(*args, env: dict, **popen) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", *args],
        cwd=PROJECT,
        env={**os.environ, **env},
        start_new_session=True,
        **popen,
    )


def queued_descriptions(client) -> list[str]:
    queue = Queue("sourcefront", connection=client)
    return sorted(job.description for job in queue.jobs)


# --- the worker --------------------------------------------------------------------------


def test_the_worker_needs_redis(app):
    result = app.test_cli_runner().invoke(args=["worker", "--burst"])
    assert result.exit_code == 2
    assert "needs REDIS_URL" in result.output


def test_the_forking_worker_sends_the_queued_emails_once(make_app, redis_client, session_factory):
    app = make_app(REDIS_URL=REDIS_URL)
    with app.app_context(), session_factory(app) as session:
        for name in ("Ann", "Ben"):
            send_after_commit(
                session,
                f"{name.lower()}@example.com",
                f"Hello {name}",
                "test_message",
                name=name,
                amount=100,
                currency="CNY",
            )
        session.commit()
    assert read_outbox(app.config["MAIL_OUTBOX"]) == []
    env = {
        "DATABASE_URL": app.config["DATABASE_URL"],
        "REDIS_URL": REDIS_URL,
        "MAIL_OUTBOX": app.config["MAIL_OUTBOX"],
    }
    worker = flask("worker", "--burst", env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    output, _ = worker.communicate(timeout=120)
    assert worker.returncode == 0, output.decode()

    subjects = sorted(m["Subject"] for m in read_outbox(app.config["MAIL_OUTBOX"]))
    assert subjects == ["Hello Ann", "Hello Ben"]
    with app.extensions["sa_engine"].connect() as connection:
        assert connection.scalar(sa.select(sa.func.count()).select_from(SentEmail)) == 2
    assert Queue("sourcefront", connection=redis_client).finished_job_registry.count == 2


def test_the_worker_command_runs_the_queue(rq_app, redis_client, tmp_path):
    from shop.jobs import enqueue
    from tests.jobs import sample_jobs

    log = tmp_path / "runs.log"
    with rq_app.app_context():
        enqueue(sample_jobs.count_runs, str(log))
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        result = rq_app.test_cli_runner().invoke(args=["worker", "--burst", "--simple"])
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
    assert result.exit_code == 0, result.output
    assert log.read_text() == "run\n"


# --- the scheduler -----------------------------------------------------------------------


@pytest.mark.parametrize("copies", [2, 5])
def test_schedulers_running_at_once_queue_each_period_once(make_app, redis_client, copies):
    apps = [make_app(REDIS_URL=REDIS_URL) for _ in range(copies)]
    barrier = threading.Barrier(copies)
    queued: list[list[str]] = []

    def tick(app, now):
        barrier.wait(timeout=10)
        queued.append(queue_due(app, now))

    for now in (NOW, NOW + 1, NOW + 60, NOW + 61):
        threads = [threading.Thread(target=tick, args=(app, now)) for app in apps]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)

    # NOW: every job; NOW + 1: the same periods; NOW + 60: the next minute's jobs only.
    assert sorted(name for names in queued for name in names) == [
        "approve-commissions",
        "close-campaigns",
        "close-campaigns",
        "expire-campaign-places",
        "expire-reservations",
        "expire-reservations",
        "fold-window-visits",
        "fold-window-visits",
        "prune-facets",
        "reconcile-payments",
    ]
    assert queued_descriptions(redis_client) == [
        "approve_commissions",
        "close_campaigns",
        "close_campaigns",
        "expire_campaign_places",
        "expire_reservations",
        "expire_reservations",
        "fold_window_visits",
        "fold_window_visits",
        "prune_facets",
        "reconcile_payments",
    ]
    expiry = TIMETABLE[0]
    for now in (NOW, NOW + 60):
        job = Job.fetch(job_id_for(period_key(expiry, 60, now)), connection=redis_client)
        assert job.args[0] == "shop.jobs.periodic:expire_reservations"


def test_the_scheduler_command_queues_the_due_jobs_and_stops_on_sigterm(
    app, redis_client, tmp_path
):
    log = tmp_path / "scheduler.log"
    env = {"DATABASE_URL": app.config["DATABASE_URL"], "REDIS_URL": REDIS_URL}
    with log.open("wb") as output:
        scheduler = flask("scheduler", env=env, stdout=output, stderr=subprocess.STDOUT)
        try:
            deadline = time.time() + 60
            while len(queued_descriptions(redis_client)) < 7 and time.time() < deadline:
                time.sleep(0.1)
            assert queued_descriptions(redis_client) == [
                "approve_commissions",
                "close_campaigns",
                "expire_campaign_places",
                "expire_reservations",
                "fold_window_visits",
                "prune_facets",
                "reconcile_payments",
            ]
            scheduler.send_signal(signal.SIGTERM)
            assert scheduler.wait(timeout=10) == 0
        finally:
            if scheduler.poll() is None:
                os.killpg(scheduler.pid, signal.SIGKILL)
                scheduler.wait()
    assert "scheduler: stopped" in log.read_text()


def test_without_redis_the_scheduler_runs_the_jobs_itself(make_app, stripe_settings):
    app = make_app(**stripe_settings)
    assert queue_due(app, NOW) == [
        "expire-reservations",
        "reconcile-payments",
        "approve-commissions",
        "close-campaigns",
        "expire-campaign-places",
        "fold-window-visits",
        "prune-facets",
    ]
    assert queue_due(app, NOW + 1) == []  # the same periods: nothing again
    with app.app_context():
        expiry = job_status(job_id_for(period_key(TIMETABLE[0], 60, NOW)))
        reconcile = job_status(job_id_for(period_key(TIMETABLE[1], 300, NOW)))
    assert (expiry.state, expiry.result) == ("finished", ExpiryReport(cancelled=[]))
    # What it found depends on localstripe, which keeps the PaymentIntents of earlier tests.
    assert (reconcile.state, type(reconcile.result)) == ("finished", ReconcileReport)


# --- the periodic job on the queue does the command's work ---------------------------------


@pytest.fixture
def shop_with_stripe(make_app, stripe_settings, serve, localstripe, redis_client):
    app = make_app(**stripe_settings, REDIS_URL=REDIS_URL, RESERVATION_MINUTES=0)
    register_webhook(localstripe, serve(app) + "/stripe/webhook")
    return app


def test_the_queued_expiry_job_cancels_an_unpaid_order(shop_with_stripe, session):
    app = shop_with_stripe
    variant = make_product(session, slug="polo", on_hand=6).variants[0]
    session.commit()
    client = app.test_client()
    add_to_cart(client, variant.id, 2)
    number = place_order(client)

    assert queue_due(app, time.time())[0] == "expire-reservations"
    work(app)

    with app.extensions["sa_engine"].connect() as connection:
        state = connection.scalar(sa.select(Order.state).where(Order.number == number))
    assert state == "cancelled"


def test_the_worker_stops_on_sigterm(app, redis_client):
    from rq import Worker

    env = {"DATABASE_URL": app.config["DATABASE_URL"], "REDIS_URL": REDIS_URL}
    worker = flask("worker", env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 60
        while not Worker.all(connection=redis_client) and time.time() < deadline:
            time.sleep(0.1)
        assert len(Worker.all(connection=redis_client)) == 1
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=15) == 0
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()
    assert Worker.all(connection=redis_client) == []


# --- Redis restarted under a running worker --------------------------------------------------


class PrivateRedis:
    """A redis-server of this test's own on a free port (the shared one is never
    restarted), without persistence: a restart loses what was queued."""

    def __init__(self):
        from tests.localstripe_server import free_port

        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis.from_url(self.url)
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                client.ping()
                return
            except redis.exceptions.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


@pytest.fixture
def private_redis():
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    server = PrivateRedis()
    server.start()
    yield server
    server.stop()


def wait_for_lines(path, count: int, timeout: float = 30) -> list[str]:
    deadline = time.time() + timeout
    while time.time() < deadline:
        lines = path.read_text().splitlines() if path.exists() else []
        if len(lines) >= count:
            return lines
        time.sleep(0.1)
    return path.read_text().splitlines() if path.exists() else []


def test_after_a_redis_restart_jobs_queue_and_run_again(make_app, private_redis, tmp_path):
    from shop.jobs import enqueue
    from tests.jobs import sample_jobs

    app = make_app(REDIS_URL=private_redis.url)
    log = tmp_path / "runs.log"
    env = {"DATABASE_URL": app.config["DATABASE_URL"], "REDIS_URL": private_redis.url}
    worker = flask("worker", env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        with app.app_context():
            assert enqueue(sample_jobs.count_runs, str(log), "before") is True
        assert wait_for_lines(log, 1) == ["before"]

        private_redis.stop()
        with app.app_context():  # Redis away: the job runs here instead
            assert enqueue(sample_jobs.count_runs, str(log), "while away") is True
        assert log.read_text().splitlines() == ["before", "while away"]

        private_redis.start()
        with app.app_context():  # back: queued again, and the same worker runs it
            assert enqueue(sample_jobs.count_runs, str(log), "after") is True
        assert wait_for_lines(log, 3, timeout=60) == ["before", "while away", "after"]
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()


def test_a_sigterm_while_the_worker_starts_stops_it_once_it_listens(make_app, redis_client):
    """RQ registers a worker before it installs its signal handlers: a SIGTERM in between
    used to kill the process outright (exit -15, a dead worker left registered). Now it is
    noted and the worker stops at its first look, as RQ's own handler would have it."""
    from shop.jobs.worker import _noted_until_rq_listens, make_worker

    app = make_app(REDIS_URL=REDIS_URL)
    with app.app_context():
        worker = make_worker(app)
    before = signal.getsignal(signal.SIGTERM)
    try:
        with _noted_until_rq_listens(worker):
            os.kill(os.getpid(), signal.SIGTERM)  # handled here, not the default (death)
            assert worker.signalled_while_starting
            assert not worker._stop_requested
            worker._install_signal_handlers()  # what work() does after registering
            assert worker._stop_requested and worker._shutdown_requested_date is not None
    finally:
        signal.signal(signal.SIGTERM, before)
        signal.signal(signal.SIGINT, signal.default_int_handler)
    assert signal.getsignal(signal.SIGTERM) == before


def test_a_child_forked_while_the_worker_starts_still_dies_on_sigterm(make_app, redis_client):
    """RQ forks its scheduler while the start-up handler is in place; a SIGTERM that
    reaches the child before it installs its own handlers (the worker stopping at once)
    must end it: noted instead, the child ran on and the worker's shutdown waited for it
    forever (CI saw a worker that would not stop on SIGTERM)."""
    from shop.jobs.worker import _noted_until_rq_listens, make_worker

    app = make_app(REDIS_URL=REDIS_URL)
    with app.app_context():
        worker = make_worker(app)
    before = signal.getsignal(signal.SIGTERM)
    try:
        with _noted_until_rq_listens(worker):
            child = os.fork()
            if child == 0:  # the scheduler's place: signalled before it installs handlers
                try:
                    os.kill(os.getpid(), signal.SIGTERM)
                    time.sleep(5)
                finally:
                    os._exit(0)
            _pid, status = os.waitpid(child, 0)
    finally:
        signal.signal(signal.SIGTERM, before)
        signal.signal(signal.SIGINT, signal.default_int_handler)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGTERM
    assert not worker.signalled_while_starting  # the worker itself was not signalled
