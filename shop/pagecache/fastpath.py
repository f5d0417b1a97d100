"""Cached catalogue and window pages served in front of Flask, for visitors not signed in.

A cache hit itself is cheap (one Redis ``MGET`` for the versions, the page from this
process's memory, the holes filled); most of what it cost was Flask around it: the
request and application contexts, the rate limiter and input checks before the view,
the hooks after it. So for the pages in ``FAST_ENDPOINTS`` this WSGI middleware serves a
hit itself and answers exactly what the normal path would:

- **Which requests.** ``GET`` or ``HEAD`` of a path the normal path has served from the
  cache before (``pages.cached_page`` marks such an answer; this process then remembers
  the path's endpoint and version *names*, which depend on the path alone), with no body,
  for a host the app trusts, with input ``shop.inputs`` would accept, from a visitor with
  no user id in the session, no remember-me cookie and no flash message waiting, no
  ``via=`` and, but on a window's own page, no window mark (``shop.resellers.attribution``:
  a ``via=`` link marks the visitor, and a marked visitor may see a window's prices).
- **A window's page** (``/w/<handle>``, its collections) marks its visitor, as the hooks
  of ``shop.resellers.marking`` do, with their own functions: the window approved at the
  ``windows`` version just read (what the normal path's lookup found, learnt when this
  process had read that version before it looked: every change of a window's status, its
  terms or the programme bumps ``windows`` once committed, so it is never stale; an
  unknown or hidden window goes to the normal path), ``marking.arrive`` with the visitor's
  ``sf_via`` cookie (last click wins), the page keyed by the window's prices if it sets its
  own (``reseller-prices`` read in the same ``MGET``), the new mark's cookie on a ``GET``
  (a ``HEAD`` marks no one) and, for a visitor not marked for this window already, the
  visit counted once after the hit is sure, in the process's tally that
  ``shop.resellers.visits`` sends to Redis (``VisitTally``: no round trip of its own).
  Without Redis a new visitor goes to the normal path (which counts it in the database);
  a returning one is served here.
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
``POST``, a window not (or no longer) approved — goes to the app untouched.
``tests/pagecache/test_fast_path.py`` compares the two paths' answers, and fails when the
app gains a hook this module does not know.
"""

import logging
import threading
import time
from collections.abc import Iterable
from contextlib import contextmanager
from contextvars import ContextVar
from types import SimpleNamespace
from typing import NamedTuple

from flask import Flask
from flask.globals import _cv_request
from markupsafe import escape
from werkzeug.exceptions import SecurityError
from werkzeug.wsgi import get_host

from shop.db import utcnow
from shop.i18n import app_zone, currency_for, format_locale_for, parsed_locale
from shop.inputs import is_storable
from shop.logs import write_access_line
from shop.metrics import HTTP_DURATION, HTTP_REQUESTS
from shop.pagecache import pages
from shop.pagecache.changes import WINDOW_PRICES, WINDOWS
from shop.pagecache.stores import StoreUnavailable
from shop.resellers import marking, visits
from shop.resellers.attribution import VIA_COOKIE, VIA_PARAMETER, WINDOW_ENDPOINTS, read_mark
from shop.security import REQUEST_ID_HEADER, csrf_serializer, new_csrf_secret, request_id_for

log = logging.getLogger(__name__)

# Views whose only gate before ``cached_page`` is the URL itself: exempt from rate limits,
# nothing read from the session. (A school's shop is not: a private school's page
# depends on an access code kept in the session.) A window's pages also mark the visitor
# (``shop.resellers.marking``), which the fast path does as its hooks do.
FAST_ENDPOINTS = frozenset(
    {"catalog.home", "catalog.product_list", "catalog.product_detail", *WINDOW_ENDPOINTS}
)
MAX_ROUTES = 20_000  # paths remembered (a product page each): a few MB at most
MAX_WINDOWS = 5_000  # windows' lookups remembered (a handle each)
# environ: (handle, ``windows`` version) read here before the normal path looked the
# window up; what it found is then known to hold for that version.
WINDOWS_READ = "shop.pagecache.windows_read"
# Headers of one request: made here, never copied from another answer.
OWN_HEADERS = frozenset(
    ("content-length", "etag", "last-modified", "date", REQUEST_ID_HEADER.lower(), "set-cookie")
)
# Session keys that send a visitor to the normal path: signed in, a message to show,
# Flask-Login's remember-me bookkeeping.
NOT_ANONYMOUS = ("_user_id", "_flashes", "_remember")


