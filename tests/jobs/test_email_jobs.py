"""Every email is a job, sent once: after the commit (never for a rollback), in-process or
by a worker, retried while the SMTP server refuses, and never twice - run again, or five
at once, or after a worker was killed mid-job."""

import asyncio
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from rq import Queue
from rq.job import Job
from rq.registry import StartedJobRegistry
from sqlalchemy.orm import Session

from shop.jobs.queue import job_id_for
from shop.jobs.runner import job_path, run_in_process
from shop.mail import SentEmail, deliver_once, read_outbox, send_after_commit, write_to_outbox
from tests.helpers.jobs import REDIS_URL, work
from tests.localstripe_server import free_port

PROJECT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def send_test_email(session, to="ann@example.com", subject="Your order"):
    send_after_commit(
        session, to, subject, "test_message", name="Ann", amount=12345, currency="CNY"
    )


def sent_keys(app) -> list[str]:
    with app.extensions["sa_engine"].connect() as connection:
        return list(connection.scalars(sa.select(SentEmail.key)))


def pending_email(session) -> tuple[bytes, str]:
    """The raw message and key of the one email job waiting for ``session``'s commit."""
    [pending] = session.info["shop.jobs.pending"]
    assert pending.path == job_path(deliver_once)
    return pending.args


# --- in-process (no REDIS_URL) -------------------------------------------------------------


def test_an_email_goes_out_after_the_commit_with_its_key_recorded(app, session, outbox):
    with app.app_context():
        send_test_email(session)
        raw, key = pending_email(session)
        assert outbox() == []
        session.commit()
    [message] = outbox()
    assert (message["To"], message["Subject"]) == ("ann@example.com", "Your order")
    assert message["Message-ID"] == key
    assert "Hello Ann," in message.get_body(("plain",)).get_content()
    assert sent_keys(app) == [key]


def test_an_email_of_a_rolled_back_change_is_never_sent(app, session, outbox):
    with app.app_context():
        send_test_email(session)
        session.rollback()
        session.commit()
    assert outbox() == []
    assert sent_keys(app) == []


def test_the_same_email_job_run_twice_sends_once(app, session, outbox):
    with app.app_context():
        send_test_email(session)
        raw, key = pending_email(session)
        session.commit()
        run_in_process(app, job_path(deliver_once), (raw, key), {}, "again")
    assert len(outbox()) == 1
    assert sent_keys(app) == [key]


