"""The security baseline: headers, request ids, cookies, CSRF and open redirects."""

import io
import logging
import math
import re
from pathlib import Path

import pytest
from flask import g
from flask_login import UserMixin, login_user

from shop.config import ConfigError
from shop.security import LOG_FORMAT, REQUEST_ID_HEADER
from tests.helpers.settings import PRODUCTION_SETTINGS

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def policy(response) -> dict[str, list[str]]:
    """The Content-Security-Policy header as {directive: [sources]}."""
    directives = {}
    for part in response.headers["Content-Security-Policy"].split(";"):
        name, *sources = part.split()
        directives[name] = sources
    return directives


def add_failing_route(app):
    @app.get("/boom")
    def boom():
        raise RuntimeError("kaboom")


# --- headers -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "status", "content_type"),
    [
        ("/", 200, "text/html"),
        ("/healthz", 200, "application/json"),
        ("/static/css/shop.css", 200, "text/css"),
        ("/no/such/page", 404, "text/html"),
    ],
)
def test_every_response_carries_the_security_headers(client, path, status, content_type):
    with client.get(path) as response:
        assert response.status_code == status
        assert response.mimetype == content_type
        assert response.headers["Content-Security-Policy"].startswith("default-src 'self'")
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "same-origin"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert re.fullmatch(r"[0-9a-f]{32}", response.headers[REQUEST_ID_HEADER])


def test_server_errors_and_refused_posts_carry_the_headers_too(make_app):
    app = make_app(PROPAGATE_EXCEPTIONS=False, WTF_CSRF_ENABLED=True)
    add_failing_route(app)
    client = app.test_client()
    for response in (client.get("/boom"), client.post("/preferences", data={"locale": "ja"})):
        assert response.status_code in (500, 400)
        assert "Content-Security-Policy" in response.headers
        assert response.headers["X-Frame-Options"] == "DENY"
        assert REQUEST_ID_HEADER in response.headers


