"""Serve a catalogue page from the cache, with the visitor's own parts filled in.

A page is rendered once per (path and query, locale, currency, build, versions) with
*holes* where the visitor's own parts go — the CSRF token, the cart count, the signed-in
part of the navigation and flash messages — and stored. Every request, hit or miss,
fills the holes for its own visitor, so one visitor's token, cart or name never reaches
another. While a page renders for the cache, ``csrf_token()`` (both the Jinja global, for
macros imported without context, and the context variable Flask-WTF would otherwise set)
and ``page_hole(name)`` give the hole's marker; otherwise ``page_hole`` gives ``None`` and
the template renders the part itself. A marker carries a tag derived from ``SECRET_KEY``,
so text a visitor or an editor types can never pose as a hole.

A visitor marked for a window that sets its own prices (``shop.resellers.marking``) gets
pages of their own: the key adds the window and the ``reseller-prices`` version (bumped by
every change of a window's prices or picks), and the fast path never learns from them
(but from a window's own pages: their visitor is marked for that window, whoever they
are, and the fast path works out that mark as the request hooks do).

Staff never get cached pages; signed-in customers do (their parts are holes). The
response carries an ``ETag`` made of the stored page's key and the visitor's own parts
(their CSRF secret, cart count, who is signed in), and answers ``If-None-Match`` with 304
without filling the page. Visitors whose parts are everyone's also get ``Last-Modified``:
each version says when it was made, so the page last changed at its newest version.
"""

import hashlib
import re
from collections.abc import Callable
from datetime import UTC, datetime

from flask import current_app, g, make_response, request, session
from flask_babel import get_locale
from flask_login import current_user
from markupsafe import Markup, escape
from werkzeug.http import http_date

from shop.accounts.session import maybe_signed_in
from shop.extensions import login_manager
from shop.i18n import current_currency
from shop.pagecache import stores
from shop.pagecache.changes import WINDOW_PRICES
from shop.pagecache.stores import PAGE_TTL_SECONDS, StoreUnavailable, token_time
from shop.resellers.attribution import WINDOW_ENDPOINTS
from shop.resellers.marking import pricing_window
from shop.security import generate_csrf
from shop.templating import locale_name

MAX_CACHED_PATH = 512  # longer paths and queries are rendered, not stored
VISITOR_TEMPLATES = {"nav": "_visitor/nav.html", "flashes": "_visitor/flashes.html"}
# Holes: the visitor's CSRF token, cart count, signed-in navigation and flash messages.
HOLE_NAMES = ("csrf", "cart", "nav", "flashes")
# request.environ: (path, endpoint, version names) of a page served from the cache to a
# visitor not signed in, for ``shop.pagecache.fastpath`` to learn from.
SERVED_FROM_CACHE = "shop.pagecache.served"
# Kept texts (``fill_holes(..., kept=True)``) whose cuts at the holes are remembered.
PIECES_KEPT = 256


class Holes:
    """The markers of one shop (every instance with the same ``SECRET_KEY`` agrees)."""

    def __init__(self, secret_key: str):
        self.tag = hashlib.sha256(f"pagecache-hole\n{secret_key}".encode()).hexdigest()[:16]
        self.markers = {name: self.marker(name) for name in HOLE_NAMES}
        self.pattern = re.compile(f"\ue000([a-z]+)\\.{self.tag}\ue001")
        self._pieces: dict[str, tuple[str, ...]] = {}

    def marker(self, name: str) -> Markup:
        """The marker of the hole ``name`` (lower-case letters): the page cache's own
        (``HOLE_NAMES``), or another that its maker fills before the page is stored
        (``shop.layout``'s)."""
        return Markup(f"\ue000{name}.{self.tag}\ue001")  # noqa: S704 - a name, a hex tag

    def pieces(self, text: str) -> tuple[str, ...]:
        """``text`` cut at its holes, ``(text, name, text, name, ..., text)``, remembered
        for the next request: for a text kept per process (``cached_fragment``'s), whose
        holes are at the same places every time."""
        pieces = self._pieces.get(text)
        if pieces is None:
            if len(self._pieces) >= PIECES_KEPT:
                self._pieces = {}
            pieces = self._pieces[text] = tuple(self.pattern.split(text))
        return pieces


def holes() -> Holes:
    return current_app.extensions["page_holes"]


def marker(name: str) -> Markup:
    return holes().markers[name]


