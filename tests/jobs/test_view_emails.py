"""The account and staff emails are jobs too: with Redis each request queues one
``deliver_once`` job at its commit (nothing is sent in the request), the worker delivers
it, and a request that queues an email and then fails sends nothing. (Without Redis the
same views deliver right after the commit: tests/accounts/, tests/admin/test_staff.py.)"""

import pytest
from rq import Queue

from shop.mail import read_outbox
from tests.accounts.helpers import PASSWORD, login, make_user
from tests.helpers.jobs import work

NEW_PASSWORD = "another horse battery"


def queued(redis_client) -> list[str]:
    return [job.description for job in Queue("sourcefront", connection=redis_client).jobs]


def outbox_of(app) -> list:
    return read_outbox(app.config["MAIL_OUTBOX"])


def signed_in(app, session_factory, email: str, role: str = "customer"):
    with session_factory(app) as db:
        make_user(db, email=email, role=role)
        db.commit()
    client = app.test_client()
    assert login(client, email=email).status_code == 302
    return client


def register_new(app, session_factory):
    data = {"name": "Ann", "email": "ann@example.com", "password": PASSWORD, "confirm": PASSWORD}
    return app.test_client().post("/account/register", data=data), "ann@example.com"


def register_again(app, session_factory):
    with session_factory(app) as db:
        make_user(db, email="ben@example.com")
        db.commit()
    data = {"name": "Ben", "email": "ben@example.com", "password": PASSWORD, "confirm": PASSWORD}
    return app.test_client().post("/account/register", data=data), "ben@example.com"


def ask_for_a_reset(app, session_factory):
    """Writes nothing: only the commit that ``@commits`` makes sends the email."""
    with session_factory(app) as db:
        make_user(db, email="cat@example.com")
        db.commit()
    response = app.test_client().post("/account/reset", data={"email": "cat@example.com"})
    return response, "cat@example.com"


def change_email(app, session_factory):
    client = signed_in(app, session_factory, "dan@example.com")
    return client.post("/account/email", data={"email": "dan.new@example.com"}), (
        "dan.new@example.com"
    )


def invite_staff(app, session_factory):
    client = signed_in(app, session_factory, "owner@factory.example", role="owner")
    data = {"email": "eve@factory.example", "role": "service", "name": "Eve"}
    return client.post("/admin/staff/invite", data=data), "eve@factory.example"


@pytest.mark.parametrize(
    "request_email",
    [register_new, register_again, ask_for_a_reset, change_email, invite_staff],
    ids=lambda action: action.__name__,
)
def test_the_request_queues_its_email_and_the_worker_sends_it(
    rq_app, session_factory, redis_client, request_email
):
    response, to = request_email(rq_app, session_factory)

    assert response.status_code == 302
    assert queued(redis_client) == ["deliver_once"]
    assert outbox_of(rq_app) == []  # nothing sent inside the request

    work(rq_app)

    assert [message["To"] for message in outbox_of(rq_app)] == [to]
    assert queued(redis_client) == []


def test_a_reset_for_an_unknown_address_queues_nothing(rq_app, redis_client):
    response = rq_app.test_client().post("/account/reset", data={"email": "nobody@example.com"})

    assert response.status_code == 302
    assert queued(redis_client) == []


def test_a_refused_staff_invitation_queues_no_email(rq_app, session_factory, redis_client):
    client = signed_in(rq_app, session_factory, "owner@factory.example", role="owner")
    data = {"email": "not an address", "role": "service"}

    assert client.post("/admin/staff/invite", data=data).status_code == 400
    assert queued(redis_client) == []
    work(rq_app)
    assert outbox_of(rq_app) == []