def test_policy_allows_scripts_and_frames_from_this_site_and_stripe_only(client):
    assert policy(client.get("/")) == {
        "default-src": ["'self'"],
        "script-src": ["'self'", "https://js.stripe.com", "https://*.js.stripe.com"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'", "https://api.stripe.com"],
        "frame-src": [
            "'self'",
            "https://js.stripe.com",
            "https://*.js.stripe.com",
            "https://hooks.stripe.com",
        ],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }


def test_policy_follows_localstripe_when_configured(make_app):
    app = make_app(
        STRIPE_JS_URL="http://127.0.0.1:8420/js.stripe.com/v3/",
        STRIPE_API_BASE="http://127.0.0.1:8420",
    )
    directives = policy(app.test_client().get("/"))
    assert directives["script-src"] == ["'self'", "http://127.0.0.1:8420"]
    assert directives["frame-src"] == ["'self'", "http://127.0.0.1:8420"]
    assert directives["connect-src"] == ["'self'", "http://127.0.0.1:8420"]
    assert "stripe.com" not in app.test_client().get("/").headers["Content-Security-Policy"]


def test_a_stripe_url_that_is_not_a_url_stops_the_start(make_app):
    with pytest.raises(ConfigError, match="STRIPE_JS_URL"):
        make_app(STRIPE_JS_URL="js.stripe.com/v3/")
    with pytest.raises(ConfigError, match="STRIPE_API_BASE"):
        make_app(STRIPE_API_BASE="javascript:alert(1)")


def test_a_view_can_set_its_own_policy(make_app):
    app = make_app()

    @app.get("/own-policy")
    def own_policy():
        return "ok", {"Content-Security-Policy": "default-src 'none'"}

    response = app.test_client().get("/own-policy")
    assert response.headers["Content-Security-Policy"] == "default-src 'none'"
    assert response.headers["X-Frame-Options"] == "DENY"


INLINE_CODE = re.compile(
    # inline <script> (no src); a JSON-LD data block is never run, so the policy allows it
    r"<script(?![^>]*\b(?:src=|type=\"application/ld\+json\"))[^>]*>"
    r"|<style\b"  # <style> blocks
    r"|\sstyle\s*="  # style attributes
    r"|\son[a-z]+\s*="  # event-handler attributes
    r"|javascript:",
    re.IGNORECASE,
)


def test_page_templates_have_nothing_inline_that_the_policy_would_block():
    """Emails are exempt: no CSP applies to them and mail clients need inline styles."""
    offenders = [
        f"{path.relative_to(TEMPLATES)}: {match.group(0)!r}"
        for path in sorted(TEMPLATES.rglob("*.html"))
        if "email" not in path.relative_to(TEMPLATES).parts
        for match in INLINE_CODE.finditer(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


# --- request ids -------------------------------------------------------------------------


def add_request_id_route(app):
    @app.get("/whoami")
    def whoami():
        return g.request_id


@pytest.mark.parametrize("incoming", ["abc-123", "0f" * 32, "A" * 64])
def test_a_sane_incoming_request_id_is_kept(make_app, incoming):
    app = make_app()
    add_request_id_route(app)
    response = app.test_client().get("/whoami", headers={REQUEST_ID_HEADER: incoming})
    assert response.text == incoming
    assert response.headers[REQUEST_ID_HEADER] == incoming


@pytest.mark.parametrize(
    "incoming", ["", "A" * 65, "abc 123", "abc_123", "abc;rm", "%0d%0aSet-Cookie:x", "ümlaut"]
)
def test_any_other_incoming_request_id_is_replaced(make_app, incoming):
    app = make_app()
    add_request_id_route(app)
    response = app.test_client().get("/whoami", headers={REQUEST_ID_HEADER: incoming})
    assert re.fullmatch(r"[0-9a-f]{32}", response.text)
    assert response.headers[REQUEST_ID_HEADER] == response.text


def test_each_request_gets_its_own_id(client):
    ids = {client.get("/healthz").headers[REQUEST_ID_HEADER] for _ in range(3)}
    assert len(ids) == 3


def test_an_unhandled_error_is_logged_and_shown_with_the_same_reference(make_app, caplog):
    app = make_app(PROPAGATE_EXCEPTIONS=False)
    add_failing_route(app)
    with caplog.at_level(logging.ERROR, logger=app.logger.name):
        response = app.test_client().get("/boom")
    reference = response.headers[REQUEST_ID_HEADER]
    assert response.status_code == 500
    assert f"Reference: {reference}" in response.text
    assert "kaboom" not in response.text
    [record] = [r for r in caplog.records if r.exc_info]
    assert record.request_id == reference
    assert record.exc_info[0] is RuntimeError


def test_an_incoming_id_is_the_reference_on_the_error_page(make_app, caplog):
    app = make_app(PROPAGATE_EXCEPTIONS=False)
    add_failing_route(app)
    with caplog.at_level(logging.ERROR, logger=app.logger.name):
        response = app.test_client().get("/boom", headers={REQUEST_ID_HEADER: "edge-42"})
    assert "Reference: edge-42" in response.text
    assert [r.request_id for r in caplog.records if r.exc_info] == ["edge-42"]


def test_every_error_page_shows_its_request_id_as_the_reference(client):
    response = client.get("/no/such/page", headers={REQUEST_ID_HEADER: "edge-404"})
    assert response.status_code == 404
    assert "Reference: edge-404" in response.text


def test_the_log_line_of_the_default_handler_includes_the_request_id(make_app, monkeypatch):
    """Where nothing else configured logging (gunicorn), lines go to wsgi.errors with the id."""
    monkeypatch.setattr(logging.getLogger(), "handlers", [])  # no pytest capture handlers
    monkeypatch.setattr(logging.getLogger("shop"), "handlers", [])
    app = make_app(PROPAGATE_EXCEPTIONS=False)
    add_failing_route(app)
    errors = io.StringIO()
    response = app.test_client().get(
        "/boom", headers={REQUEST_ID_HEADER: "log-77"}, environ_overrides={"wsgi.errors": errors}
    )
    assert response.status_code == 500
    first_line = errors.getvalue().splitlines()[0]
    assert re.fullmatch(r"\[.+\] ERROR in app \[log-77\]: Exception on /boom \[GET\]", first_line)
    assert "RuntimeError: kaboom" in errors.getvalue()
    assert "%(request_id)s" in LOG_FORMAT


def test_child_loggers_get_the_request_id_through_the_app_handler(make_app, monkeypatch):
    monkeypatch.setattr(logging.getLogger(), "handlers", [])
    monkeypatch.setattr(logging.getLogger("shop"), "handlers", [])
    app = make_app()

    @app.get("/note")
    def note():
        logging.getLogger("shop.catalog").warning("stock looks low")
        return "ok"

    errors = io.StringIO()
    app.test_client().get(
        "/note", headers={REQUEST_ID_HEADER: "child-1"}, environ_overrides={"wsgi.errors": errors}
    )
    assert "WARNING in test_security [child-1]: stock looks low" in errors.getvalue()


# --- cookies -----------------------------------------------------------------------------


def session_cookie(app) -> str:
    response = app.test_client().post("/preferences", data={"locale": "ja", "currency": "JPY"})
    [cookie] = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    return cookie


def cookie_flags(cookie: str) -> set[str]:
    return {part.strip().split("=")[0].lower() for part in cookie.split(";")[1:]}


def test_production_session_cookie_is_secure_httponly_and_lax(make_app):
    cookie = session_cookie(make_app(**PRODUCTION_SETTINGS))
    assert {"secure", "httponly", "samesite"} <= cookie_flags(cookie)
    assert "SameSite=Lax" in cookie


def test_development_session_cookie_is_httponly_and_lax_but_not_secure(make_app):
    cookie = session_cookie(make_app())
    assert "secure" not in cookie_flags(cookie)
    assert "httponly" in cookie_flags(cookie)
    assert "SameSite=Lax" in cookie


class RememberedUser(UserMixin):
    id = 1


@pytest.mark.parametrize(("env", "secure"), [("production", True), ("development", False)])
def test_remember_me_cookie_has_the_session_cookie_flags(make_app, env, secure):
    app = make_app(**(PRODUCTION_SETTINGS if env == "production" else {}))

    @app.get("/remember-me")
    def remember_me():
        login_user(RememberedUser(), remember=True)
        return "ok"

    response = app.test_client().get("/remember-me")
    [cookie] = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("remember_")]
    assert "httponly" in cookie_flags(cookie)
    assert "SameSite=Lax" in cookie
    assert ("secure" in cookie_flags(cookie)) is secure


# --- CSRF --------------------------------------------------------------------------------
# One family of state-changing forms exists outside accounts: /preferences. The Stripe
# webhook will be the only exempt POST (see shop/security.py).


def csrf_token_on(client, path: str = "/") -> str:
    html = client.get(path).text
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_preferences_without_a_token_are_refused_and_change_nothing(make_app):
    client = make_app(WTF_CSRF_ENABLED=True).test_client()
    response = client.post("/preferences", data={"locale": "ja", "currency": "JPY", "next": "/"})
    assert response.status_code == 400
    assert "Form expired" in response.text and "security token" in response.text
    with client.session_transaction() as browser_session:
        assert "locale" not in browser_session and "currency" not in browser_session


def test_preferences_with_a_forged_token_are_refused(make_app):
    client = make_app(WTF_CSRF_ENABLED=True).test_client()
    csrf_token_on(client)  # the browser has a session, the attacker not its token
    response = client.post(
        "/preferences", data={"locale": "ja", "currency": "JPY", "csrf_token": "forged"}
    )
    assert response.status_code == 400
    with client.session_transaction() as browser_session:
        assert "locale" not in browser_session


def test_preferences_with_the_page_token_are_accepted(make_app):
    client = make_app(WTF_CSRF_ENABLED=True).test_client()
    token = csrf_token_on(client)
    response = client.post(
        "/preferences", data={"locale": "ja", "currency": "JPY", "csrf_token": token}
    )
    assert response.status_code == 302
    with client.session_transaction() as browser_session:
        assert browser_session["locale"] == "ja"


# --- open redirects ----------------------------------------------------------------------

FOREIGN_TARGETS = [
    "http://evil.example/",
    "https://evil.example/",
    "HTTPS://evil.example/",
    "https:/evil.example",
    "//evil.example",
    "///evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "%2F%2Fevil.example",
    "/%2F%2Fevil.example",
    "%5C%5Cevil.example",
    "/%5Cevil.example",
    "%252F%252Fevil.example",
    "/%09/evil.example",
    "/\t/evil.example",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "http:evil.example",
    " //evil.example",
    "\t//evil.example",
    "\n//evil.example",
]


@pytest.mark.parametrize("target", FOREIGN_TARGETS)
def test_preferences_never_redirect_off_site(client, target):
    response = client.post("/preferences", data={"locale": "ja", "currency": "JPY", "next": target})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_preferences_keep_a_local_next(client):
    response = client.post(
        "/preferences", data={"locale": "ja", "currency": "JPY", "next": "/schools?q=north"}
    )
    assert response.headers["Location"] == "/schools?q=north"


# --- hosts and links ---------------------------------------------------------------------
# Every absolute link in an email is built on SHOP_BASE_URL, never on the Host header a
# visitor sends (shop.links.external_url). Production answers only its own hosts.

BASE = "https://shop.example"
FOREIGN_HOST = {"Host": "evil.example"}


def email_links(outbox) -> list[str]:
    return [
        url
        for message in outbox()
        for url in re.findall(r"https?://\S+", message.get_body(("plain",)).get_content())
    ]


@pytest.fixture
def shop_on_base(make_app, session_factory):
    from tests.accounts.helpers import make_user

    app = make_app(SHOP_BASE_URL=BASE, SERVER_NAME=None)  # as deployed: no SERVER_NAME
    with session_factory(app) as session:
        make_user(session)
    return app


def test_a_reset_asked_for_with_a_foreign_host_links_to_the_shop(shop_on_base, outbox):
    client = shop_on_base.test_client()
    response = client.post(
        "/account/reset", data={"email": "ann@example.com"}, headers=FOREIGN_HOST
    )
    assert response.status_code == 302
    [link] = email_links(outbox)
    assert link.startswith(f"{BASE}/account/reset/")


def test_registration_emails_link_to_the_shop_whatever_the_host(shop_on_base, outbox):
    client = shop_on_base.test_client()
    for email in ("new@example.com", "ann@example.com"):  # a new account, then a taken one
        client.post(
            "/account/register",
            data={
                "name": "N",
                "email": email,
                "password": "x" * 12 + "q7",
                "confirm": "x" * 12 + "q7",
            },
            headers=FOREIGN_HOST,
        )
    confirm, exists = email_links(outbox)
    assert confirm.startswith(f"{BASE}/account/confirm/")
    assert exists == f"{BASE}/account/reset"


def sign_in_on_foreign_host(client, email="ann@example.com"):
    """Cookies follow the host, so the whole visit happens on the foreign one."""
    from tests.accounts.helpers import PASSWORD

    response = client.post(
        "/account/login", data={"email": email, "password": PASSWORD}, headers=FOREIGN_HOST
    )
    assert response.status_code == 302


def test_an_email_change_link_goes_to_the_shop_whatever_the_host(shop_on_base, outbox):
    client = shop_on_base.test_client()
    sign_in_on_foreign_host(client)
    client.post("/account/email", data={"email": "ann.new@example.com"}, headers=FOREIGN_HOST)
    [link] = email_links(outbox)
    assert link.startswith(f"{BASE}/account/email/")


def test_a_staff_invitation_links_to_the_shop_whatever_the_host(make_app, session_factory, outbox):
    from tests.accounts.helpers import make_user

    app = make_app(SHOP_BASE_URL=BASE, SERVER_NAME=None)
    with session_factory(app) as session:
        make_user(session, email="owner@factory.example", role="owner")
    client = app.test_client()
    sign_in_on_foreign_host(client, email="owner@factory.example")
    response = client.post(
        "/admin/staff/invite",
        data={"email": "mei@factory.example", "name": "Mei", "role": "warehouse"},
        headers=FOREIGN_HOST,
    )
    assert response.status_code == 302
    [link] = email_links(outbox)
    assert link.startswith(f"{BASE}/account/reset/")


def test_production_refuses_a_foreign_host(make_app):
    app = make_app(**PRODUCTION_SETTINGS)
    client = app.test_client()
    refused = client.get("/", headers=FOREIGN_HOST)
    assert refused.status_code == 400
    assert "evil.example" not in refused.text
    assert (
        client.post(
            "/account/reset", data={"email": "a@example.com"}, headers=FOREIGN_HOST
        ).status_code
        == 400
    )
    assert client.get("/").status_code == 200  # the configured host (SHOP_BASE_URL's)


def test_production_trusts_the_hosts_it_is_told(make_app):
    app = make_app(**{**PRODUCTION_SETTINGS, "TRUSTED_HOSTS": "localhost, www.shop.example"})
    client = app.test_client()
    assert client.get("/", headers={"Host": "www.shop.example"}).status_code == 200
    assert client.get("/").status_code == 200
    assert client.get("/", headers=FOREIGN_HOST).status_code == 400


def test_development_answers_any_host(client):
    assert client.get("/", headers=FOREIGN_HOST).status_code == 200


def test_production_needs_a_shop_base_url(make_app):
    settings = {**PRODUCTION_SETTINGS}
    settings.pop("SHOP_BASE_URL")
    with pytest.raises(ConfigError, match="SHOP_BASE_URL"):
        make_app(**settings)
    with pytest.raises(ConfigError, match="SHOP_BASE_URL"):
        make_app(**{**PRODUCTION_SETTINGS, "SHOP_BASE_URL": "shop.example"})


def test_proxy_headers_are_ignored_without_a_trusted_proxy(make_app):
    """A visitor forging X-Forwarded-For changes nothing: the limit follows the socket."""
    client = make_app(RATE_LIMIT_PER_ADDRESS="1 per 15 minutes").test_client()
    first = client.post(
        "/account/reset",
        data={"email": "a@example.com"},
        headers={"X-Forwarded-For": "203.0.113.1"},
    )
    forged = client.post(
        "/account/reset",
        data={"email": "a@example.com"},
        headers={"X-Forwarded-For": "203.0.113.2"},
    )
    assert (first.status_code, forged.status_code) == (302, 429)


def test_behind_one_trusted_proxy_each_visitor_has_their_own_limit(make_app):
    app = make_app(RATE_LIMIT_PER_ADDRESS="1 per 15 minutes", TRUSTED_PROXY_COUNT="1")
    client = app.test_client()  # every request comes from the proxy, 127.0.0.1

    def reset_from(visitor: str):
        return client.post(
            "/account/reset",
            data={"email": "a@example.com"},
            headers={"X-Forwarded-For": visitor, "X-Forwarded-Proto": "https"},
        )

    assert reset_from("203.0.113.1").status_code == 302
    assert reset_from("203.0.113.2").status_code == 302  # another visitor, not locked out
    assert reset_from("203.0.113.1").status_code == 429
    # only the last hop is believed: a visitor prepending an address gains nothing
    assert reset_from("198.51.100.7, 203.0.113.2").status_code == 429


def test_behind_a_proxy_links_on_the_page_follow_the_forwarded_scheme(make_app):
    app = make_app(TRUSTED_PROXY_COUNT="1")

    @app.get("/scheme")
    def scheme():
        from flask import request

        return request.scheme

    response = app.test_client().get("/scheme", headers={"X-Forwarded-Proto": "https"})
    assert response.text == "https"


# --- transport and caching ---------------------------------------------------------------


def test_production_sends_hsts(make_app):
    response = make_app(**PRODUCTION_SETTINGS).test_client().get("/")
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"


def test_development_sends_no_hsts(client):
    assert "Strict-Transport-Security" not in client.get("/").headers


def test_pages_for_a_signed_in_user_are_not_stored(client, session):
    from tests.accounts.helpers import login, make_user

    make_user(session)
    # A browser may keep a catalogue page but asks again (its ETag answers with a 304).
    assert client.get("/products").headers.get("Cache-Control") == "private, no-cache"
    login(client)
    for path in ("/products", "/account", "/"):
        assert client.get(path).headers["Cache-Control"] == "no-store", path
    with client.get("/static/css/shop.css") as static:
        assert "no-store" not in static.headers.get("Cache-Control", "")


@pytest.mark.parametrize("path", ["/cart", "/track", "/account/login", "/orders/NOSUCH"])
def test_pages_with_personal_data_are_not_stored_for_guests_either(client, path):
    assert client.get(path).headers["Cache-Control"] == "no-store"


# --- refused by a rate limit: the page and Retry-After agree ------------------------------


def minutes_on(page: str) -> int:
    return int(re.search(r"Try again in (\d+) minutes?", page).group(1))


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/account/reset", {"email": "a@example.com"}),
        ("/track", {"number": "SF-NOSUCH", "email": "a@example.com"}),
        ("/account/login", {"email": "a@example.com", "password": "wrong password"}),
    ],
)
def test_the_429_page_and_retry_after_say_the_same(make_app, path, data):
    client = make_app(
        RATE_LIMIT_PER_ADDRESS="1 per 15 minutes", RATE_LIMIT_PER_ACCOUNT="1 per 15 minutes"
    ).test_client()
    client.post(path, data=data)
    refused = client.post(path, data=data)
    assert refused.status_code == 429
    retry_after = int(refused.headers["Retry-After"])
    assert minutes_on(refused.text) == math.ceil(retry_after / 60) == 15


