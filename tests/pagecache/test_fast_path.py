"""The fast path (``shop.pagecache.fastpath``) answers a cached page's hit exactly as the
normal path would, only for visitors who are not signed in, and never stale; on a
window's page it marks the visitor and counts the visit as the normal path's hooks would.
Each test runs with the memory store and with Redis."""

import io
import logging
import re
import time
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from flask import session as flask_session
from flask_babel import get_locale
from flask_limiter import ExemptionScope
from redis.exceptions import ConnectionError as RedisConnectionError
from werkzeug.test import Client

from shop.accounts.models import User
from shop.extensions import limiter
from shop.i18n import current_currency
from shop.metrics import HTTP_REQUESTS
from shop.pagecache import fastpath
from shop.pagecache.stores import StoreUnavailable
from shop.resellers import marking, service, visits
from shop.resellers.attribution import Mark, read_mark
from shop.resellers.models import Reseller, ResellerVisit
from shop.resellers.program import program
from shop.security import install_request_id_logging, log_handler
from tests.at_once import send_at_once
from tests.factories import make_category, make_product
from tests.helpers.pagecache import (
    RAW,
    add,
    cart_count,
    csrf_in,
    fresh_token,
    mark_product,
    raw_marked,
    signed_in,
)
from tests.helpers.resellers import add_picks, make_reseller, use_money_model

PAGE = "/products/polo"
PAGES = ("/", "/products", "/products?category=uniforms&sort=name", "/products?q=polo", PAGE)
TOKEN = re.compile(r'(name="csrf_token" value=")[^"]*(")')


@pytest.fixture
def app(cache_app, store_kind):
    """CSRF checks on, as in production: tokens are real and refused when wrong."""
    return cache_app(store_kind, WTF_CSRF_ENABLED=True)


@pytest.fixture
def polo(session):
    uniforms = make_category(session, slug="uniforms", name="Uniforms")
    product = make_product(
        session, category=uniforms, slug="polo", name="Polo", on_hand=20, featured=True
    )
    session.commit()
    return product


@pytest.fixture
def normal_path(app, monkeypatch):
    """The paths of the requests that reached Flask (the fast path answered the rest)."""
    fast = app.extensions["page_fast_path"]
    flask_app = fast.wsgi_app
    reached = []

    def counting(environ, start_response):
        query = environ.get("QUERY_STRING")
        reached.append(environ["PATH_INFO"] + (f"?{query}" if query else ""))
        return flask_app(environ, start_response)

    monkeypatch.setattr(fast, "wsgi_app", counting)
    return reached


def answer(wsgi, path, method="GET", cookie=None, errors=None, **headers):
    if cookie:
        headers["Cookie"] = cookie
    client = Client(wsgi, use_cookies=False)
    return client.open(path, method=method, headers=headers, errors_stream=errors)


def both(app, path, **kwargs):
    """The same request through the fast path and straight to Flask."""
    fast = app.extensions["page_fast_path"]
    return answer(fast, path, **kwargs), answer(fast.wsgi_app, path, **kwargs)


def session_cookie(response) -> str:
    [cookie] = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    return cookie.split(";", 1)[0]


def comparable(response, first_visit: bool):
    """Status, headers and body, less what differs between any two requests (request id,
    date) and, for first visits, what is the visitor's own (token, cookie, ETag)."""
    own = {"X-Request-ID", "Date"} | ({"ETag"} if first_visit else set())
    headers = []
    for name, value in response.headers:
        if name in own:
            continue
        if first_visit and name == "Set-Cookie":
            value = re.sub(r"^session=[^;]*", "session=…", value)
        headers.append((name, value))
    body = response.get_data(as_text=True)
    if first_visit:
        body = TOKEN.sub(r"\1…\2", body)
    return response.status_code, sorted(headers), body


def warm(app, paths=PAGES, **headers):
    """Serve each page once through Flask: it is cached, and the fast path learns it (and
    the navigation of a visitor not signed in is drawn for the request's language)."""
    visitor = app.test_client()
    for path in paths:
        assert visitor.get(path, headers=headers).status_code == 200, path
    # Last-Modified is only sent once the second of the newest version is over: start the
    # comparisons after it, or one path may send it and the other not.
    time.sleep(1.02 - time.time() % 1)


