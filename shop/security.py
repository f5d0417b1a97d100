"""The security baseline every response shares: headers, request ids, logging.

- Security headers on every response, error pages and static files included: a
  Content-Security-Policy that allows scripts and frames only from this site and Stripe
  (``STRIPE_JS_URL``'s origin; localstripe's when it serves the stand-in), ``nosniff``,
  ``Referrer-Policy: same-origin`` and ``X-Frame-Options: DENY``. A view that needs a
  different policy sets the header itself; these are only defaults.
- A request id for every request: a sane incoming ``X-Request-ID`` (from the proxy) or a
  fresh one, on ``g.request_id``, echoed in the response, stamped on every log record and
  shown on the 500 page so a customer can quote it.
- Hosts and proxies: production answers only ``TRUSTED_HOSTS`` (default: the host of
  ``SHOP_BASE_URL``); any other ``Host`` header gets a plain 400 before anything else
  runs. ``X-Forwarded-For``/``-Proto`` are believed only from ``TRUSTED_PROXY_COUNT``
  proxies (Werkzeug's ProxyFix; 0, the default, ignores them), so rate limits see the
  visitor's address behind nginx and a visitor cannot forge one.
- Production sends ``Strict-Transport-Security``. Pages for a signed-in user and pages
  with personal data (account, cart, checkout, orders, tracking, admin) are sent with
  ``Cache-Control: no-store``: no shared cache or back button keeps them.
- CSRF: ``shop.extensions.csrf`` (Flask-WTF) refuses every POST without a valid token. The
  Stripe webhook (``POST /stripe/webhook``) will be the one exempt view
  (``@csrf.exempt``): Stripe cannot send a token, so it proves itself by the signature
  the webhook verifies instead. Exempt nothing else.

Cookie flags live in ``shop.config`` (HttpOnly, SameSite=Lax, Secure outside development,
for the session and Flask-Login's remember-me cookie alike).
"""

import hashlib
import logging
import os
import re
import uuid
from functools import lru_cache
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, g, has_request_context, request, session
from flask.logging import default_handler, wsgi_errors_stream
from flask_wtf import csrf as flask_wtf_csrf
from itsdangerous import URLSafeTimedSerializer
from werkzeug.exceptions import SecurityError
from werkzeug.middleware.proxy_fix import ProxyFix

from shop.accounts.session import signed_in_user
from shop.config import ConfigError
from shop.sessions import ReusingSerializer

REQUEST_ID_HEADER = "X-Request-ID"
REQUEST_ID_HEADER_LOWER = REQUEST_ID_HEADER.lower()
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9-]{1,64}")
STRIPE_API_DEFAULT = "https://api.stripe.com"
# Stripe's own recommendations on top of the js.stripe.com origin (real Stripe only):
# Elements load from subdomains of js.stripe.com; 3-D Secure frames come from hooks.
REAL_STRIPE_JS_ORIGIN = "https://js.stripe.com"
REAL_STRIPE_EXTRA_SCRIPT = ("https://*.js.stripe.com",)
REAL_STRIPE_EXTRA_FRAME = ("https://*.js.stripe.com", "https://hooks.stripe.com")
LOG_FORMAT = "[%(asctime)s] %(levelname)s in %(module)s [%(request_id)s]: %(message)s"
HSTS = "max-age=31536000"  # one year; production only (development runs on plain http)
# Path prefixes whose pages show one person's data, even to a visitor not signed in.
PERSONAL_PATHS = ("/account", "/admin", "/cart", "/checkout", "/orders", "/track")
PUBLIC_FILES = ("static", "main.media")  # endpoints that serve the same file to everyone


def init_app(app: Flask) -> None:
    # Fail at start-up, not on the first response, when a Stripe URL is not a URL.
    content_security_policy(app.config.get("STRIPE_JS_URL"), app.config.get("STRIPE_API_BASE"))
    proxies = app.config["TRUSTED_PROXY_COUNT"]
    if proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)  # type: ignore[method-assign]
    app.before_request(refuse_untrusted_host)  # first: nothing else runs for a foreign host
    app.before_request(assign_request_id)
    app.after_request(set_security_headers)
    install_request_id_logging(app.logger)


# --- hosts -------------------------------------------------------------------------------


