"""The request's side of attribution (``shop.resellers.attribution``): read the visitor's
window mark, set a new one on a window's page or a ``?via=<handle>`` link, count the visit.

``note_window_visit`` runs before the view, so the page a visitor lands on already shows
the window's prices; ``keep_window_mark`` writes the cookie and counts the visit once the
page has answered (below 400): in Redis, or a short transaction of its own
(``shop.resellers.visits``). ``current_window()`` is what the rest of the request asks:
the approved window the visitor's mark (new or from the cookie) points at, if it still
holds. A visitor without the cookie costs no query.

What arriving through a window does (``arrive``), the cookie (``set_mark_cookie``) and the
day a visit counts on (``visit_day``) are plain functions: the page cache's fast path
(``shop.pagecache.fastpath``) serves a window's cached page with them, exactly as these
hooks would. It never answers a request with ``via=``, nor another page for a visitor
with this cookie; the normal path keys a marked visitor's pages by the window
(``shop.pagecache.pages``).
"""

import json
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import NamedTuple

import sqlalchemy as sa
from flask import current_app, g, request
from flask.wrappers import Response

from shop.db import PreparedSelect, get_session, utcnow
from shop.i18n import app_zone
from shop.resellers import prices, rules
from shop.resellers.attribution import (
    VIA_COOKIE,
    VIA_PARAMETER,
    WINDOW_ENDPOINTS,
    Mark,
    counts_as_new,
    is_current,
    live_mark,
    read_mark,
    sign_mark,
)
from shop.resellers.models import Reseller, ResellerProgram, ResellerTerms, WindowProfile
from shop.resellers.prices import PRICE_MODEL, PricingWindow
from shop.resellers.program import (
    DEFAULTS,
    PROGRAM_ID,
    WindowTerms,
    combined_terms,
    window_terms,
)
from shop.resellers.visits import count_visit

_NEW_MARK = "window_mark_new"  # g: this request's Arrival, its mark to be set
_WINDOW = "window_current"  # g: this request's ActiveWindow, or None, once worked out
_AT_HANDLE = "window_at_handle"  # g: (handle, WindowAt or None), looked up
# g: the handle of the window whose own page this is, its lookup left to the page's read
# (``window_found``), or to the first that asks before it (``current_window``).
_DEFERRED = "window_deferred"
# The window's own page: its view reads the window with its picks (``window_found``).
WINDOW_PAGE_ENDPOINT = "resellers.window"
SECONDS_PER_DAY = 86_400
# request.environ: (handle, WindowAt or None) as this request looked it up, for the fast
# path to learn (``shop.pagecache.fastpath``).
WINDOW_FOUND = "shop.resellers.window_found"


@dataclass(frozen=True)
class ActiveWindow:
    """The window a visitor is marked for now."""

    reseller_id: int
    money_model: str
    price_cap_bps: int

    @property
    def pricing(self) -> PricingWindow | None:
        """Its prices, when it sells at its own (the 'price' model)."""
        if self.money_model != PRICE_MODEL:
            return None
        return PricingWindow(self.reseller_id, self.price_cap_bps)


def _secret() -> str:
    return current_app.config["SECRET_KEY"]


def cookie_mark() -> Mark | None:
    """The mark in the visitor's cookie (not checked for age or window)."""
    return read_mark(request.cookies.get(VIA_COOKIE), _secret())


def _arrival_handle() -> str | None:
    if request.endpoint in WINDOW_ENDPOINTS:
        handle = (request.view_args or {}).get("handle")
    else:
        handle = request.args.get(VIA_PARAMETER)
    if not isinstance(handle, str):
        return None
    handle = rules.clean_handle(handle)
    return handle if rules.handle_problem(handle) is None else None


@dataclass(frozen=True)
class WindowAt:
    """An approved window found by its handle: what marking a visitor needs, and what
    its own page shows of it (``profile``)."""

    reseller_id: int
    terms: WindowTerms
    attribution_days: int
    profile: WindowProfile


class _Own(NamedTuple):  # a window's own terms, as ``combined_terms`` reads them
    money_model: str | None
    commission_bps: int | None
    blind_slip: bool
    slip_message: str