def test_a_first_visit_is_answered_as_the_normal_path_would(app, polo, normal_path):
    british = {"Accept-Language": "en-GB,en;q=0.8"}
    warm(app, **british)
    normal_path.clear()
    for path in PAGES:
        fast, normal = both(app, path, **british)
        assert comparable(fast, first_visit=True) == comparable(normal, first_visit=True)
        assert session_cookie(fast) != session_cookie(normal)
        assert csrf_in(fast.text) and csrf_in(fast.text) != csrf_in(normal.text)
    assert normal_path == list(PAGES)  # only the requests sent straight to Flask


def test_a_returning_visitor_gets_the_same_answer_and_no_new_cookie(
    app, polo, normal_path, steady_tokens
):
    warm(app)
    cookie = session_cookie(answer(app.wsgi_app, PAGE))
    normal_path.clear()
    for path in PAGES:
        for method in ("GET", "HEAD"):
            fast, normal = both(app, path, method=method, cookie=cookie)
            assert comparable(fast, first_visit=False) == comparable(normal, first_visit=False)
            assert "Set-Cookie" not in fast.headers
            etag = fast.headers["ETag"]
            fast, normal = both(app, path, method=method, cookie=cookie, **{"If-None-Match": etag})
            assert fast.status_code == 304
            assert comparable(fast, first_visit=False) == comparable(normal, first_visit=False)
    assert len(normal_path) == 2 * 2 * len(PAGES)


def test_languages_currencies_and_carts_are_the_visitors_own(app, polo, normal_path, steady_tokens):
    visitor = app.test_client()
    visitor.get(PAGE)
    with visitor.session_transaction() as session:
        session["currency"] = "JPY"
        session["cart_count"] = 7
    cookie = "session=" + visitor.get_cookie("session").value
    languages = ({}, {"Accept-Language": "zh-CN,zh"}, {"Accept-Language": "en-SG"})
    for path in (f"{PAGE}?lang=ja", PAGE):
        for headers in languages:
            visitor.get(path, headers=headers)  # cached, and the navigation drawn
    normal_path.clear()
    for path in (f"{PAGE}?lang=ja", PAGE):
        for headers in languages:
            fast, normal = both(app, path, cookie=cookie, **headers)
            assert comparable(fast, False) == comparable(normal, False)
            assert cart_count(fast.text) == "7" and 'data-currency="JPY"' in fast.text
            assert "Last-Modified" not in fast.headers  # a cart: only the ETag can tell
    assert len(normal_path) == 2 * len(languages)  # the requests sent straight to Flask


@pytest.mark.parametrize(
    ("query", "saved", "accept"),
    [
        ("", {}, None),
        ("", {}, "ja,en;q=0.5"),
        ("", {}, "fr, en-GB;q=0.8, en;q=0.5"),
        ("", {}, "en-US"),
        ("", {}, "en-Latn-AU"),
        ("", {}, "en-ZZ"),
        ("", {}, "zh-Hans-CN"),
        ("?lang=ja", {"locale": "zh_CN"}, "en-GB"),
        ("?lang=xx", {"locale": "zh_CN"}, "en-GB"),
        ("?lang=en", {}, "en-AU"),
        ("", {"locale": "en", "currency": "USD"}, "en-NZ,ja"),
        ("", {"locale": "de", "currency": "SGD"}, "*"),
        ("", {"currency": "EUR"}, "ja;q=0"),
    ],
)
def test_locale_and_currency_are_chosen_as_shop_i18n_chooses_them(app, query, saved, accept):
    fast = app.extensions["page_fast_path"]
    headers = {"Accept-Language": accept} if accept else {}
    with app.test_request_context(f"/products{query}", headers=headers):
        flask_session.update(saved)
        from flask import request

        assert fast.locale(request, saved) == str(get_locale())
        assert fast.currency(saved) == current_currency()


def test_two_first_visitors_get_their_own_tokens_and_both_can_add_to_cart(app, polo, normal_path):
    warm(app)
    normal_path.clear()
    ann, ben = app.test_client(), app.test_client()
    ann_token = csrf_in(ann.get(PAGE).text)[0]
    ben_token = csrf_in(ben.get(PAGE).text)[0]
    assert normal_path == []
    assert ann_token != ben_token
    assert ann.get_cookie("session").value != ben.get_cookie("session").value
    assert add(ben, polo.variants[0].id, 1, token=ann_token).status_code == 400
    assert add(ann, polo.variants[0].id, 2, token=ann_token).status_code == 303
    assert add(ben, polo.variants[0].id, 1, token=ben_token).status_code == 303
    ann.get(PAGE)  # the flash ("Added …"), shown by the normal path
    normal_path.clear()
    assert cart_count(ann.get(PAGE).text) == "2"
    assert normal_path == []