def page_hole(name: str) -> Markup | None:
    """In a template: the hole for ``name`` while rendering for the cache, else None."""
    return marker(name) if g.get("pagecache_rendering") else None


def csrf_token() -> str:
    """``csrf_token()`` for templates: the visitor's token, or its hole in a cached page."""
    if g.get("pagecache_rendering"):
        return marker("csrf")
    return generate_csrf()


def cached_page(versions: list[str], render: Callable[[], str | tuple[str, float]]):
    """The response for a cacheable GET: ``render()`` (the page's template, rendered as
    usual) runs only on a miss; it may return ``(html, seconds)`` to keep the page no
    longer than that (a page that shows the next delivery date)."""
    store = current_app.extensions.get("page_store")
    if store is None or not _cacheable():
        return _uncached(render)
    build = current_app.extensions["page_build"]
    window = pricing_window()
    names = [*versions, f"build:{build}"] + ([WINDOW_PRICES] if window else [])
    try:
        tokens = store.read_versions(names)
    except StoreUnavailable as error:
        current_app.logger.warning("page cache unavailable, rendering: %s", error)
        return _uncached(render)
    if window is not None:
        tokens = [*tokens, f"window:{window.reseller_id}"]
    key = page_key(tokens)
    etag = _visitor_etag(key)
    modified = _last_modified(tokens)
    if etag is not None and not maybe_signed_in() and _same_for_all(window):
        # For the fast path (``shop.pagecache.fastpath``): which versions this path reads.
        request.environ[SERVED_FROM_CACHE] = (request.path, request.endpoint, tuple(versions))
    if etag is not None and request.if_none_match.contains_weak(etag):
        return _conditional(make_response("", 304), etag, modified)
    text = store.get_page(key)
    if text is None:
        g.pagecache_rendering = True
        try:
            rendered = render()
        finally:
            g.pagecache_rendering = False
        text, ttl = rendered if isinstance(rendered, tuple) else (rendered, PAGE_TTL_SECONDS)
        if ttl > 0:
            store.put_page(key, text, min(ttl, PAGE_TTL_SECONDS))
    return _conditional(make_response(fill(text)), etag, modified)


def _same_for_all(window) -> bool:
    """Whether the page's versions are every visitor's: no window prices, or a window's
    own page (whose visitor is marked for it, ``shop.resellers.marking.arrive``)."""
    return window is None or request.endpoint in WINDOW_ENDPOINTS


def _uncached(render: Callable[[], str | tuple[str, float]]):
    html = render()
    response = make_response(html[0] if isinstance(html, tuple) else html)
    response.add_etag()
    return _conditional(response)


def _cacheable() -> bool:
    if request.method not in ("GET", "HEAD") or len(request.full_path) > MAX_CACHED_PATH:
        return False
    if not maybe_signed_in():
        return True
    return not (current_user.is_authenticated and current_user.is_staff)


def page_key(versions: list[str]) -> str:
    # The locale is the language and, for English, the browser's region ("en_GB"): dates
    # read "5 Dec 2026" or "Dec 5, 2026" by it (shop.i18n.select_format_locale).
    return key_for(request.full_path, str(get_locale()), current_currency(), versions)


def key_for(full_path: str, locale: str, currency: str, versions: list[str]) -> str:
    """The stored page's key: path and query, locale, currency and the versions read."""
    parts = [full_path, locale, currency, *versions]
    return hashlib.sha1(
        "\n".join(parts).encode("utf-8", "surrogatepass"), usedforsecurity=False
    ).hexdigest()


def fill(text: str) -> str:
    """The stored page with this visitor's parts in its holes."""
    return fill_holes(holes(), text, visitor_part)


def fill_holes(
    page_holes: Holes, text: str, part: Callable[[str], str], *, kept: bool = False
) -> str:
    """``text`` with each hole replaced by ``part(name)`` (asked once per name). ``kept``:
    ``text`` is kept per process (a ``cached_fragment``), so its cuts are remembered."""
    pieces = list(page_holes.pieces(text) if kept else page_holes.pattern.split(text))
    values: dict[str, str] = {}
    for index in range(1, len(pieces), 2):  # the odd pieces are the holes' names
        name = pieces[index]
        value = values.get(name)
        if value is None:
            value = values[name] = part(name)
        pieces[index] = value
    return "".join(pieces)