class _Base(NamedTuple):  # the programme's, likewise
    money_model: str
    commission_bps: int
    price_cap_bps: int
    attribution_days: int


# The programme's terms while it has no row yet: its defaults, as ``read_program`` gives
# them (made once, not as an unsaved row on every visit).
_DEFAULT_BASE = _Base._make(DEFAULTS[field] for field in _Base._fields)

# The window at a handle with what its page shows of it, its own terms and the
# programme's, in one statement of plain columns, prepared once (no ORM objects: it runs
# on every visit of a window, cached page or not).
WINDOW_AT = PreparedSelect(
    sa.select(
        Reseller.id,
        Reseller.handle,
        Reseller.display_name,
        Reseller.bio,
        Reseller.avatar_path,
        Reseller.social_links,
        Reseller.status,
        ResellerTerms.reseller_id,
        ResellerTerms.money_model,
        ResellerTerms.commission_bps,
        ResellerTerms.blind_slip,
        ResellerTerms.slip_message,
        ResellerProgram.id,
        ResellerProgram.money_model,
        ResellerProgram.commission_bps,
        ResellerProgram.price_cap_bps,
        ResellerProgram.attribution_days,
    )
    .outerjoin(ResellerTerms, ResellerTerms.reseller_id == Reseller.id)
    .outerjoin(ResellerProgram, ResellerProgram.id == PROGRAM_ID)
    .where(Reseller.handle == sa.bindparam("handle"))
)


def _profile(id_, handle, display_name, bio, avatar_path, links) -> WindowProfile:
    # The links' JSON as the driver gives it: text on SQLite, decoded by psycopg.
    links = json.loads(links) if isinstance(links, str) else links
    return WindowProfile(id_, handle, display_name, bio, avatar_path, tuple(links or ()))


def approved_window_at(handle: str) -> WindowAt | None:
    """The approved window at ``handle``; ``None`` for none (or one not approved).
    Looked up once per request: the visitor's mark (``note_window_visit``, before the
    view) and the window's own page share the answer."""
    looked_up, found = looked_up_window(handle)
    if looked_up:
        return found
    db = get_session()
    return _remember(handle, WINDOW_AT.rows(db.connection(), handle=handle))


def looked_up_window(handle: str) -> tuple[bool, WindowAt | None]:
    """Whether this request looked up the window at ``handle`` already, and what it found."""
    known = g.get(_AT_HANDLE)
    if known is not None and known[0] == handle:
        return True, known[1]
    return False, None


def window_found(handle: str, rows: list) -> WindowAt | None:
    """The window's own page read the window at ``handle`` (``WINDOW_AT``'s ``rows``)
    with its picks: what ``approved_window_at`` finds, and the visit the hook left to
    the page (``note_window_visit``) marks the visitor now, before the page's prices."""
    found = _remember(handle, rows)
    if g.get(_DEFERRED) == handle:
        g.pop(_DEFERRED)
        _arrive_at(found)
    return found


def _remember(handle: str, rows: list) -> WindowAt | None:
    found = None
    if rows and rows[0][6] == "approved":
        # The profile [0:6], the status, the window's own terms [7:12] (row id None: it
        # has none), the programme's [12:17] (likewise).
        row = rows[0]
        own = _Own._make(row[8:12]) if row[7] is not None else None
        base = _Base._make(row[13:17]) if row[12] is not None else _DEFAULT_BASE
        terms = combined_terms(base, own)
        found = WindowAt(row[0], terms, base.attribution_days, _profile(*row[:6]))
    setattr(g, _AT_HANDLE, (handle, found))
    request.environ[WINDOW_FOUND] = (handle, found)
    return found


@dataclass(frozen=True)
class Arrival:
    """A visit through an approved window: the visitor's new mark (last click wins),
    whether it counts a visit, the days it lasts, and the window the visitor sees now."""

    mark: Mark
    counts: bool
    days: int
    window: ActiveWindow | None


def arrive(found: WindowAt, previous: Mark | None, now: datetime) -> Arrival:
    """What arriving at ``now`` through ``found`` does for a visitor whose cookie holds
    ``previous`` (the request hooks' rule, and the page cache fast path's)."""
    days, terms = found.attribution_days, found.terms
    if previous is not None and not is_current(previous, days, now):
        previous = None
    mark = Mark(found.reseller_id, now)
    window = None
    if is_current(mark, days, now):  # as ``current_window`` would find it
        window = ActiveWindow(found.reseller_id, terms.money_model, terms.price_cap_bps)
    return Arrival(mark, counts_as_new(previous, found.reseller_id), days, window)