class Route(NamedTuple):
    endpoint: str
    versions: tuple[str, ...]
    handle: str | None = None  # a window's page: the window's handle


class WindowVisit(NamedTuple):
    arrival: marking.Arrival | None  # None: a HEAD, which marks no one


class FastPath:
    """The middleware: ``app.wsgi_app = FastPath(app, app.wsgi_app)``."""

    def __init__(self, app: Flask, wsgi_app):
        self.app = app
        self.wsgi_app = wsgi_app
        self.routes: dict[str, Route] = {}
        self.headers: dict[str, list[tuple[str, str]]] = {}  # endpoint → shared headers
        # handle → (the ``windows`` version, the approved window then or None)
        self.windows: dict[str, tuple[str, marking.WindowAt | None]] = {}
        self._lock = threading.Lock()
        config = app.config
        self.csrf_field = config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
        self.csrf_signer = csrf_serializer(
            config.get("WTF_CSRF_SECRET_KEY") or app.secret_key or ""
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
            found = environ.get(marking.WINDOW_FOUND)  # (handle, WindowAt or None)
            if served is not None and status[:4] == "200 " and environ["REQUEST_METHOD"] == "GET":
                path, endpoint, versions = served
                handle = found[0] if found is not None and endpoint in WINDOW_ENDPOINTS else None
                self.learn(path, endpoint, versions, headers, handle)
            read = environ.get(WINDOWS_READ)
            if read is not None and found is not None and read[0] == found[0]:
                handle, windows_version = read
                self.learn_window(handle, windows_version, found[1])
            return start_response(status, headers, exc_info)

        return start

    def learn(
        self, path: str, endpoint: str, versions: Iterable[str], headers, handle=None
    ) -> None:
        if endpoint not in FAST_ENDPOINTS or ((endpoint in WINDOW_ENDPOINTS) != bool(handle)):
            return
        shared = [(name, value) for name, value in headers if name.lower() not in OWN_HEADERS]
        with self._lock:
            self.headers[endpoint] = shared
            _keep(self.routes, path, Route(endpoint, tuple(versions), handle), MAX_ROUTES)

    def learn_window(self, handle: str, windows_version: str, found) -> None:
        """What the normal path found at ``handle`` (``marking.approved_window_at``), looked
        up after this process read ``windows_version``: every change of a window's status,
        terms or the programme bumps ``windows`` once committed, so the answer holds for
        as long as that version is read (never stale, as a page under it is not)."""
        with self._lock:
            _keep(self.windows, handle, (windows_version, found), MAX_WINDOWS)

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
        if not self._plain_request(request, route):
            return None
        session = app.session_interface.open_session(app, request)
        if session is None or any(name in session for name in NOT_ANONYMOUS):
            return None
        store = app.extensions["page_store"]
        versions = self.versions(request, route, store)
        if versions is None:
            return None
        tokens, arrival = versions
        locale = self.locale(request, session)
        key = pages.key_for(request.full_path, locale, self.currency(session), tokens)
        secret = session.get(self.csrf_field)
        if secret is None:
            secret = session[self.csrf_field] = new_csrf_secret()
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
        if arrival is not None:
            self.keep_mark(response, arrival)
        request_id = request_id_for(request.headers)
        response.headers[REQUEST_ID_HEADER] = request_id
        app.session_interface.save_session(app, session, response)
        self.account(request, route, response, request_id, time.perf_counter() - started)
        return response

    # --- a window's page ---------------------------------------------------------------

    def window_visit(self, request, handle: str, versions: dict[str, str]) -> WindowVisit | None:
        """For a window's page: the window (approved at the ``windows`` version read) and
        what this visit does (``marking.arrive``, as ``marking.note_window_visit``);
        ``None`` for the normal path: a window not known at this version (the normal path
        looks it up, and this process learns what it found), not approved, or a visit
        to count without Redis (the normal path writes it to the database)."""
        windows_version = versions[WINDOWS]
        known = self.windows.get(handle)
        if known is None or known[0] != windows_version:
            request.environ[WINDOWS_READ] = (handle, windows_version)
            return None
        found = known[1]
        if found is None:
            return None  # a 404, from the normal path
        if request.method != "GET":  # the hook marks on a GET only
            # Unmarked, a visitor with a cookie sees its window's prices: looked up there.
            return None if VIA_COOKIE in request.cookies else WindowVisit(None)
        previous = read_mark(request.cookies.get(VIA_COOKIE), self.app.config["SECRET_KEY"])
        arrival = marking.arrive(found, previous, utcnow())
        if arrival.counts and visits.redis_for(self.app) is None:
            return None  # counted in the database, by the normal path
        return WindowVisit(arrival)

    @staticmethod
    def window_tokens(read: list[str], count: int, arrival) -> list[str]:
        """The page's versions as ``cached_page`` composes them: those of its names
        (``count``), then, for a visitor who sees the window's own prices, the prices'
        version (read last) and the window."""
        window = arrival.window if arrival is not None else None
        if window is None or window.pricing is None:
            return read[:count]
        return [*read[:count], read[count], f"window:{window.reseller_id}"]

    def keep_mark(self, response, arrival: marking.Arrival) -> None:
        """``marking.keep_window_mark``: the new mark's cookie, and a new visitor's visit
        counted (in this process's tally for Redis: ``visits.VisitTally``)."""
        config = self.app.config
        if arrival.counts:
            mark = arrival.mark
            day = marking.visit_day(mark, app_zone(self.app))
            visits.count_visit(self.app, mark.reseller_id, day)
        secure = config.get("SESSION_COOKIE_SECURE", False)
        marking.set_mark_cookie(response, arrival, config["SECRET_KEY"], secure)

    # --- the request ---------------------------------------------------------------------

    def versions(
        self, request, route: Route, store
    ) -> tuple[list[str], marking.Arrival | None] | None:
        """The page's versions, read from the store, and for a window's page what the
        visit does (``window_visit``); ``None`` for the normal path."""
        names = [*route.versions, f"build:{self.app.extensions['page_build']}"]
        try:
            # A window's page may be keyed by its prices' version too: read in the same MGET.
            read = store.read_versions([*names, WINDOW_PRICES] if route.handle else names)
        except StoreUnavailable:
            return None  # the normal path logs it and renders
        if route.handle is None:
            return read, None
        visit = self.window_visit(request, route.handle, dict(zip(names, read, strict=False)))
        if visit is None:
            return None
        return self.window_tokens(read, len(names), visit.arrival), visit.arrival

    def _plain_request(self, request, route: Route) -> bool:
        """A host the app answers, a path short enough to cache, input ``shop.inputs``
        accepts, no remember-me cookie (Flask-Login would sign the visitor in), no ``via=``
        and, but on a window's own page (which marks the visitor anew), no window mark."""
        try:
            get_host(request.environ, self.app.config["TRUSTED_HOSTS"])
        except SecurityError:
            return False
        if len(request.full_path) > pages.MAX_CACHED_PATH:
            return False
        if request.cookies.get(self.remember_cookie):
            return False
        if VIA_PARAMETER in request.args:
            return False  # Flask marks the visitor
        if VIA_COOKIE in request.cookies and route.handle is None:
            return False  # Flask may show them a window's prices
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
                write_access_line(request.method, request.path, status, duration_ms, request_id)
        except Exception:  # a log line never fails a request
            log.debug("could not write the access line", exc_info=True)


def _keep(remembered: dict, key, value, most: int) -> None:
    """``remembered[key] = value``, forgetting the oldest entry beyond ``most``."""
    if key not in remembered and len(remembered) >= most:
        del remembered[next(iter(remembered))]
    remembered[key] = value


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