def test_signed_in_customers_staff_and_flashes_go_to_the_normal_path(
    app, session, polo, normal_path
):
    warm(app)
    customer = signed_in(app, session, "Alice")
    staff = signed_in(app, session, "Mia", role="manager")
    remembered = app.test_client()
    remembered.set_cookie("remember_token", "1:1|forged")
    normal_path.clear()
    for browser in (customer, staff, remembered):
        browser.get(PAGE)
    assert normal_path == [PAGE] * 3
    visitor = app.test_client()
    visitor.get(PAGE)
    assert add(visitor, polo.variants[0].id, 1).status_code == 303
    normal_path.clear()
    flashed = visitor.get(PAGE).text
    assert "Added 1 piece" in flashed and normal_path == [PAGE]
    visitor.get(PAGE)
    assert normal_path == [PAGE]  # the message shown, the fast path again


def test_a_price_change_shows_on_the_next_request(app, session, polo, normal_path):
    warm(app)
    visitor = app.test_client()
    assert 'data-amount="8900"' in visitor.get(PAGE).text
    staff = signed_in(app, session, "Mia", role="manager")
    response = staff.post(
        f"/admin/products/{polo.id}/tiers",
        data={"CNY-min": "1", "CNY-price": "95.00", "csrf_token": fresh_token(staff)},
    )
    assert response.status_code == 302
    normal_path.clear()
    for path in PAGES:
        assert 'data-amount="9500"' in visitor.get(path).text, path
    assert normal_path == list(PAGES)  # new versions: rendered by the normal path
    with raw_marked(app, mark_product("polo")):
        for path in PAGES:
            page = visitor.get(path).text
            assert 'data-amount="9500"' in page and RAW not in page, path
    assert normal_path == list(PAGES)  # and served by the fast path since


@pytest.mark.parametrize(
    ("path", "headers", "method", "status"),
    [
        ("/products?q=a%00b", {}, "GET", 400),
        ("/products/polo%00", {}, "GET", 400),
        ("/products?q=" + "x" * 600, {}, "GET", 200),
        ("/products", {"Host": "elsewhere.example"}, "GET", 400),
        ("/products", {}, "POST", 405),
        ("/products/polo/", {}, "GET", 404),
    ],
)
def test_unusual_requests_go_to_the_normal_path(
    cache_app, store_kind, polo, path, headers, method, status
):
    app = cache_app(store_kind, TRUSTED_HOSTS=["localhost"])
    warm(app, ["/products", PAGE, "/products?q=" + "x" * 600])
    fast = app.extensions["page_fast_path"]
    reached = []
    flask_app = fast.wsgi_app
    fast.wsgi_app = lambda environ, start: reached.append(1) or flask_app(environ, start)
    assert answer(fast, path, method=method, **headers).status_code == status
    assert reached == [1]


def test_a_store_that_does_not_answer_sends_every_page_to_the_normal_path(
    app, polo, normal_path, monkeypatch
):
    warm(app)
    store = app.extensions["page_store"]

    def away(_names):
        raise StoreUnavailable("Connection refused")

    monkeypatch.setattr(store, "read_versions", away)
    normal_path.clear()
    with raw_marked(app, mark_product("polo")):
        page = app.test_client().get(PAGE)
    assert page.status_code == 200 and RAW in page.text  # rendered, not cached
    assert normal_path == [PAGE]


@pytest.fixture
def shop_log_handler(app):
    """The shop's own handler on the app logger, as outside tests (pytest's handler on
    the root logger keeps Flask from adding its default one, which the shop replaces)."""
    app.logger.addHandler(log_handler)
    install_request_id_logging(app.logger)
    yield
    app.logger.removeHandler(log_handler)