def set_mark_cookie(response: Response, arrival: Arrival, secret_key: str, secure: bool) -> None:
    """The visitor's new mark, in its signed cookie."""
    response.set_cookie(
        VIA_COOKIE,
        sign_mark(arrival.mark, secret_key),
        max_age=arrival.days * SECONDS_PER_DAY,
        httponly=True,
        samesite="Lax",
        secure=secure,
    )


def visit_day(mark: Mark, zone: tzinfo) -> date:
    """The shop's day (in ``zone``, its time zone) that a visit marked so counts on."""
    return mark.marked_at.astimezone(zone).date()


def note_window_visit() -> None:
    """Before the view: a GET through an approved window marks the visitor (last click
    wins); a window not approved, or no window at that handle, marks nothing. One query
    (``approved_window_at``), none more for the prices the page then shows; on the
    window's own page none at all: its view reads the window with its picks and marks
    the visitor then (``window_found``), unless something asks for the visitor's window
    before (``current_window`` looks it up for them)."""
    if request.method != "GET":
        return
    handle = _arrival_handle()
    if handle is None:
        return
    if request.endpoint == WINDOW_PAGE_ENDPOINT:
        setattr(g, _DEFERRED, handle)
        return
    _arrive_at(approved_window_at(handle))


def _arrive_at(found: WindowAt | None) -> None:
    if found is None:
        return
    arrival = arrive(found, cookie_mark(), utcnow())
    setattr(g, _WINDOW, arrival.window)
    setattr(g, _NEW_MARK, arrival)


def keep_window_mark(response: Response) -> Response:
    """After the view: the new mark in its cookie, and the visit counted once."""
    arrival = g.pop(_NEW_MARK, None)
    if arrival is None or response.status_code >= 400:
        return response
    secure = current_app.config.get("SESSION_COOKIE_SECURE", False)
    set_mark_cookie(response, arrival, _secret(), secure)
    if arrival.counts:
        # The app's zone: the shop has no time zone selector (``shop.i18n.app_zone``).
        day = visit_day(arrival.mark, app_zone(current_app))
        count_visit(current_app, arrival.mark.reseller_id, day)
    return response


def current_window() -> ActiveWindow | None:
    """The approved window this visitor is marked for, its mark still current."""
    deferred = g.pop(_DEFERRED, None)
    if deferred is not None:  # asked before the window's page read it: look it up now
        _arrive_at(approved_window_at(deferred))
    if _WINDOW in g:
        return g.get(_WINDOW)
    noted = g.get(_NEW_MARK)
    mark = noted.mark if noted else cookie_mark()
    window = None
    if mark is not None:
        db = get_session()
        reseller = live_mark(db, mark, utcnow())
        if reseller is not None:
            terms = window_terms(db, reseller.id)
            window = ActiveWindow(reseller.id, terms.money_model, terms.price_cap_bps)
    setattr(g, _WINDOW, window)
    return window


def pricing_window() -> PricingWindow | None:
    """The window whose prices this visitor sees and pays, if any."""
    window = current_window()
    return window.pricing if window is not None else None


def marked_reseller_id() -> int | None:
    """The window an order placed now would belong to."""
    window = current_window()
    return window.reseller_id if window is not None else None


def window_cards(cards: list, currency: str) -> list:
    """Product cards as this visitor sees them: at their window's prices, if it has any."""
    window = pricing_window()
    if window is None or not cards:
        return cards
    own = prices.prices_by_slug(get_session(), window, [card.slug for card in cards], currency)
    return prices.reprice_cards(cards, own)


def window_tiers(product_id: int, ranges: list, currency: str) -> list:
    """A product page's tier table as this visitor sees it (``window_cards``' rule)."""
    window = pricing_window()
    if window is None or not ranges:
        return ranges
    own = prices.prices_by_id(get_session(), window, [product_id], currency)
    return prices.scale_ranges(ranges, own[product_id]) if product_id in own else ranges
