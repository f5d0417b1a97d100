"""The security baseline: headers, request ids, cookies, CSRF and open redirects."""

import io
import logging
import re
from pathlib import Path

import pytest
from flask import g
from flask_login import UserMixin, login_user

from shop.config import ConfigError
from shop.security import LOG_FORMAT, REQUEST_ID_HEADER
from tests.conftest import PRODUCTION_SETTINGS

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
    r"<script(?![^>]*\bsrc=)[^>]*>"  # inline <script> (no src)
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


def test_only_server_errors_show_a_reference(client):
    assert "Reference:" not in client.get("/no/such/page").text


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