def test_one_access_line_and_the_request_counter_as_the_normal_path(
    app, polo, caplog, shop_log_handler
):
    """The line goes to the request's ``wsgi.errors`` (gunicorn's error log) either way."""
    warm(app)
    fast = app.extensions["page_fast_path"]
    counter = HTTP_REQUESTS.labels("catalog.product_detail", "GET", "200")
    lines = {}
    for name, wsgi in (("fast", fast), ("normal", fast.wsgi_app)):
        before = counter._value.get()
        errors = io.StringIO()
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="shop.access"):
            response = answer(wsgi, PAGE, errors=errors, **{"X-Request-ID": f"req-{name}"})
        [record] = [r for r in caplog.records if r.name == "shop.access"]
        lines[name] = {
            field: getattr(record, field) for field in ("method", "path", "status", "request_id")
        }
        assert record.getMessage().startswith("GET /products/polo 200 ")
        assert response.headers["X-Request-ID"] == f"req-{name}"
        assert errors.getvalue().count("\n") == 1 and f"[req-{name}]" in errors.getvalue()
        assert counter._value.get() == before + 1
    assert lines["fast"] == {**lines["normal"], "request_id": "req-fast"}


def test_the_fast_path_knows_every_hook_it_stands_in_for(app):
    """The fast path does what these hooks would do for its requests (or they do nothing
    for them); a new hook needs a look at ``shop.pagecache.fastpath`` first."""
    before = [hook.__name__ for hook in app.before_request_funcs[None]]
    after = [getattr(hook, "func", hook).__name__ for hook in app.after_request_funcs[None]]
    assert before == [
        "start_timer",  # its own timer
        "refuse_untrusted_host",  # TRUSTED_HOSTS checked
        "assign_request_id",  # its own request id
        "check_request",  # shop.inputs.is_storable on the path and query; no body
        "csrf_protect",  # GET and HEAD only
        "check_request_limit",  # FAST_ENDPOINTS have no limit (shop.limits.may_be_limited)
        "note_window_visit",  # FastPath.window_visit on a window's page (marking.arrive);
        # elsewhere a via= query or a window mark goes to the normal path
    ]
    assert after == [
        "set_security_headers",  # copied from the normal path's answer
        "observe_request",  # FastPath.account
        "log_access",  # FastPath.account
        "_refuse_writes_on_read",  # no database session
        "keep_retry_after",  # no rate limit
        "__inject_headers",  # no rate limit
        "_update_remember_cookie",  # no remember-me cookie, no _remember in the session
        "keep_window_mark",  # FastPath.keep_mark on a window's page; elsewhere no new mark
    ]
    assert not any(app.before_request_funcs.get("catalog", []))
    assert not any(app.after_request_funcs.get("catalog", []))


def test_fast_endpoints_are_exempt_from_rate_limits(app):
    for endpoint in fastpath.FAST_ENDPOINTS:
        blueprint = endpoint.split(".")[0]
        scope = limiter.limit_manager.exemption_scope(app, endpoint, blueprint)
        assert scope != ExemptionScope.NONE, endpoint


# --- a window's page (``/w/<handle>``): the visitor marked and the visit counted -----------

WINDOW = "/w/ann-picks"
NOW = datetime.now(UTC).replace(microsecond=0)  # every mark in these tests is made then


@pytest.fixture
def windows(app, session, monkeypatch):
    """Ann's approved window (a polo) and Bo's (a skirt), the clock of both paths' marks
    held still; the visits they count are forgotten afterwards."""
    for module in (marking, fastpath):
        monkeypatch.setattr(module, "utcnow", lambda: NOW)
    ann = make_reseller(session)
    bo = make_reseller(session, email="bo@example.com", handle="bo-shop")
    polo = make_product(session, slug="polo", name="Polo")
    skirt = make_product(session, slug="skirt", name="Skirt")
    session.commit()
    add_picks(session, ann, [polo])
    add_picks(session, bo, [skirt])
    yield {"ann": ann.id, "bo": bo.id}
    with app.app_context():
        client = visits._redis()
        if client is not None:
            for key in client.scan_iter(match=f"{visits._prefix()}*"):
                client.delete(key)


def counted(app, session, reseller_id: int) -> int:
    """The window's visits: waiting in Redis, and in the database."""
    waiting = 0
    with app.app_context():
        client = visits._redis()
        if client is not None:
            keys = client.keys(f"{visits._prefix()}*")
            waiting = sum(int(client.hget(key, str(reseller_id)) or 0) for key in keys)
    session.expire_all()
    stored = session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(ResellerVisit.visits), 0)).where(
            ResellerVisit.reseller_id == reseller_id
        )
    )
    return waiting + stored


