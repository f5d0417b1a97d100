"""Password reset links, and the account page: name, email, password, addresses."""

import re

import pytest
import sqlalchemy as sa

from shop.accounts import tokens
from shop.accounts.models import Address, User
from tests.accounts.helpers import PASSWORD, link_in, login, make_user

NEW_PASSWORD = "a much longer secret"


def request_reset(client, email="ann@example.com"):
    return client.post("/account/reset", data={"email": email})


def set_new_password(client, path, password=NEW_PASSWORD):
    return client.post(path, data={"password": password, "confirm": password})


def test_reset_link_sets_a_new_password_once(client, session, outbox):
    make_user(session)
    request_reset(client)
    [message] = outbox()
    assert message["Subject"] == "Reset your Sourcefront password"
    path = link_in(message)
    assert client.get(path).status_code == 200
    assert set_new_password(client, path).headers["Location"] == "/account/login"
    assert login(client, password=PASSWORD).status_code == 401
    assert login(client, password=NEW_PASSWORD).status_code == 302
    reused = set_new_password(client, path, password="yet another secret")
    assert reused.headers["Location"] == "/account/reset"
    client.post("/account/logout")
    assert login(client, password=NEW_PASSWORD).status_code == 302


def test_reset_answers_the_same_for_unknown_emails_and_sends_nothing(client, session, outbox):
    make_user(session)
    known = request_reset(client, "ann@example.com")
    unknown = request_reset(client, "nobody@example.com")
    assert known.status_code == unknown.status_code == 302
    assert known.headers["Location"] == unknown.headers["Location"]
    assert [message["To"] for message in outbox()] == ["ann@example.com"]


def test_expired_reset_link_is_refused(client, session, outbox, monkeypatch):
    user = make_user(session)
    request_reset(client)
    path = link_in(outbox()[0])
    monkeypatch.setattr(tokens, "RESET_MAX_AGE", -1)
    assert client.get(path).headers["Location"] == "/account/reset"
    assert set_new_password(client, path).headers["Location"] == "/account/reset"
    old_hash = user.password_hash
    session.refresh(user)
    assert user.password_hash == old_hash


def test_tampered_reset_link_is_refused(client, session, outbox):
    make_user(session)
    request_reset(client)
    path = link_in(outbox()[0])
    tampered = path[:-3] + ("aaa" if not path.endswith("aaa") else "bbb")
    assert set_new_password(client, tampered).headers["Location"] == "/account/reset"
    assert login(client, password=PASSWORD).status_code == 302


def test_account_page_needs_a_login(client):
    response = client.get("/account")
    assert response.status_code == 302
    assert response.headers["Location"] == "/account/login?next=/account"


