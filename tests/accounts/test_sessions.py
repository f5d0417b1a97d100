"""Sessions end when they should: a session or remember-me cookie copied from a browser
stops working after sign-out, a password change, a reset, or "sign out of all devices"."""

import re

import sqlalchemy as sa

from shop.accounts.models import User
from shop.accounts.session import load_user
from tests.accounts.helpers import PASSWORD, link_in, login, make_user

NEW_PASSWORD = "a much longer secret"


def cookie(client, name: str) -> str:
    return client.get_cookie(name).value


def copy_of(app, client, *names: str):
    """Another browser holding copies of ``client``'s cookies (what a thief would have)."""
    thief = app.test_client()
    for name in names:
        thief.set_cookie(name, cookie(client, name))
    return thief


def signed_in(client) -> bool:
    return client.get("/account").status_code == 200


def remember_only(app, value: str):
    """A browser that was closed: no session cookie, only the remember-me cookie."""
    browser = app.test_client()
    browser.set_cookie("remember_token", value)
    return browser


def version(session, email="ann@example.com") -> int:
    session.expire_all()
    return session.scalar(sa.select(User.session_version).where(User.email == email))


def test_a_copied_session_cookie_works_until_sign_out(app, client, session):
    make_user(session)
    login(client)
    thief = copy_of(app, client, "session")
    assert signed_in(thief)  # the copy is a working session (this is what sign-out must end)
    client.post("/account/logout")
    assert not signed_in(thief)
    assert not signed_in(client)
    assert version(session) == 1


def test_a_copied_remember_me_cookie_dies_at_sign_out(app, client, session):
    make_user(session)
    login(client, remember="y")
    stolen = cookie(client, "remember_token")
    assert signed_in(remember_only(app, stolen))
    client.post("/account/logout")
    assert not signed_in(remember_only(app, stolen))


def test_a_password_change_ends_other_sessions_but_keeps_this_browser(app, client, session):
    make_user(session)
    login(client, remember="y")
    thief = copy_of(app, client, "session")
    stolen = cookie(client, "remember_token")
    response = client.post(
        "/account/password",
        data={"current": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert not signed_in(thief)
    assert not signed_in(remember_only(app, stolen))
    assert signed_in(client)
    # this browser's own remember-me cookie was re-issued and still works
    renewed = cookie(client, "remember_token")
    assert renewed != stolen
    assert signed_in(remember_only(app, renewed))


def test_a_wrong_current_password_ends_nothing(app, client, session):
    make_user(session)
    login(client)
    thief = copy_of(app, client, "session")
    response = client.post(
        "/account/password",
        data={"current": "not my password", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert response.status_code == 400
    assert signed_in(thief)
    assert version(session) == 0


def test_a_password_reset_ends_every_session(app, client, session, outbox):
    make_user(session)
    login(client, remember="y")
    thief = copy_of(app, client, "session")
    stolen = cookie(client, "remember_token")
    other = app.test_client()
    other.post("/account/reset", data={"email": "ann@example.com"})
    [message] = outbox()
    path = link_in(message)
    reset = other.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert reset.headers["Location"] == "/account/login"
    assert not signed_in(thief)
    assert not signed_in(client)
    assert not signed_in(remember_only(app, stolen))
    assert login(other, password=NEW_PASSWORD).status_code == 302


def test_sign_out_of_all_devices_ends_every_session(app, client, session):
    make_user(session)
    login(client, remember="y")
    laptop = app.test_client()
    login(laptop, remember="y")
    laptop_remember = cookie(laptop, "remember_token")
    page = client.get("/account")
    assert 'data-testid="sign-out-everywhere"' in page.text
    response = client.post("/account/sign-out-everywhere")
    assert response.status_code == 302
    assert response.headers["Location"] == "/account/login"
    assert not signed_in(laptop)
    assert not signed_in(remember_only(app, laptop_remember))
    assert not signed_in(client)
    assert login(client).status_code == 302  # the password still works
    assert signed_in(client)


def test_sign_out_everywhere_needs_a_signed_in_user(client, session):
    make_user(session)
    response = client.post("/account/sign-out-everywhere")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/account/login")
    assert version(session) == 0


def test_signing_in_again_after_sign_out_works(app, client, session):
    make_user(session)
    for _ in range(3):
        assert login(client).status_code == 302
        assert signed_in(client)
        client.post("/account/logout")
    assert version(session) == 3


def test_an_id_without_the_session_version_is_refused(app, session):
    """Sessions and remember-me cookies from before session versions (a bare user id)."""
    user = make_user(session)
    with app.test_request_context():
        assert load_user(str(user.id)) is None
        assert load_user(f"{user.id}:0").id == user.id
        assert load_user(f"{user.id}:1") is None
        for garbage in ("", ":", "x:0", f"{user.id}:", f"{user.id}:x", f"{user.id}:0:0", "1" * 40):
            assert load_user(garbage) is None


def test_sign_out_everywhere_without_a_csrf_token_is_refused(make_app, session_factory):
    app = make_app(WTF_CSRF_ENABLED=True)
    with session_factory(app) as session:
        make_user(session)
    client = app.test_client()
    html = client.get("/account/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    assert login(client, csrf_token=token).status_code == 302
    response = client.post("/account/sign-out-everywhere")
    assert response.status_code == 400
    assert "security token" in response.text
    assert signed_in(client)
    with session_factory(app) as session:
        assert version(session) == 0


def test_templates_get_the_anonymous_user_of_a_new_visitor_without_flask_logins_lookup(
    uncached, monkeypatch
):
    """A new visitor (no session, no remember-me cookie) is anonymous without Flask-Login's
    lookup; any other visitor still goes through it (its session protection included)."""
    from flask import render_template_string, session

    from shop.extensions import login_manager

    lookups = []
    load_user_of_flask_login = login_manager._load_user
    monkeypatch.setattr(
        login_manager, "_load_user", lambda: lookups.append(1) or load_user_of_flask_login()
    )
    source = "{{ current_user.is_authenticated }} {{ current_user.is_anonymous }}"
    with uncached.test_request_context("/"):
        assert render_template_string(source) == "False True"
    assert lookups == []
    with uncached.test_request_context("/"):
        session["csrf_token"] = "a returning visitor"
        assert render_template_string(source) == "False True"
    assert lookups == [1]
    with uncached.test_request_context("/", headers={"Cookie": "remember_token=1|x"}):
        assert render_template_string(source) == "False True"
    assert lookups == [1, 1]
    response = uncached.test_client().get("/products")
    assert response.status_code == 200 and 'data-testid="login-link"' in response.text
    assert lookups == [1, 1]