def counts_in_redis(app) -> bool:
    """New visitors are served by the fast path only where their visit is one ``HINCRBY``
    (without Redis, the normal path writes it to the database)."""
    return bool(app.config.get("REDIS_URL"))


def warm_window(app, path=WINDOW):
    """The page cached and its path learnt, then the window's lookup learnt (the second
    request: the fast path read the ``windows`` version before the normal path looked)."""
    for _ in range(2):
        assert app.test_client().get(path).status_code == 200
    time.sleep(1.02 - time.time() % 1)  # Last-Modified: as ``warm``


def mark_of(app, response) -> tuple[Mark, str] | None:
    """The mark in the ``sf_via`` cookie an answer sets, and the cookie's attributes."""
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("sf_via=")]
    if not cookies:
        return None
    [cookie] = cookies
    value, attributes = cookie.removeprefix("sf_via=").split(";", 1)
    return read_mark(value, app.config["SECRET_KEY"]), attributes


def via_cookie(app, handle: str) -> str:
    """A visitor's ``sf_via`` cookie from a visit of the window at ``handle``."""
    browser = app.test_client()
    browser.get(f"/w/{handle}")
    return f"sf_via={browser.get_cookie('sf_via').value}"


def test_a_new_visitor_of_a_window_is_answered_marked_and_counted_as_the_normal_path_would(
    app, session, windows, normal_path
):
    warm_window(app)
    before = counted(app, session, windows["ann"])
    normal_path.clear()
    fast, normal = both(app, WINDOW)
    assert comparable(fast, first_visit=True) == comparable(normal, first_visit=True)
    assert mark_of(app, fast) == mark_of(app, normal)
    assert mark_of(app, fast)[0] == Mark(windows["ann"], NOW)
    assert counted(app, session, windows["ann"]) == before + 2  # one visit each
    assert normal_path == ([WINDOW] if counts_in_redis(app) else [WINDOW] * 2)
    assert counted(app, session, windows["bo"]) == 0


def test_a_returning_visitor_is_not_counted_again_on_either_path(
    app, session, windows, normal_path, steady_tokens
):
    warm_window(app)
    browser = app.test_client()
    browser.get(WINDOW)
    cookie = f"session={browser.get_cookie('session').value}; " + via_cookie(app, "ann-picks")
    before = counted(app, session, windows["ann"])
    normal_path.clear()
    for method in ("GET", "HEAD"):
        fast, normal = both(app, WINDOW, method=method, cookie=cookie)
        assert comparable(fast, first_visit=False) == comparable(normal, first_visit=False)
        etag = fast.headers["ETag"]
        fast, normal = both(app, WINDOW, method=method, cookie=cookie, **{"If-None-Match": etag})
        assert fast.status_code == 304
        assert comparable(fast, first_visit=False) == comparable(normal, first_visit=False)
    assert counted(app, session, windows["ann"]) == before  # marked for this window already
    # The GETs sent straight to Flask; a HEAD marks no one, so the cookie's window (looked
    # up in the database) says which prices it sees: both HEADs went to Flask.
    assert normal_path == [WINDOW] * 2 + [WINDOW] * 4
    # The normal path renews the mark of a GET (a new cookie, no visit); a HEAD marks no one.
    assert mark_of(app, answer(app, WINDOW, cookie=cookie))[0] == Mark(windows["ann"], NOW)
    assert mark_of(app, answer(app, WINDOW, method="HEAD", cookie=cookie)) is None


def test_a_visitor_marked_for_another_window_is_marked_anew_and_counted(
    app, session, windows, normal_path
):
    warm_window(app)
    bo_cookie = via_cookie(app, "bo-shop")
    before = counted(app, session, windows["ann"])
    normal_path.clear()
    fast, normal = both(app, WINDOW, cookie=bo_cookie)
    assert comparable(fast, first_visit=True) == comparable(normal, first_visit=True)
    assert mark_of(app, fast) == mark_of(app, normal)
    assert mark_of(app, fast)[0] == Mark(windows["ann"], NOW)  # last click wins
    assert counted(app, session, windows["ann"]) == before + 2
    assert normal_path == ([WINDOW] if counts_in_redis(app) else [WINDOW] * 2)


