"""Attribution: a window's page or a ``via=`` link marks the visitor (signed cookie, last
click wins, for the programme's days); each new mark counts one visit; an order placed
while the mark holds belongs to the window, which earns on it unless it is the reseller's
own or a school's."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from shop.accounts.models import Address
from shop.catalog.models import Product
from shop.db import utcnow
from shop.orders.models import Order
from shop.resellers import attribution, marking, service
from shop.resellers import program as programme
from shop.resellers.models import Reseller, ResellerProgram, ResellerVisit
from tests.accounts.helpers import make_user
from tests.at_once import send_at_once
from tests.checkout_helpers import COURIER_CN, add_to_cart, place_order
from tests.factories import make_product
from tests.helpers.resellers import add_picks, make_reseller, window_cookie
from tests.school_factories import make_school


@pytest.fixture
def windows(session):
    ann = make_reseller(session)
    bo = make_reseller(session, email="bo@example.com", handle="bo-shop", display_name="Bo")
    polo = make_product(session, slug="polo", name="Polo")
    session.commit()
    add_picks(session, ann, [polo])
    add_picks(session, bo, [polo])
    return {"ann": ann.id, "bo": bo.id}


@pytest.fixture
def clock(monkeypatch):
    """``clock["now"]``: the time the mark hook reads (moved by the tests)."""
    moment = {"now": utcnow()}
    monkeypatch.setattr(marking, "utcnow", lambda: moment["now"])
    return moment


def visits(session, reseller_id: int) -> int:
    session.expire_all()
    return session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(ResellerVisit.visits), 0)).where(
            ResellerVisit.reseller_id == reseller_id
        )
    )


def marked_for(app, client) -> int | None:
    cookie = window_cookie(client)
    mark = attribution.read_mark(cookie.value if cookie else None, app.config["SECRET_KEY"])
    return mark.reseller_id if mark else None


def test_a_window_page_marks_the_visitor_and_counts_one_visit(app, client, session, windows):
    assert client.get("/w/ann-picks").status_code == 200
    assert marked_for(app, client) == windows["ann"]
    assert visits(session, windows["ann"]) == 1
    cookie = window_cookie(client)
    assert cookie.http_only and cookie.max_age == 30 * 86400
    # The same window again, its collections, other pages: no new visit.
    client.get("/w/ann-picks")
    client.get("/products/polo")
    assert visits(session, windows["ann"]) == 1


def test_a_via_link_on_any_page_marks_the_visitor(app, client, session, windows):
    assert client.get("/products/polo?via=Ann-Picks").status_code == 200
    assert marked_for(app, client) == windows["ann"]
    assert visits(session, windows["ann"]) == 1
    other = app.test_client()
    assert other.get("/?via=bo-shop").status_code == 200
    assert marked_for(app, other) == windows["bo"]


@pytest.mark.parametrize(
    "link", ["/products/polo?via=nobody", "/?via=a%00b", "/?via=" + "x" * 3000, "/?via=admin"]
)
def test_an_unknown_window_marks_nothing(app, client, session, windows, link):
    assert client.get(link).status_code in (200, 400)
    assert window_cookie(client) is None
    assert session.scalar(sa.select(sa.func.count()).select_from(ResellerVisit)) == 0


@pytest.mark.parametrize("status", ["applied", "suspended", "closed"])
def test_a_window_not_approved_marks_nothing(app, client, session, status):
    make_reseller(session, handle="quiet-one", status=status)
    make_product(session, slug="polo")
    session.commit()
    client.get("/products/polo?via=quiet-one")
    assert window_cookie(client) is None


def test_the_last_click_wins(app, client, session, windows):
    client.get("/w/ann-picks")
    client.get("/products/polo?via=bo-shop")
    assert marked_for(app, client) == windows["bo"]
    client.get("/w/ann-picks")
    assert marked_for(app, client) == windows["ann"]
    assert (visits(session, windows["ann"]), visits(session, windows["bo"])) == (2, 1)


def test_a_forged_cookie_is_ignored(app, client, session, windows):
    forged = attribution.sign_mark(
        attribution.Mark(windows["ann"], utcnow()), "not-the-shop-secret"
    )
    client.set_cookie("sf_via", forged)
    with app.test_request_context("/", headers={"Cookie": f"sf_via={forged}"}):
        assert marking.current_window() is None


def current_in(app, client) -> int | None:
    cookie = window_cookie(client)
    headers = {"Cookie": f"sf_via={cookie.value}"} if cookie else {}
    with app.test_request_context("/", headers=headers):
        return marking.marked_reseller_id()


def test_the_mark_lasts_the_programmes_days(app, client, session, windows, clock):
    client.get("/w/ann-picks")
    start = clock["now"]
    clock["now"] = start + timedelta(days=29, hours=23)
    assert current_in(app, client) == windows["ann"]
    clock["now"] = start + timedelta(days=30, seconds=1)
    assert current_in(app, client) is None


def test_a_shorter_period_set_by_the_factory(app, client, session, windows, clock):
    programme.program(session).attribution_days = 7
    session.commit()
    client.get("/w/ann-picks")
    assert window_cookie(client).max_age == 7 * 86400
    start = clock["now"]
    clock["now"] = start + timedelta(days=6)
    assert current_in(app, client) == windows["ann"]
    clock["now"] = start + timedelta(days=7, seconds=1)
    assert current_in(app, client) is None


def test_an_expired_mark_counts_a_new_visit(app, client, session, windows, clock):
    client.get("/w/ann-picks")
    clock["now"] = clock["now"] + timedelta(days=31)
    client.get("/w/ann-picks")
    assert visits(session, windows["ann"]) == 2
    assert current_in(app, client) == windows["ann"]


def test_a_window_suspended_after_the_mark_is_ignored(app, client, session, windows):
    client.get("/w/ann-picks")
    staff = make_user(session, email="boss@factory.example", role="owner")
    ann = session.get(Reseller, windows["ann"])
    service.change_status(session, staff, ann, "suspend", expected="approved")
    session.commit()
    assert current_in(app, client) is None


def test_one_visit_per_request(app, client, session, windows):
    client.get("/w/ann-picks?page=1")
    client.head("/w/ann-picks")  # a preview bot's HEAD marks nothing
    assert visits(session, windows["ann"]) == 1


@pytest.mark.parametrize("n", [2, 5])
def test_visits_at_the_same_moment_all_count(app, client, session, windows, n):
    answers = send_at_once(app, client, n, "GET", "/products/polo?via=ann-picks")
    assert [answer.status for answer in answers] == [200] * n
    assert visits(session, windows["ann"]) == n


# --- orders ------------------------------------------------------------------------------


def bare_order(session, **fields) -> Order:
    """An order row as ``write_order`` leaves it (no lines: attribution reads none)."""
    values = {
        "number": f"T{utcnow().timestamp():.6f}".replace(".", "")[-12:],
        "email": "buyer@example.com",
        "currency": "CNY",
        "subtotal_amount": 8900,
        "total_amount": 8900,
        "delivery_method": "courier",
        "country": "CN",
        "line1": "18 Jihua Road",
        "postcode": "528000",
        **fields,
    }
    order = Order(**values)
    session.add(order)
    session.flush()
    return order


def test_an_order_belongs_to_the_window_and_earns(session, windows):
    order = bare_order(session)
    attribution.attribute_order(session, order, windows["ann"])
    assert (order.reseller_id, order.reseller_model, order.reseller_earns) == (
        windows["ann"],
        "referral",
        True,
    )


def test_no_mark_or_a_window_suspended_since_gives_no_window(session, windows):
    order = bare_order(session)
    attribution.attribute_order(session, order, None)
    session.get(Reseller, windows["bo"]).status = "suspended"
    attribution.attribute_order(session, order, windows["bo"])
    assert (order.reseller_id, order.reseller_earns) == (None, False)


def test_the_resellers_own_account_earns_nothing(session, windows):
    ann = session.get(Reseller, windows["ann"])
    order = bare_order(session, user_id=ann.user_id, email="other@example.com", line1="9 Elsewhere")
    attribution.attribute_order(session, order, ann.id)
    assert (order.reseller_id, order.reseller_earns) == (ann.id, False)


def test_the_resellers_email_earns_nothing(session, windows):
    order = bare_order(session, email="  Reseller@Example.COM ", line1="9 Elsewhere")
    attribution.attribute_order(session, order, windows["ann"])
    assert order.reseller_earns is False


def test_an_address_of_the_resellers_own_orders_earns_nothing(session, windows):
    ann = session.get(Reseller, windows["ann"])
    bare_order(session, user_id=ann.user_id, line1="7 Lotus  Lane", postcode="510 000")
    order = bare_order(session, email="friend@example.com", line1="7 lotus lane", postcode="510000")
    attribution.attribute_order(session, order, ann.id)
    assert order.reseller_earns is False
    stranger = bare_order(session, email="friend@example.com", line1="8 Lotus Lane")
    attribution.attribute_order(session, stranger, ann.id)
    assert stranger.reseller_earns is True


def test_an_address_in_the_resellers_address_book_earns_nothing(session, windows):
    ann = session.get(Reseller, windows["ann"])
    session.add(
        Address(user_id=ann.user_id, recipient="Ann", country="CN", city="Foshan",
                line1="3 Pearl Road", postcode="528000")
    )  # fmt: skip
    order = bare_order(session, email="friend@example.com", line1="3 PEARL ROAD")
    attribution.attribute_order(session, order, ann.id)
    assert order.reseller_earns is False


def test_a_school_order_earns_only_if_the_programme_says_so(session, windows):
    school = make_school(session)
    session.flush()
    order = bare_order(session, school_id=school.id)
    attribution.attribute_order(session, order, windows["ann"])
    assert (order.reseller_id, order.reseller_earns) == (windows["ann"], False)
    programme.program(session).earn_on_school_orders = True
    session.flush()
    again = bare_order(session, school_id=school.id, number="SCHOOL-EARNS")
    attribution.attribute_order(session, again, windows["ann"])
    assert again.reseller_earns is True


def test_the_programme_row_is_not_written_by_a_reading_request(app, client, session, windows):
    """A GET reads the programme's defaults without making its row (GET never writes)."""
    client.get("/w/ann-picks")
    assert session.scalar(sa.select(sa.func.count()).select_from(ResellerProgram)) == 0