def refuse_untrusted_host():
    """A ``Host`` outside ``TRUSTED_HOSTS``: Flask could not route the request, and no
    link may be built on that host, so answer before any page (or ``url_for``) runs."""
    if isinstance(request.routing_exception, SecurityError):
        return Response("Unknown host.\n", status=400, mimetype="text/plain")
    return None


# --- request ids -------------------------------------------------------------------------


def request_id() -> str:
    """This request's id (assigned on first use), or ``"-"`` outside a request."""
    if not has_request_context():
        return "-"
    current = g.get("request_id")
    if current is None:
        current = g.request_id = request_id_for(request.headers)
    return current


def request_id_for(headers) -> str:
    """The id nginx sent (``X-Request-ID``) when it looks sane, else a new one."""
    incoming = headers.get(REQUEST_ID_HEADER, "")
    return incoming if SANE_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex


def assign_request_id() -> None:
    request_id()


class RequestIdFilter(logging.Filter):
    """Adds ``record.request_id`` (``"-"`` outside a request) so formats can show it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id()
        return True


class WsgiErrorsHandler(logging.StreamHandler):
    """Flask's default handler: lines go to the request's ``wsgi.errors`` (the server's
    error log), or stderr outside a request. Flask's ``wsgi_errors_stream`` proxy is
    resolved once per line, not on each of the several times ``StreamHandler`` reads it."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = self.format(record)
            stream = wsgi_errors_stream._get_current_object()
            stream.write(message + self.terminator)
            if hasattr(stream, "flush"):
                stream.flush()
        except RecursionError:
            raise
        except Exception:  # as StreamHandler: a broken stream is reported, never raised
            self.handleError(record)


# Flask's default handler (stderr, or the server's wsgi.errors) with the id in the format.
log_handler = WsgiErrorsHandler(wsgi_errors_stream)
log_handler.setFormatter(logging.Formatter(LOG_FORMAT))


def _add_filter_once(filterer: logging.Filterer) -> None:
    if not any(isinstance(existing, RequestIdFilter) for existing in filterer.filters):
        filterer.addFilter(RequestIdFilter())


def install_request_id_logging(logger: logging.Logger) -> None:
    """Stamp the request id on the app logger's records and on its handlers' output.

    The filter on the logger covers records it logs itself (so caplog and any root
    handler see ``request_id`` too); the filter on each handler covers records that
    propagate from child loggers (``shop.catalog`` ...). Flask's default handler is
    swapped for one whose format includes the id. Safe to call for every app.
    """
    _add_filter_once(logger)
    if default_handler in logger.handlers:
        logger.removeHandler(default_handler)
        if log_handler not in logger.handlers:
            logger.addHandler(log_handler)
    for handler in logger.handlers:
        _add_filter_once(handler)


# --- CSRF tokens ---------------------------------------------------------------------------

CSRF_SALT = "wtf-csrf-token"  # Flask-WTF's


def generate_csrf() -> str:
    """Flask-WTF's ``generate_csrf()``: the visitor's signed CSRF token, made once per
    request and kept on ``g``, where Flask-WTF's own forms and ``generate_csrf`` find it
    (the raw secret in the session, as Flask-WTF keeps it). The same token Flask-WTF would
    sign and checks, signed with a serializer kept per secret key (``csrf_serializer``):
    Flask-WTF builds one for every token, and its signer derives the key and runs the
    HMAC in Python each time."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    config = app.config
    field_name = config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    secret_key = config.get("WTF_CSRF_SECRET_KEY", app.secret_key)
    if field_name is None or secret_key is None:
        return flask_wtf_csrf.generate_csrf()  # Flask-WTF's error
    app_g = g._get_current_object()
    if field_name in app_g:
        return app_g.get(field_name)
    visitor = session._get_current_object()  # type: ignore[attr-defined]
    if field_name not in visitor:
        visitor[field_name] = new_csrf_secret()
    serializer = csrf_serializer(secret_key)
    try:
        token = serializer.dumps(visitor[field_name])
    except TypeError:
        visitor[field_name] = new_csrf_secret()
        token = serializer.dumps(visitor[field_name])
    setattr(app_g, field_name, token)
    return token


def new_csrf_secret() -> str:
    """A visitor's CSRF secret, made as Flask-WTF makes it (a random value, not a digest)."""
    return hashlib.sha1(os.urandom(64)).hexdigest()  # noqa: S324