@pytest.mark.parametrize("copies", [2, 5])
def test_the_same_email_job_run_at_once_sends_once(app, session, outbox, copies):
    with app.app_context():
        send_test_email(session)
        raw, key = pending_email(session)
        session.rollback()  # the jobs below are the only ones
    barrier = threading.Barrier(copies)

    def run_one(index):
        barrier.wait(timeout=10)
        run_in_process(app, job_path(deliver_once), (raw, key), {}, f"copy-{index}")

    threads = [threading.Thread(target=run_one, args=(i,)) for i in range(copies)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(outbox()) == 1
    assert sent_keys(app) == [key]


# --- a real SMTP server that refuses at first ---------------------------------------------


class Refusing:
    """Answers "451 try again later" to the first ``refusals`` messages, then accepts."""

    def __init__(self, refusals: int = 0, delay_rcpt: float = 0.0):
        self.refusals = refusals
        self.delay_rcpt = delay_rcpt
        self.accepted = []
        self.refused = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        await asyncio.sleep(self.delay_rcpt)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.refused < self.refusals:
            self.refused += 1
            return "451 Try again later"
        self.accepted.append(envelope)
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp():
    servers = []

    def start(handler) -> dict:
        controller = Controller(handler, hostname="127.0.0.1", port=free_port())
        controller.start()
        servers.append(controller)
        return {
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": controller.port,
            "MAIL_USE_TLS": False,
            "MAIL_TIMEOUT": 5,
        }

    yield start
    for controller in servers:
        controller.stop()


def test_a_refusing_smtp_server_is_retried_until_it_accepts_once(
    make_app, redis_client, session_factory, smtp
):
    server = Refusing(refusals=2)
    app = make_app(REDIS_URL=REDIS_URL, JOBS_RETRY_INTERVALS="0,0,0", **smtp(server))
    with app.app_context(), session_factory(app) as session:
        send_test_email(session)
        raw, key = pending_email(session)
        session.commit()
    assert server.accepted == []  # queued, not sent

    work(app)

    assert server.refused == 2
    [envelope] = server.accepted
    assert envelope.rcpt_tos == ["ann@example.com"]
    assert sent_keys(app) == [key]
    job = Job.fetch(job_id_for(f"email:{key}"), connection=redis_client)
    assert (job.get_status().value, job.return_value()) == ("finished", True)


def test_in_process_a_refusing_server_is_logged_and_the_change_stands(
    make_app, session_factory, smtp, caplog
):
    server = Refusing(refusals=1)
    app = make_app(**smtp(server))
    with (
        app.app_context(),
        session_factory(app) as session,
        caplog.at_level(logging.ERROR, logger="shop.jobs.runner"),
    ):
        send_test_email(session)
        session.commit()  # does not raise
    assert "deliver_once" in caplog.text and "451" in caplog.text
    assert server.accepted == []
    assert sent_keys(app) == []  # not recorded: a later run could still send it


def test_an_email_job_run_again_by_a_worker_sends_nothing(
    make_app, redis_client, session_factory, smtp
):
    server = Refusing()
    app = make_app(REDIS_URL=REDIS_URL, **smtp(server))
    with app.app_context(), session_factory(app) as session:
        send_test_email(session)
        session.commit()
    work(app)
    [job_id] = Queue("sourcefront", connection=redis_client).finished_job_registry.get_job_ids()
    job = Job.fetch(job_id, connection=redis_client)
    # The same job once more, under another id (as a retry after a crash would run it).
    Queue("sourcefront", connection=redis_client).enqueue_call(job.func, args=job.args)
    work(app)
    assert len(server.accepted) == 1


# --- Redis down when the email is queued ---------------------------------------------------


def test_with_redis_down_the_email_is_sent_in_process_and_the_request_succeeds(make_app, caplog):
    app = make_app(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there
    with (
        app.test_request_context("/"),
        caplog.at_level(logging.WARNING, logger="shop.jobs.queue"),
    ):
        from shop.db import get_session

        session = get_session()
        send_test_email(session)
        raw, key = pending_email(session)
        session.commit()
    assert "Redis did not answer" in caplog.text
    [message] = read_outbox(app.config["MAIL_OUTBOX"])
    assert message["Message-ID"] == key
    assert sent_keys(app) == [key]


# --- a worker killed while it sends ---------------------------------------------------------


def test_a_worker_killed_mid_email_leaves_it_to_be_sent_once_after_restart(
    make_app, redis_client, session_factory, smtp, tmp_path
):
    """``kill -9`` while the SMTP server is slow to answer: the job stays in RQ's started
    registry; when its heartbeat has run out (simulated here by cleaning the registry as
    of a later time) it is queued again, and the next worker sends it once."""
    server = Refusing(delay_rcpt=30)
    settings = smtp(server)
    app = make_app(REDIS_URL=REDIS_URL, JOBS_RETRY_INTERVALS="0", **settings)
    with app.app_context(), session_factory(app) as session:
        for number in range(3):
            send_test_email(session, to=f"parent{number}@example.com")
        session.commit()
    queue = Queue("sourcefront", connection=redis_client)
    assert queue.count == 3

    env = {
        **os.environ,
        "DATABASE_URL": app.config["DATABASE_URL"],
        "REDIS_URL": REDIS_URL,
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": str(settings["MAIL_PORT"]),
        "MAIL_USE_TLS": "false",
        "JOBS_RETRY_INTERVALS": "0",
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--simple"],
        cwd=PROJECT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    started = StartedJobRegistry("sourcefront", connection=redis_client)
    try:
        deadline = time.time() + 60
        while started.count == 0 and time.time() < deadline:
            time.sleep(0.1)
        assert started.count == 1, "the worker never started the first email"
        time.sleep(0.5)  # in the middle of the SMTP conversation
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
    assert server.accepted == []
    assert sent_keys(app) == []

    server.delay_rcpt = 0
    # The heartbeat has run out (a simple worker's lasts the job's timeout and a minute).
    started.cleanup(timestamp=time.time() + app.config["JOBS_TIMEOUT_SECONDS"] + 120)
    assert queue.count == 3
    work(app)

    assert sorted(e.rcpt_tos[0] for e in server.accepted) == [
        f"parent{number}@example.com" for number in range(3)
    ]
    assert len(sent_keys(app)) == 3


def test_with_redis_down_a_customer_message_is_posted_and_staff_are_emailed(make_app, caplog):
    from tests.accounts.helpers import login, make_user
    from tests.order_factories import make_order

    app = make_app(
        REDIS_URL=f"redis://127.0.0.1:{free_port()}/0", SHOP_MESSAGES_EMAIL="desk@factory.example"
    )
    with Session(app.extensions["sa_engine"], expire_on_commit=False) as arrange:
        user = make_user(arrange, email="ann@example.com")
        number = make_order(arrange, user=user, email="ann@example.com").number
        arrange.commit()
    client = app.test_client()
    login(client)

    with caplog.at_level(logging.WARNING, logger="shop.jobs.queue"):
        response = client.post(f"/orders/{number}/messages", data={"body": "Size 140, please"})

    assert response.status_code == 303
    assert "Redis did not answer" in caplog.text
    [message] = read_outbox(app.config["MAIL_OUTBOX"])
    assert message["To"] == "desk@factory.example" and number in message["Subject"]
    assert sent_keys(app) == [message["Message-ID"]]


# --- a crash between the outbox and the commit -----------------------------------------------


def test_a_crash_after_the_outbox_write_does_not_write_it_again(app, session, outbox):
    with app.app_context():
        send_test_email(session)
        raw, key = pending_email(session)
        session.rollback()
    message = BytesParser(policy=policy.default).parsebytes(raw)
    # The run that crashed: its file is written, its key never committed.
    first = write_to_outbox(message, Path(app.config["MAIL_OUTBOX"]), key=key)

    run_in_process(app, job_path(deliver_once), (raw, key), {}, "after-the-crash")

    assert sorted(Path(app.config["MAIL_OUTBOX"]).glob("*.eml")) == [first]
    assert sent_keys(app) == [key]


def test_a_crash_between_the_note_and_the_file_writes_the_file_once(app, session, outbox):
    with app.app_context():
        send_test_email(session)
        raw, key = pending_email(session)
        session.rollback()
    folder = Path(app.config["MAIL_OUTBOX"])
    write_to_outbox(BytesParser(policy=policy.default).parsebytes(raw), folder, key=key)
    [written] = folder.glob("*.eml")
    written.unlink()  # as if the crash came after the note, before the file

    run_in_process(app, job_path(deliver_once), (raw, key), {}, "after-the-crash")
    run_in_process(app, job_path(deliver_once), (raw, key), {}, "once-more")

    assert [path.name for path in folder.glob("*.eml")] == [written.name]
    [message] = outbox()
    assert message["Message-ID"] == key