@pytest.mark.live
def test_a_marked_buyers_order_says_via_the_window(app, client, session, windows, sign_in):
    buyer = app.test_client()
    buyer.get("/products/polo?via=ann-picks")
    polo = session.scalar(sa.select(Product).where(Product.slug == "polo"))
    add_to_cart(buyer, polo.variants[0].id, 1)
    number = place_order(buyer, COURIER_CN)
    session.expire_all()
    order = session.scalar(sa.select(Order).where(Order.number == number))
    assert (order.reseller_id, order.reseller_model, order.reseller_earns) == (
        windows["ann"],
        "referral",
        True,
    )
    assert [line.factory_unit_amount for line in order.lines] == [None]  # factory's price
    page = buyer.get(f"/orders/{number}").text
    assert 'data-testid="order-via">via Ann&#39;s picks<' in page
    sign_in("manager")
    desk = client.get(f"/admin/orders/{number}").text
    assert f'href="/admin/resellers/{windows["ann"]}">via Ann&#39;s picks</a>' in desk


@pytest.mark.live
def test_an_unmarked_buyers_order_has_no_window(app, session, windows):
    buyer = app.test_client()
    polo = session.scalar(sa.select(Product).where(Product.slug == "polo"))
    add_to_cart(buyer, polo.variants[0].id, 1)
    number = place_order(buyer, COURIER_CN)
    session.expire_all()
    order = session.scalar(sa.select(Order).where(Order.number == number))
    assert (order.reseller_id, order.reseller_earns) == (None, False)
    assert 'data-testid="order-via"' not in buyer.get(f"/orders/{number}").text
