"""Cached catalogue pages served in front of Flask, for visitors who are not signed in.

A cache hit itself is cheap (one Redis ``MGET`` for the versions, the page from this
process's memory, the holes filled); most of what it cost was Flask around it: the
request and application contexts, the rate limiter and input checks before the view,
the hooks after it. So for the pages in ``FAST_ENDPOINTS`` this WSGI middleware serves a
hit itself and answers exactly what the normal path would:

- **Which requests.** ``GET`` or ``HEAD`` of a path the normal path has served from the
  cache before (``pages.cached_page`` marks such an answer; this process then remembers
  the path's endpoint and version *names*, which depend on the path alone), with no body,
  for a host the app trusts, with input ``shop.inputs`` would accept, from a visitor with
  no user id in the session, no remember-me cookie and no flash message waiting, and no
  window mark (``shop.resellers.attribution``: a ``via=`` link marks the visitor, and a
  marked visitor may see a window's prices).
- **Never stale.** The versions' values are read from the store on every request and the
  page is looked up under the same key ``cached_page`` computes (path and query, locale
  and currency chosen as ``shop.i18n`` chooses them, build, versions); a miss, or a store
  that does not answer, goes to the normal path, which renders.
- **The visitor's own parts.** The session is read and written by the app's own session
  interface; a first visit gets its own CSRF secret (as Flask-WTF's ``generate_csrf``
  makes one) in a new session cookie, a returning visitor's cookie is only read. The
  holes get the token, the cart count, the anonymous navigation (``pages`` renders it
  once per locale) and no flash messages. ETag, Last-Modified and 304s as ``cached_page``.
- **The same headers.** Those that are the same for every such answer (content type,
  Cache-Control, the security headers of ``shop.security``, ``Vary``) are copied from the
  normal path's last answer for the endpoint; those of one request (length, ETag,
  Last-Modified, Date, request id, cookie) are made here. One access line
  (``shop.logs``) and the request counter and timer (``shop.metrics``), as its hooks do.

Everything else — signed-in visitors and staff, flashes, an unknown path, a miss, a
``POST`` — goes to the app untouched. ``tests/pagecache/test_fast_path.py`` compares the
two paths' answers, and fails when the app gains a hook this module does not know.
"""

import hashlib
import logging
import os
import threading
import time
from collections.abc import Iterable
from contextlib import contextmanager
from contextvars import ContextVar
from types import SimpleNamespace
from typing import NamedTuple

from flask import Flask
from flask.globals import _cv_request
from itsdangerous import URLSafeTimedSerializer
from markupsafe import escape
from werkzeug.exceptions import SecurityError
from werkzeug.wsgi import get_host

from shop.i18n import currency_for, format_locale_for, parsed_locale
from shop.inputs import is_storable
from shop.logs import access_log
from shop.metrics import HTTP_DURATION, HTTP_REQUESTS
from shop.pagecache import pages
from shop.pagecache.stores import StoreUnavailable
from shop.resellers.attribution import VIA_COOKIE, VIA_PARAMETER
from shop.security import REQUEST_ID_HEADER, request_id_for

log = logging.getLogger(__name__)

# Views whose only gate before ``cached_page`` is the URL itself: exempt from rate limits,
# nothing read from the session. (A school's shop is not: a private school's page
# depends on an access code kept in the session.)
FAST_ENDPOINTS = frozenset({"catalog.home", "catalog.product_list", "catalog.product_detail"})
MAX_ROUTES = 20_000  # paths remembered (a product page each): a few MB at most
# Headers of one request: made here, never copied from another answer.
OWN_HEADERS = frozenset(
    ("content-length", "etag", "last-modified", "date", REQUEST_ID_HEADER.lower(), "set-cookie")
)
# Session keys that send a visitor to the normal path: signed in, a message to show,
# Flask-Login's remember-me bookkeeping.
NOT_ANONYMOUS = ("_user_id", "_flashes", "_remember")
CSRF_SALT = "wtf-csrf-token"  # Flask-WTF's


