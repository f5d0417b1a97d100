"""Registration, confirmation, sign-in and sign-out, with no account enumeration."""

import re

import pytest
import sqlalchemy as sa

from shop.accounts.models import User
from tests.accounts.helpers import PASSWORD, link_in, login, make_user


def users(session):
    return session.scalars(sa.select(User).order_by(User.id)).all()


def register(client, email="ann@example.com", password=PASSWORD, name="Ann"):
    return client.post(
        "/account/register",
        data={"name": name, "email": email, "password": password, "confirm": password},
    )


def test_register_creates_a_customer_and_emails_a_confirmation_link(client, session, outbox):
    response = register(client, email="  Ann.Lee@Example.COM ")
    assert response.status_code == 302
    assert response.headers["Location"] == "/account/login"
    [user] = users(session)
    assert (user.email, user.role, user.email_confirmed_at) == (
        "Ann.Lee@example.com",
        "customer",
        None,
    )
    assert user.password_hash.startswith("scrypt:")
    [message] = outbox()
    assert message["To"] == "Ann.Lee@example.com"
    assert message.get_body(("plain",)) is not None and message.get_body(("html",)) is not None
    link = link_in(message)
    page = client.get(link)  # opening the link (or a mail scanner fetching it) changes nothing
    assert 'data-testid="confirm-link"' in page.text
    session.refresh(user)
    assert user.email_confirmed_at is None
    confirm = client.post(link)
    assert confirm.headers["Location"] == "/account"
    session.refresh(user)
    assert user.email_confirmed_at is not None
    assert "Signed in as Ann.Lee@example.com" in client.get("/account").text


def test_register_answers_the_same_for_a_taken_email(client, session, outbox):
    make_user(session, email="ann@example.com")
    fresh = register(client, email="bob@example.com")
    taken = register(client, email="ANN@example.com".replace("ANN", "ann").upper().lower())
    assert fresh.status_code == taken.status_code == 302
    assert fresh.headers["Location"] == taken.headers["Location"]
    flashes = []
    with client.session_transaction() as browser:
        flashes = [text for _, text in browser.get("_flashes", [])]
    assert flashes[-1].replace("ann@", "X@") == flashes[-2].replace("bob@", "X@")
    assert len(users(session)) == 2
    subjects = [message["Subject"] for message in outbox()]
    assert subjects == ["Welcome to Sourcefront", "You already have a Sourcefront account"]


def test_register_does_the_same_work_for_a_taken_email(client, session, outbox, monkeypatch):
    """No enumeration by timing: a taken address costs the same password hash (the slow
    part) and the same one email as a new one, and gets the same answer."""
    from shop.accounts import passwords

    hashed = []
    real_hash = passwords.hash_password
    monkeypatch.setattr(passwords, "hash_password", lambda pw: hashed.append(pw) or real_hash(pw))
    make_user(session, email="ann@example.com")
    fresh = register(client, email="bob@example.com", password="new password 1")
    taken = register(client, email="ann@example.com", password="new password 2")
    assert hashed == ["new password 1", "new password 2"]
    assert len(outbox()) == 2
    assert (fresh.status_code, fresh.headers["Location"]) == (
        taken.status_code,
        taken.headers["Location"],
    )
    assert len(users(session)) == 2


def test_email_domain_case_does_not_make_a_second_account(client, session):
    make_user(session, email="ann@example.com")
    register(client, email="ann@EXAMPLE.com")
    assert [user.email for user in users(session)] == ["ann@example.com"]


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short1", "Use at least 10 characters."),
        ("password123", "That password is too common."),
        ("Qwertyuiop", "That password is too common."),
        ("1234567890", "That password is too common."),
    ],
)
def test_register_refuses_weak_passwords_and_creates_nothing(client, session, password, message):
    response = register(client, password=password)
    assert response.status_code == 400
    assert message in response.text
    assert users(session) == []


@pytest.mark.parametrize("email", ["", "ann", "ann@", "@example.com", "ann@example", "a b@x.com"])
def test_register_refuses_bad_email_with_a_message(client, session, email):
    response = register(client, email=email)
    assert response.status_code == 400
    assert 'data-testid="field-error"' in response.text
    assert users(session) == []


def test_login_and_logout(client, session):
    make_user(session)
    response = login(client)
    assert response.status_code == 302
    assert response.headers["Location"] == "/account"
    assert 'data-testid="account-link"' in client.get("/").text
    assert client.post("/account/logout").status_code == 302
    assert 'data-testid="login-link"' in client.get("/").text
    assert client.get("/account").status_code == 302


def test_wrong_password_and_unknown_email_get_the_same_answer(client, session):
    make_user(session)
    wrong = login(client, password="not the password")
    unknown = login(client, email="nobody@example.com")
    assert wrong.status_code == unknown.status_code == 401
    assert "That email and password do not match an account." in wrong.text
    assert same_page(wrong.text, "ann@example.com") == same_page(unknown.text, "nobody@example.com")


def same_page(html: str, email: str) -> str:
    """The page with the typed email and the (time-stamped) CSRF tokens blanked out."""
    return re.sub(r'name="csrf_token" value="[^"]+"', "", html.replace(email, "X"))


def test_inactive_accounts_cannot_sign_in(client, session):
    make_user(session, active=False)
    assert login(client).status_code == 401


def test_login_rotates_the_session(client, session):
    make_user(session)
    with client.session_transaction() as browser:
        browser["planted"] = "by an attacker"
        browser["locale"] = "ja"
    login(client)
    with client.session_transaction() as browser:
        assert "planted" not in browser
        assert browser["locale"] == "ja"  # a preference survives
        assert browser["_user_id"]


@pytest.mark.parametrize(
    ("next_value", "expected"),
    [
        ("/products?q=polo", "/products?q=polo"),
        ("//evil.example", "/account"),
        ("https://evil.example/", "/account"),
    ],
)
def test_login_follows_only_a_local_next(client, session, next_value, expected):
    make_user(session)
    response = login(client, next=next_value)
    assert response.headers["Location"] == expected


def test_staff_land_on_the_admin(client, session):
    make_user(session, role="warehouse")
    assert login(client).headers["Location"] == "/admin/"


def test_remember_me_sets_a_remember_cookie(client, session):
    make_user(session)
    response = login(client, remember="y")
    assert "remember_token=" in " ".join(response.headers.getlist("Set-Cookie"))


def test_email_case_never_makes_a_second_account(client, session):
    make_user(session, email="Ann@example.com")
    register(client, email="ann@example.com")
    assert [user.email for user in users(session)] == ["Ann@example.com"]
    assert login(client, email="ANN@EXAMPLE.COM").status_code == 302