def _visitor_etag(key: str) -> str | None:
    """An ETag for this page as this visitor sees it, known before filling it in: the
    stored page's key plus the visitor's parts. ``None`` while a flash message waits
    (it must be shown, once)."""
    if session.get("_flashes"):
        return None
    generate_csrf()  # makes sure the visitor has a CSRF secret
    secret = current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    who = (current_user.get_id() or "") if maybe_signed_in() else ""
    return etag_for(key, session.get(secret, ""), session.get("cart_count", 0), who)


def etag_for(key: str, csrf_secret: object, cart_count: object, who: str) -> str:
    parts = (key, str(csrf_secret), str(cart_count), who)
    return hashlib.sha1("\n".join(parts).encode(), usedforsecurity=False).hexdigest()


def _last_modified(tokens: list[str]) -> datetime | None:
    """``Last-Modified``: when the newest of the page's versions was made (the build's
    counts: it is first seen when a deploy first serves). Only for a visitor whose own
    parts are everyone's (not signed in, no cart, no message): a date cannot tell that a
    visitor's cart count changed, an ETag can. And only once that second is over: HTTP
    dates have whole seconds, so a page changed again within the second it was sent
    would look unchanged to ``If-Modified-Since``."""
    if maybe_signed_in() or session.get("cart_count") or session.get("_flashes"):
        return None
    return newest_version_time(tokens)


def newest_version_time(tokens: list[str]) -> datetime | None:
    """When the newest of ``tokens`` was made, once that second is over (else None)."""
    times = [time for token in tokens if (time := token_time(token)) is not None]
    if len(times) < len(tokens) or int(max(times)) >= int(stores.clock()):
        return None
    return datetime.fromtimestamp(int(max(times)), UTC)


def visitor_part(name: str) -> str:
    """The visitor's own part for the hole ``name`` (``HOLE_NAMES``), as this request has it."""
    if name == "csrf":
        return generate_csrf()
    if name == "cart":
        return str(escape(session.get("cart_count", 0)))
    if name == "flashes" and not session.get("_flashes"):
        return ""
    if name == "nav" and not maybe_signed_in():
        return _anonymous_nav()
    return _render_visitor_template(name)


def _render_visitor_template(name: str, user=None) -> str:
    template = current_app.jinja_env.get_template(VISITOR_TEMPLATES[name])
    return template.render(current_user=user or current_user, request=request)


def _anonymous_nav() -> str:
    """The navigation of a visitor not signed in: the same for all, per language. (Drawn
    for an anonymous user object: asking Flask-Login for the current user would make it
    check the session and send a remember-cookie deletion with this response.)"""
    rendered = current_app.extensions.setdefault("anonymous_nav", {})
    locale = locale_name()
    if locale not in rendered:
        rendered[locale] = _render_visitor_template("nav", login_manager.anonymous_user())
    return rendered[locale]


def _conditional(response, etag: str | None = None, modified: datetime | None = None):
    response.headers["Cache-Control"] = "private, no-cache"
    return conditional(response, request, etag, modified)


# What ``make_conditional`` answers to; a GET or HEAD without any of them only gets the
# ``Date`` and ``Content-Length`` it would add.
CONDITIONS = (
    "HTTP_IF_NONE_MATCH",
    "HTTP_IF_MODIFIED_SINCE",
    "HTTP_IF_MATCH",
    "HTTP_IF_UNMODIFIED_SINCE",
    "HTTP_IF_RANGE",
    "HTTP_RANGE",
)


def conditional(response, for_request, etag: str | None = None, modified: datetime | None = None):
    """Browsers may keep the page but must ask again (a 304 costs almost nothing):
    ``If-None-Match`` against the ETag, or, from a client that sends only a date,
    ``If-Modified-Since`` against ``Last-Modified``. A request that asks nothing (a
    first visit) is spared werkzeug's parsing of the conditions it does not send."""
    if etag is not None:
        response.set_etag(etag, weak=True)
    if modified is not None:
        response.last_modified = modified
    environ = for_request.environ
    if environ["REQUEST_METHOD"] not in ("GET", "HEAD") or any(
        name in environ for name in CONDITIONS
    ):
        return response.make_conditional(for_request)
    headers = response.headers
    if "date" not in headers:
        headers["Date"] = http_date()
    if response.automatically_set_content_length and "content-length" not in headers:
        length = response.calculate_content_length()
        if length is not None:
            headers["Content-Length"] = str(length)
    return response