def test_change_name_and_password(client, session):
    user = make_user(session)
    login(client)
    assert client.post("/account/profile", data={"name": "Ann Lee"}).status_code == 302
    wrong = client.post(
        "/account/password",
        data={"current": "not it at all", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert wrong.status_code == 400
    assert "That is not your current password." in wrong.text
    right = client.post(
        "/account/password",
        data={"current": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert right.status_code == 302
    session.refresh(user)
    assert user.name == "Ann Lee"
    client.post("/account/logout")
    assert login(client, password=NEW_PASSWORD).status_code == 302


def test_email_change_waits_for_the_link_and_the_link_works_once(client, session, outbox):
    user = make_user(session)
    login(client)
    client.post("/account/email", data={"email": "ann.new@Example.com"})
    session.refresh(user)
    assert user.email == "ann@example.com"
    [message] = outbox()
    assert message["To"] == "ann.new@example.com"
    path = link_in(message)
    client.get(path)  # the page with the button: nothing changes yet
    session.refresh(user)
    assert user.email == "ann@example.com"
    client.post(path)
    session.refresh(user)
    assert user.email == "ann.new@example.com"
    response = client.post(path)
    assert response.headers["Location"] == "/account"
    with client.session_transaction() as browser:
        assert browser["_flashes"][-1][1] == "That link has expired or was already used."


def test_addresses_add_and_remove_only_your_own(client, session):
    owner = make_user(session)
    other = make_user(session, email="bob@example.com")
    session.add(
        Address(user=other, recipient="Bob", country="SG", city="Singapore", line1="1 Road")
    )
    session.commit()
    login(client)
    client.post(
        "/account/addresses",
        data={
            "recipient": "Ann",
            "country": "CN",
            "region": "Shanghai",
            "city": "Shanghai",
            "line1": "88 Nanjing Rd",
            "postcode": "200001",
            "phone": "+86 21 5555 0000",
        },
    )
    addresses = session.scalars(sa.select(Address).order_by(Address.id)).all()
    assert [(a.user_id, a.city) for a in addresses] == [
        (other.id, "Singapore"),
        (owner.id, "Shanghai"),
    ]
    client.post(f"/account/addresses/{addresses[0].id}/delete")  # Bob's: refused
    client.post(f"/account/addresses/{addresses[1].id}/delete")
    session.expire_all()
    assert [a.recipient for a in session.scalars(sa.select(Address))] == ["Bob"]


def test_address_form_says_what_is_missing(client, session):
    make_user(session)
    login(client)
    response = client.post("/account/addresses", data={"country": "OT"})
    assert response.status_code == 400
    assert response.text.count('data-testid="field-error"') == 3  # recipient, city, line1
    assert session.scalar(sa.select(sa.func.count(Address.id))) == 0


@pytest.mark.parametrize(
    ("country", "postcode", "messages"),
    [
        ("CN", "12345", ["phone number", "province or prefecture", "six-digit postcode"]),
        ("JP", "1234567x", ["phone number", "province or prefecture", "like 123-4567"]),
        ("SG", "S12345", ["six-digit postcode"]),
    ],
)
def test_address_rules_follow_the_country(client, session, country, postcode, messages):
    make_user(session)
    login(client)
    data = {"recipient": "Ann", "city": "X", "line1": "1 Road", "country": country}
    response = client.post("/account/addresses", data={**data, "postcode": postcode})
    assert response.status_code == 400
    errors = re.findall(r'data-testid="field-error">([^<]*)<', response.text)
    assert len(errors) == len(messages)
    for message, error in zip(messages, errors, strict=True):
        assert message in error
    assert session.scalar(sa.select(sa.func.count(Address.id))) == 0


def test_users_table_untouched_by_failed_forms(client, session):
    make_user(session)
    login(client)
    client.post("/account/profile", data={"name": ""})
    assert session.scalar(sa.select(User.name)) == "Ann"


def test_edit_your_own_address_but_not_anyone_elses(client, session):
    owner = make_user(session)
    other = make_user(session, email="bob@example.com")
    mine = Address(user=owner, recipient="Ann", country="CN", city="Shanghai", line1="88 Rd")
    theirs = Address(user=other, recipient="Bob", country="SG", city="Singapore", line1="1 Rd")
    session.add_all([mine, theirs])
    session.commit()
    login(client)
    form = client.get(f"/account/addresses/{mine.id}/edit")
    assert form.status_code == 200 and 'value="88 Rd"' in form.text
    changed = {
        "recipient": "Ann Lee",
        "country": "JP",
        "region": "Osaka",
        "city": "Osaka",
        "line1": "2-1 Umeda",
        "postcode": "5300001",
        "phone": "06-5555-0000",
    }
    assert client.post(f"/account/addresses/{mine.id}/edit", data=changed).status_code == 302
    assert client.get(f"/account/addresses/{theirs.id}/edit").status_code == 404
    assert client.post(f"/account/addresses/{theirs.id}/edit", data=changed).status_code == 404
    bad = client.post(f"/account/addresses/{mine.id}/edit", data={"country": "JP"})
    assert bad.status_code == 400
    session.expire_all()
    assert (mine.recipient, mine.country, mine.city) == ("Ann Lee", "JP", "Osaka")
    assert mine.postcode == "530-0001"  # typed as 5300001: stored the way Japan writes it
    assert (theirs.recipient, theirs.city) == ("Bob", "Singapore")