class Route(NamedTuple):
    endpoint: str
    versions: tuple[str, ...]


class FastPath:
    """The middleware: ``app.wsgi_app = FastPath(app, app.wsgi_app)``."""

    def __init__(self, app: Flask, wsgi_app):
        self.app = app
        self.wsgi_app = wsgi_app
        self.routes: dict[str, Route] = {}
        self.headers: dict[str, list[tuple[str, str]]] = {}  # endpoint → shared headers
        self._lock = threading.Lock()
        config = app.config
        self.csrf_field = config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
        self.csrf_signer = URLSafeTimedSerializer(
            config.get("WTF_CSRF_SECRET_KEY") or app.secret_key or "", salt=CSRF_SALT
        )
        self.remember_cookie = config.get("REMEMBER_COOKIE_NAME", "remember_token")

    def __call__(self, environ, start_response):
        try:
            answer = self.serve(environ)
        except Exception:  # the normal path answers instead (tests see the error)
            if self.app.testing:
                raise
            log.warning("page cache fast path failed; serving the normal way", exc_info=True)
            answer = None
        if answer is not None:
            return answer(environ, start_response)
        return self.wsgi_app(environ, self._learning(environ, start_response))

    # --- learning from the normal path --------------------------------------------------

    def _learning(self, environ, start_response):
        def start(status: str, headers: list[tuple[str, str]], exc_info=None):
            served = environ.get(pages.SERVED_FROM_CACHE)
            if served is not None and status[:4] == "200 " and environ["REQUEST_METHOD"] == "GET":
                path, endpoint, versions = served
                self.learn(path, endpoint, versions, headers)
            return start_response(status, headers, exc_info)

        return start

    def learn(self, path: str, endpoint: str, versions: Iterable[str], headers) -> None:
        if endpoint not in FAST_ENDPOINTS:
            return
        shared = [(name, value) for name, value in headers if name.lower() not in OWN_HEADERS]
        with self._lock:
            self.headers[endpoint] = shared
            if path not in self.routes and len(self.routes) >= MAX_ROUTES:
                del self.routes[next(iter(self.routes))]
            self.routes[path] = Route(endpoint, tuple(versions))

    # --- serving ---------------------------------------------------------------------------

    def serve(self, environ):
        """The answer to a cached page's hit, or ``None`` for the normal path."""
        started = time.perf_counter()
        method = environ.get("REQUEST_METHOD")
        if method not in ("GET", "HEAD") or _has_body(environ):
            return None
        app = self.app
        request = app.request_class(environ)
        route = self.routes.get(request.path)
        shared_headers = self.headers.get(route.endpoint) if route else None
        if route is None or shared_headers is None:
            return None
        if not self._plain_request(request):
            return None
        session = app.session_interface.open_session(app, request)
        if session is None or any(name in session for name in NOT_ANONYMOUS):
            return None
        store = app.extensions["page_store"]
        build = app.extensions["page_build"]
        try:
            tokens = store.read_versions([*route.versions, f"build:{build}"])
        except StoreUnavailable:
            return None  # the normal path logs it and renders
        locale = self.locale(request, session)
        key = pages.key_for(request.full_path, locale, self.currency(session), tokens)
        secret = session.get(self.csrf_field)
        if secret is None:
            # Flask-WTF's generate_csrf makes the secret so (a random value, not a digest).
            secret = hashlib.sha1(os.urandom(64)).hexdigest()  # noqa: S324
            session[self.csrf_field] = secret
        if not isinstance(secret, str):
            return None
        cart_count = session.get("cart_count", 0)
        etag = pages.etag_for(key, secret, cart_count, "")
        modified = None if cart_count else pages.newest_version_time(tokens)
        if request.if_none_match.contains_weak(etag):
            response = app.response_class("", status=304, headers=shared_headers)
        else:
            text = store.get_page(key)
            navigation = app.extensions.get("anonymous_nav", {}).get(locale)
            if text is None or navigation is None:
                return None  # a miss: the normal path renders and stores
            parts = {"cart": str(escape(cart_count)), "nav": navigation, "flashes": ""}

            def part(name: str) -> str:
                return self.csrf_signer.dumps(secret) if name == "csrf" else parts[name]

            filled = pages.fill_holes(app.extensions["page_holes"], text, part)
            response = app.response_class(filled, headers=shared_headers)
        pages.conditional(response, request, etag, modified)
        request_id = request_id_for(request.headers)
        response.headers[REQUEST_ID_HEADER] = request_id
        app.session_interface.save_session(app, session, response)
        self.account(request, route, response, request_id, time.perf_counter() - started)
        return response

    def _plain_request(self, request) -> bool:
        """A host the app answers, a path short enough to cache, input ``shop.inputs``
        accepts, no remember-me cookie (Flask-Login would sign the visitor in) and no
        window mark, new or kept."""
        try:
            get_host(request.environ, self.app.config["TRUSTED_HOSTS"])
        except SecurityError:
            return False
        if len(request.full_path) > pages.MAX_CACHED_PATH:
            return False
        if request.cookies.get(self.remember_cookie):
            return False
        if VIA_PARAMETER in request.args or VIA_COOKIE in request.cookies:
            return False  # Flask marks the visitor, or may show them a window's prices
        texts = (text for item in request.args.items(multi=True) for text in item)
        return is_storable(request.path) and all(is_storable(text) for text in texts)

    def locale(self, request, session) -> str:
        """``str(flask_babel.get_locale())`` for this request and session."""
        return str(parsed_locale(format_locale_for(request, session)))

    def currency(self, session) -> str:
        """``shop.i18n.current_currency`` for this session."""
        return currency_for(session, self.app.config["SHOP_DEFAULT_CURRENCY"])

    @staticmethod
    def account(request, route: Route, response, request_id: str, seconds: float) -> None:
        """What ``shop.monitoring.observe_request`` and ``shop.logs.log_access`` record."""
        status = response.status_code
        try:
            HTTP_REQUESTS.labels(route.endpoint, request.method, str(status)).inc()
            HTTP_DURATION.labels(route.endpoint).observe(seconds)
        except Exception:
            log.exception("could not record the request's metrics")
        try:
            duration_ms = round(seconds * 1000, 1)
            with _request_streams(request):
                access_log.info(
                    "%s %s %s %sms",
                    request.method,
                    request.path,
                    status,
                    duration_ms,
                    extra={
                        "method": request.method,
                        "path": request.path,
                        "status": status,
                        "duration_ms": duration_ms,
                        "request_id": request_id,
                    },
                )
        except Exception:  # a log line never fails a request
            log.debug("could not write the access line", exc_info=True)


def _has_body(environ) -> bool:
    return environ.get("CONTENT_LENGTH", "") not in ("", "0") or "HTTP_TRANSFER_ENCODING" in environ


@contextmanager
def _request_streams(request):
    """While the access line is written, Flask's ``request`` is this request, so
    ``flask.logging.wsgi_errors_stream`` (the shop's log handler) writes to its
    ``wsgi.errors`` as for every other request, not to the process's stderr. Nothing else
    of a request context is there: the line carries its request id itself."""
    variable: ContextVar = _cv_request
    token = variable.set(SimpleNamespace(request=request))
    try:
        yield
    finally:
        variable.reset(token)


def init_app(app: Flask) -> None:
    """In front of the app's WSGI callable (and of ProxyFix: neither the client's address
    nor the scheme changes an answer served here)."""
    app.wsgi_app = FastPath(app, app.wsgi_app)  # type: ignore[method-assign]
    app.extensions["page_fast_path"] = app.wsgi_app