@lru_cache(maxsize=4)
def csrf_serializer(secret_key: str | bytes) -> URLSafeTimedSerializer:
    """Flask-WTF's token serializer (``URLSafeTimedSerializer(secret_key,
    salt="wtf-csrf-token")``: HMAC-SHA1 over a derived key), made once per secret key,
    its signer deriving the key once and hashing in OpenSSL (``shop.sessions``)."""
    return ReusingSerializer(
        secret_key, salt=CSRF_SALT, signer_kwargs={"digest_method": hashlib.sha1}
    )


# --- headers -----------------------------------------------------------------------------


def origin(url: str | None) -> str | None:
    """``scheme://host[:port]`` of an absolute http(s) URL; None for anything else."""
    if not url:
        return None
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}"


@lru_cache(maxsize=8)
def content_security_policy(stripe_js_url: str | None, stripe_api_base: str | None) -> str:
    """The policy for the configured Stripe (or localstripe) URLs.

    No inline scripts or styles anywhere: templates link ``static/`` files only.
    """
    js_origin = origin(stripe_js_url)
    if stripe_js_url and js_origin is None:
        raise ConfigError(f"STRIPE_JS_URL must be an absolute http(s) URL, not {stripe_js_url!r}")
    api_origin = origin(stripe_api_base or STRIPE_API_DEFAULT)
    if api_origin is None:
        raise ConfigError(
            f"STRIPE_API_BASE must be an absolute http(s) URL, not {stripe_api_base!r}"
        )
    script_src = ["'self'"]
    frame_src = ["'self'"]
    if js_origin:
        script_src.append(js_origin)
        frame_src.append(js_origin)
    if js_origin == REAL_STRIPE_JS_ORIGIN:
        script_src.extend(REAL_STRIPE_EXTRA_SCRIPT)
        frame_src.extend(REAL_STRIPE_EXTRA_FRAME)
    directives = {
        "default-src": ["'self'"],
        "script-src": script_src,
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'", api_origin],
        "frame-src": frame_src,
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in directives.items())


@lru_cache(maxsize=8)
def default_headers(
    stripe_js_url: str | None, stripe_api_base: str | None, production: bool
) -> tuple[tuple[str, str, str], ...]:
    """The headers every response gets unless it has its own: ``(lower-case name, name,
    value)``, worked out once per configuration, not per response."""
    defaults = [
        ("Content-Security-Policy", content_security_policy(stripe_js_url, stripe_api_base)),
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "same-origin"),
        ("X-Frame-Options", "DENY"),
    ]
    if production:
        defaults.append(("Strict-Transport-Security", HSTS))
    return tuple((name.lower(), name, value) for name, value in defaults)


def set_security_headers(response: Response) -> Response:
    config = current_app.config
    defaults = default_headers(
        config.get("STRIPE_JS_URL"),
        config.get("STRIPE_API_BASE"),
        config["SHOP_ENV"] == "production",
    )
    headers = response.headers
    present = {name.lower() for name, _value in headers}
    headers.extend([(name, value) for lower, name, value in defaults if lower not in present])
    if REQUEST_ID_HEADER_LOWER in present:
        headers[REQUEST_ID_HEADER] = request_id()
    else:
        headers.add(REQUEST_ID_HEADER, request_id())
    cache_control = headers.get("Cache-Control", "") if "cache-control" in present else ""
    if "no-store" not in cache_control and is_personal():
        headers["Cache-Control"] = "no-store"
    return response


def is_personal() -> bool:
    """Whether this response may show one person's data: anything a signed-in user sees
    (but static files and uploads, the same for everyone), and the ``PERSONAL_PATHS``."""
    this_request = request._get_current_object()  # type: ignore[attr-defined]  # once
    if this_request.endpoint in PUBLIC_FILES:
        return False
    if personal_path(this_request.path):
        return True
    return signed_in_user() is not None


def personal_path(path: str) -> bool:
    """Whether ``path`` is one of the ``PERSONAL_PATHS`` or under one."""
    return path.startswith(PERSONAL_PATHS) and any(
        path == prefix or path.startswith(prefix + "/") for prefix in PERSONAL_PATHS
    )