def test_kept_csrf_token_is_flask_wtfs_token_and_made_once_per_request(make_app, monkeypatch):
    """``shop.security.generate_csrf`` signs with a kept serializer: at the same moment it
    writes exactly the token Flask-WTF would, which Flask-WTF accepts, once per request,
    and Flask-WTF's own ``generate_csrf`` (its forms) then gives the same one."""
    from flask import session
    from flask_wtf import csrf as flask_wtf_csrf
    from itsdangerous import timed

    from shop.security import generate_csrf

    app = make_app(WTF_CSRF_ENABLED=True)
    monkeypatch.setattr(timed.time, "time", lambda: 1_800_000_000)
    with app.test_request_context("/"):
        token = generate_csrf()
        secret = session["csrf_token"]
        assert generate_csrf() is token
        assert flask_wtf_csrf.generate_csrf() == token
        flask_wtf_csrf.validate_csrf(token)
        del g.csrf_token
        assert flask_wtf_csrf.generate_csrf() == token  # the same secret, the same second
    with app.test_request_context("/"):
        session["csrf_token"] = secret
        assert generate_csrf() == token
    with app.test_request_context("/"):
        other = generate_csrf()
        assert session["csrf_token"] != secret and len(session["csrf_token"]) == 40
        assert other != token


def test_a_kept_csrf_token_of_another_secret_key_is_refused(make_app):
    from flask_wtf import csrf as flask_wtf_csrf
    from wtforms import ValidationError

    from shop.security import generate_csrf

    app = make_app(WTF_CSRF_ENABLED=True)
    with app.test_request_context("/"):
        token = generate_csrf()
        with pytest.raises(ValidationError):
            flask_wtf_csrf.validate_csrf(token, secret_key="another secret")