def test_a_suspended_window_is_never_served_nor_counted(app, session, windows, normal_path):
    warm_window(app)
    staff = session.scalar(sa.select(User).where(User.email == "approver@factory.example"))
    ann = session.get(Reseller, windows["ann"])
    service.change_status(session, staff, ann, "suspend", expected="approved")
    session.commit()
    before = counted(app, session, windows["ann"])
    normal_path.clear()
    for _ in range(2):  # the second one: after the fast path learnt of the suspension
        page = app.test_client().get(WINDOW)
        assert page.status_code == 404 and page.headers.get("Set-Cookie", "").find("sf_via") < 0
    assert normal_path == [WINDOW] * 2
    assert counted(app, session, windows["ann"]) == before
    service.change_status(session, staff, ann, "reinstate", expected="suspended")
    session.commit()
    warm_window(app)
    normal_path.clear()
    assert app.test_client().get(WINDOW).status_code == 200
    assert normal_path == ([] if counts_in_redis(app) else [WINDOW])


def test_a_windows_own_prices_are_keyed_as_the_normal_path_keys_them(
    app, session, windows, normal_path
):
    use_money_model(session, session.get(Reseller, windows["ann"]), "price")
    warm_window(app)
    normal_path.clear()
    fast, normal = both(app, WINDOW)
    assert comparable(fast, first_visit=True) == comparable(normal, first_visit=True)
    assert 'data-testid="window-own-prices"' in fast.text
    assert normal_path == ([WINDOW] if counts_in_redis(app) else [WINDOW] * 2)


def test_signed_in_visitors_of_a_window_go_to_the_normal_path(app, session, windows, normal_path):
    warm_window(app)
    customer = signed_in(app, session, "Alice")
    normal_path.clear()
    assert customer.get(WINDOW).status_code == 200
    assert normal_path == [WINDOW]


def test_a_redis_that_does_not_count_sends_the_visit_to_the_database(
    app, session, windows, normal_path, monkeypatch
):
    if not counts_in_redis(app):
        pytest.skip("without Redis new visitors always go to the normal path")
    warm_window(app)
    with app.app_context():
        client = visits._redis()

    def refuse(*args, **kwargs):
        raise RedisConnectionError("Redis is away")

    monkeypatch.setattr(client, "hincrby", refuse)
    before = counted(app, session, windows["ann"])
    normal_path.clear()
    response = app.test_client().get(WINDOW)
    assert response.status_code == 200 and mark_of(app, response) is not None
    assert normal_path == []  # served here: the tally wrote the visit to the database
    assert counted(app, session, windows["ann"]) == before + 1


@pytest.mark.parametrize("copies", [2, 5])
@pytest.mark.parametrize("marked_for", [None, "ann-picks", "bo-shop"])
def test_the_same_window_request_at_once_counts_as_the_normal_path_would(
    app, session, windows, normal_path, copies, marked_for
):
    """Each copy is a request of its own: a visitor not marked for the window counts one
    visit per copy, one marked for it none (on PostgreSQL the copies run in worker
    processes of their own, through the normal path)."""
    warm_window(app)
    browser = app.test_client()
    if marked_for:
        key, value = via_cookie(app, marked_for).split("=", 1)
        browser.set_cookie(key, value)
    before = counted(app, session, windows["ann"])
    normal_path.clear()
    answers = send_at_once(app, browser, copies, "GET", WINDOW)
    assert [each.status for each in answers] == [200] * copies
    expected = 0 if marked_for == "ann-picks" else copies
    assert counted(app, session, windows["ann"]) == before + expected
    threads = not app.config["DATABASE_URL"].startswith("postgresql")
    if threads and (counts_in_redis(app) or marked_for == "ann-picks"):
        assert normal_path == []  # all served by the fast path


def test_what_the_fast_path_knows_of_a_window_follows_the_programme_at_once(
    app, session, windows, normal_path
):
    """The window's lookup is known per ``windows`` version: a new attribution period
    shows on the next mark (its cookie's lifetime), whichever path answers."""
    warm_window(app)
    assert "Max-Age=2592000" in mark_of(app, app.test_client().get(WINDOW))[1]  # 30 days
    program(session).attribution_days = 7
    session.commit()
    for _ in range(3):  # the normal path, the lookup learnt, the fast path
        assert "Max-Age=604800" in mark_of(app, app.test_client().get(WINDOW))[1]
    normal_path.clear()
    fast, normal = both(app, WINDOW)
    assert mark_of(app, fast) == mark_of(app, normal)
    assert normal_path == ([WINDOW] if counts_in_redis(app) else [WINDOW] * 2)
