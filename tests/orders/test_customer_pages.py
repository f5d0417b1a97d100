"""The customer's order pages: who may see an order, what the page shows, the list of a
customer's orders, reordering, the message thread and the production-updates choice."""

import re
import time
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from itsdangerous import TimestampSigner

from shop.accounts.models import User
from shop.accounts.permissions import STAFF_ROLES
from shop.cart.models import CartLine
from shop.catalog.models import PriceTier, Product
from shop.orders import access, lifecycle, messages
from shop.orders.lifecycle import apply_refunded_total
from shop.orders.models import OrderLine, OrderMessage
from shop.stock.allocation import adjust
from tests.accounts.helpers import link_in, login, make_user
from tests.checkout_helpers import COURIER_CN, PICKUP, place_order
from tests.factories import make_product
from tests.helpers.queries import recording_queries
from tests.orders.customer_helpers import (
    buy,
    change_order,
    mark_paid_now,
    order_now,
    pay_by_card,
    place_directly,
    stripe_app,
)


@pytest.fixture
def app(make_app, stripe_settings, serve, localstripe):
    return stripe_app(make_app, stripe_settings, serve, localstripe)


@pytest.fixture
def polo(session):
    product = make_product(
        session, slug="polo", name="Summer polo", sizes=("130", "140"), on_hand=20
    )
    session.commit()
    return product


@pytest.fixture
def blazer(session):
    product = make_product(
        session,
        slug="blazer",
        name="School blazer",
        tiers=((1, 32000),),
        on_hand=0,
        made_to_order=True,
        lead_time_days=21,
    )
    session.commit()
    return product


def flashes(client) -> list[str]:
    with client.session_transaction() as browser:
        return [message for _category, message in browser.get("_flashes", [])]


def hooks(html: str, testid: str, attribute: str) -> list[str]:
    """The ``attribute`` of every element with ``data-testid=testid``, in page order."""
    pattern = rf'<[^>]*data-testid="{testid}"[^>]*>'
    return [
        re.search(rf'{attribute}="([^"]*)"', tag).group(1)
        for tag in re.findall(pattern, html)
        if re.search(rf'{attribute}="([^"]*)"', tag)
    ]


def status_of(html: str) -> tuple[str, str]:
    tag = re.search(r'<[^>]*data-testid="order-status"[^>]*>', html).group(0)
    payment = re.search(r'data-payment="([^"]+)"', tag).group(1)
    fulfilment_status = re.search(r'data-fulfilment="([^"]+)"', tag).group(1)
    return payment, fulfilment_status


def signed_in(app, email="ann@example.com"):
    other = app.test_client()
    assert login(other, email=email).status_code == 302
    return other


# --- who may see an order ----------------------------------------------------------------


@pytest.fixture
def owned(app, client, session, polo):
    """Ann's order, placed while signed in; ``client`` is her browser."""
    make_user(session)
    login(client)
    return buy(client, polo.variants[0].id, 2)


def test_the_owner_sees_the_order_from_another_device(app, owned):
    response = signed_in(app).get(f"/orders/{owned}")
    assert response.status_code == 200
    assert f'data-testid="order-number">{owned}<' in response.text
    assert status_of(response.text) == ("unpaid", "unfulfilled")
    assert 'data-testid="order-actions"' in response.text


def test_another_customer_gets_a_404_on_every_order_url_and_changes_nothing(app, session, owned):
    make_user(session, email="bob@example.com")
    bob = signed_in(app, "bob@example.com")
    for path in ("", "/receipt", "/receipt.pdf"):
        assert bob.get(f"/orders/{owned}{path}").status_code == 404
    for action, data in (("cancel", {}), ("reorder", {}), ("messages", {"body": "hi"})):
        assert bob.post(f"/orders/{owned}/{action}", data=data).status_code == 404
    order = order_now(app, owned)
    assert order.state == "open" and order.messages == []
    assert session.scalar(sa.select(sa.func.count(CartLine.id))) == 0


def test_the_browser_that_placed_a_guest_order_sees_it_and_no_other_browser_does(app, client, polo):
    number = buy(client, polo.variants[0].id)
    assert client.get(f"/orders/{number}").status_code == 200
    stranger = app.test_client()
    response = stranger.get(f"/orders/{number}")
    assert response.status_code == 404
    assert 'data-testid="order-number"' not in response.text and "Li Wei" not in response.text


def test_the_emailed_link_opens_the_order_and_the_browser_remembers_it(app, client, polo, outbox):
    number = buy(client, polo.variants[0].id)
    pay_by_card(app, client, number)
    [confirmation] = outbox()
    path = link_in(confirmation)
    assert path.startswith(f"/orders/{number}?t=")
    reader = app.test_client()
    assert reader.get(f"/orders/{number}").status_code == 404
    assert reader.get(path).status_code == 200
    assert reader.get(f"/orders/{number}").status_code == 200  # no token this time
    assert reader.get(f"/orders/{number}/receipt").status_code == 200


def test_a_forged_or_foreign_link_is_a_404(app, client, polo):
    number = buy(client, polo.variants[0].id)
    other_number = buy(client, polo.variants[0].id)
    order, other = order_now(app, number), order_now(app, other_number)
    good = access.link_token("test-secret", order)
    forged = [
        good[:-2] + ("AA" if not good.endswith("AA") else "BB"),
        access.link_token("test-secret", other),  # a real link, for another order
        access.link_token("another-secret", order),
        "not-a-token",
    ]
    for token in forged:
        stranger = app.test_client()
        assert stranger.get(f"/orders/{number}?t={token}").status_code == 404, token
        assert stranger.get(f"/orders/{number}").status_code == 404
        with stranger.session_transaction() as browser:
            assert number not in browser.get(access.SESSION_KEY, [])


def test_an_expired_link_is_a_404_and_a_year_old_one_just_works(app, client, polo, monkeypatch):
    number = buy(client, polo.variants[0].id)
    order = order_now(app, number)

    def signed(age_seconds: int) -> str:
        with monkeypatch.context() as patch:
            patch.setattr(
                TimestampSigner, "get_timestamp", lambda self: int(time.time()) - age_seconds
            )
            return access.link_token("test-secret", order)

    expired = signed(access.LINK_MAX_AGE + 60)
    recent = signed(access.LINK_MAX_AGE - 3600)
    assert app.test_client().get(f"/orders/{number}?t={expired}").status_code == 404
    assert app.test_client().get(f"/orders/{number}?t={recent}").status_code == 200


def test_a_link_stops_working_when_the_max_age_is_shortened(app, client, polo, monkeypatch):
    number = buy(client, polo.variants[0].id)
    token = access.link_token("test-secret", order_now(app, number))
    monkeypatch.setattr(access, "LINK_MAX_AGE", -1)
    assert app.test_client().get(f"/orders/{number}?t={token}").status_code == 404


@pytest.mark.parametrize("role", STAFF_ROLES)
def test_staff_may_look_at_any_order_but_not_act_as_its_customer(app, session, owned, role):
    make_user(session, email=f"{role}@factory.example", role=role)
    staff = signed_in(app, f"{role}@factory.example")
    page = staff.get(f"/orders/{owned}")
    assert page.status_code == 200
    assert 'data-testid="staff-view"' in page.text
    assert 'data-testid="cancel-form"' not in page.text
    assert 'data-testid="message-form"' not in page.text
    assert staff.post(f"/orders/{owned}/cancel").status_code == 403
    assert staff.post(f"/orders/{owned}/messages", data={"body": "hello"}).status_code == 403
    order = order_now(app, owned)
    assert order.state == "open" and order.messages == []


def test_guests_are_sent_to_sign_in_for_the_order_list(client):
    response = client.get("/orders")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/account/login?next=/orders")


# --- the order page ----------------------------------------------------------------------


def test_the_order_page_shows_lines_totals_address_and_statuses(app, client, session, polo):
    for variant, quantity in ((polo.variants[0], 2), (polo.variants[1], 1)):
        client.post("/cart/add", data={"variant_id": variant.id, "quantity": quantity})
    number = place_order(client, COURIER_CN)
    order = order_now(app, number)
    page = client.get(f"/orders/{number}").text
    assert hooks(page, "order-line", "data-sku") == [line.sku for line in order.lines]
    assert hooks(page, "order-line", "data-quantity") == ["2", "1"]
    assert hooks(page, "order-subtotal", "data-amount") == ["26700"]
    assert hooks(page, "order-shipping", "data-amount") == [str(order.shipping_amount)]
    assert hooks(page, "order-total", "data-amount") == [str(26700 + order.shipping_amount)]
    assert order.shipping_amount > 0
    address = re.search(r'data-testid="delivery-address">(.*?)</address>', page, re.S).group(1)
    for part in ("Li Wei", "18 Jihua Road", "Foshan", "Guangdong", "528000", "China"):
        assert part in address
    assert status_of(page) == ("unpaid", "unfulfilled")
    assert 'data-testid="pay-now"' in page and 'data-testid="receipt-link"' not in page
    assert hooks(page, "timeline-event", "data-kind") == ["placed"]
    assert "Order placed" in page


def test_a_pickup_order_shows_where_to_collect_it(app, client, polo):
    number = buy(client, polo.variants[0].id)
    page = client.get(f"/orders/{number}").text
    assert "Pick up at the factory: Sourcefront Garment Factory" in page
    assert 'data-testid="delivery-address"' not in page


def test_the_timeline_shows_the_customers_events_in_words_and_hides_internal_ones(
    app, client, polo
):
    number = buy(client, polo.variants[0].id, 3)
    mark_paid_now(app, number)
    line_id = order_now(app, number).lines[0].id

    def staff_work(session, order):
        lifecycle.add_note(session, order, "Customer sounds upset", actor_user_id=None)
        lifecycle.flag(session, order, "payment_mismatch", "pi_123 paid 1 CNY")
        lifecycle.ship(session, order, {line_id: 2}, carrier="sf_express", tracking_number="SF1234")
        lifecycle.ship(
            session,
            order,
            {line_id: 1},
            carrier="other",
            custom_carrier="Foshan Express",
            tracking_number="FX-9",
        )

    change_order(app, number, staff_work)
    page = client.get(f"/orders/{number}").text
    assert hooks(page, "timeline-event", "data-kind") == [
        "placed",
        "paid",
        "partially_shipped",
        "shipped",
    ]
    for words in ("Payment received", "Part of the order shipped", "SF Express 顺丰速运 SF1234"):
        assert words in page
    assert "Customer sounds upset" not in page and "pi_123" not in page
    assert status_of(page) == ("paid", "shipped")
    assert hooks(page, "tracking-link", "href") == [
        "https://www.sf-express.com/chn/en/waybill/waybill-detail/SF1234"
    ]
    plain = re.search(r'data-testid="tracking-number">([^<]+)<', page).group(1)
    assert plain == "FX-9"
    assert re.findall(r'data-testid="carrier">([^<]+)<', page) == [
        "SF Express 顺丰速运",
        "Foshan Express",
    ]
    assert hooks(page, "shipped-quantity", "data-shipped") == ["3"]
    assert 'data-testid="cancel-form"' not in page  # shipped: too late to cancel


def test_made_to_order_lines_show_when_they_should_ship(app, client, blazer):
    number = buy(client, blazer.variants[0].id)
    before = client.get(f"/orders/{number}").text
    assert "Ships about 21 days after payment" in before
    assert 'data-testid="estimated-ship-date"' not in before
    mark_paid_now(app, number, when=datetime(2026, 3, 2, 4, 0, tzinfo=UTC))
    after = client.get(f"/orders/{number}").text
    assert hooks(after, "estimated-ship-date", "data-date") == ["2026-03-23"]
    assert "Estimated to ship by Mar 23, 2026" in after


def test_refunds_show_in_the_totals(app, client, polo):
    number = buy(client, polo.variants[0].id, 2)  # 17800, pick-up
    mark_paid_now(app, number)
    change_order(app, number, lambda session, order: apply_refunded_total(session, order, 5000))
    page = client.get(f"/orders/{number}").text
    assert hooks(page, "order-refunded", "data-amount") == ["5000"]
    assert hooks(page, "order-net", "data-amount") == ["12800"]
    assert status_of(page) == ("partially_refunded", "unfulfilled")
    assert hooks(page, "timeline-event", "data-kind")[-1] == "partially_refunded"


# --- the list of my orders ---------------------------------------------------------------


def test_my_orders_are_listed_newest_first_with_their_status_and_total(app, client, session, polo):
    ann = make_user(session)
    bob = make_user(session, email="bob@example.com")
    start = datetime(2026, 1, 1, tzinfo=UTC)
    numbers = [
        place_directly(
            session,
            polo.variants[0].id,
            user_id=ann.id,
            email=ann.email,
            now=start + timedelta(days=d),
        ).number
        for d in range(3)
    ]
    place_directly(session, polo.variants[0].id, user_id=bob.id, email=bob.email, now=start)
    mark_paid_now(app, numbers[1])
    login(client)
    page = client.get("/orders").text
    assert hooks(page, "order-row", "data-number") == list(reversed(numbers))
    assert hooks(page, "order-status", "data-payment") == ["unpaid", "paid", "unpaid"]
    assert re.findall(r'data-testid="order-status"[^>]*>([^<]+)<', page) == [
        "Pending payment",
        "Paid",
        "Pending payment",
    ]
    assert hooks(page, "price", "data-amount") == ["8900", "8900", "8900"]
    assert f'href="/orders/{numbers[0]}"' in page


def test_the_order_list_has_twenty_a_page_in_a_fixed_number_of_queries(app, client, session, polo):
    ann = make_user(session)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for minute in range(23):
        place_directly(
            session,
            polo.variants[minute % 2].id,
            user_id=ann.id,
            email=ann.email,
            now=start + timedelta(minutes=minute),
        )
    login(client)
    with recording_queries(app) as first_page:
        page_one = client.get("/orders").text
    with recording_queries(app) as second_page:
        page_two = client.get("/orders?page=2").text
    assert len(hooks(page_one, "order-row", "data-number")) == 20
    assert len(hooks(page_two, "order-row", "data-number")) == 3
    assert 'href="/orders?page=2"' in page_one
    assert len(first_page) == len(second_page)  # 20 orders cost what 3 do
    assert client.get("/orders?page=abc").text.count('data-testid="order-row"') == 20


def test_a_customer_without_orders_sees_where_to_start(app, client, session):
    make_user(session)
    login(client)
    page = client.get("/orders").text
    assert 'data-testid="no-orders"' in page and 'href="/track"' in page
    assert 'data-testid="orders-link"' in page


# --- reorder -----------------------------------------------------------------------------


def cart_lines(session) -> dict[int, int]:
    session.expire_all()
    return dict(session.execute(sa.select(CartLine.variant_id, CartLine.quantity)).all())


def test_reorder_fills_the_cart_at_todays_prices_and_names_what_is_gone(app, client, session, polo):
    socks = make_product(session, slug="socks", name="School socks", on_hand=50)
    tie = make_product(session, slug="tie", name="Striped tie", on_hand=50)
    session.commit()
    for variant_id, quantity in (
        (polo.variants[0].id, 2),
        (polo.variants[1].id, 3),
        (socks.variants[0].id, 1),
        (tie.variants[0].id, 1),
    ):
        client.post("/cart/add", data={"variant_id": variant_id, "quantity": quantity})
    number = place_order(client, PICKUP)
    # Since then: the polo costs more, the 140 sold out, socks left the range, and the
    # tie's variant went from the catalogue.
    session.execute(
        sa.update(PriceTier).where(PriceTier.product_id == polo.id).values(unit_amount=9900)
    )
    adjust(session, polo.variants[1].id, -17, reason="counted")  # 20 - 3 held → 0 free
    session.execute(sa.update(Product).where(Product.id == socks.id).values(active=False))
    session.execute(
        sa.update(OrderLine).where(OrderLine.sku == tie.variants[0].sku).values(variant_id=None)
    )
    session.commit()

    response = client.post(f"/orders/{number}/reorder")
    assert response.status_code == 303 and response.headers["Location"] == "/cart"
    assert cart_lines(session) == {polo.variants[0].id: 2}
    added, missing = flashes(client)
    assert added == f"Added 2 pieces from order {number} to your cart, at today's prices."
    assert missing == (
        "Not added, no longer available: Summer polo (140, Navy): sold out; "
        "School socks (130, Navy): no longer for sale; Striped tie (130, Navy): no longer for "
        "sale."
    )
    cart = client.get("/cart").text
    assert 'data-testid="cart-total" data-amount="19800"' in cart


def test_reorder_adds_to_what_is_already_in_the_cart(app, client, session, polo):
    number = buy(client, polo.variants[0].id, 2)
    client.post("/cart/add", data={"variant_id": polo.variants[0].id, "quantity": 1})
    client.post(f"/orders/{number}/reorder")
    assert cart_lines(session) == {polo.variants[0].id: 3}
    assert client.get("/cart").text.count('data-testid="cart-count" data-count="3"') == 1


# --- messages ----------------------------------------------------------------------------


def test_the_customer_writes_staff_are_emailed_and_the_answer_shows_on_the_page(
    app, client, session, polo, outbox
):
    make_user(session, email="desk@factory.example", role="service")
    number = buy(client, polo.variants[0].id)
    body = "Can I swap to size 140?\n<b>Thanks</b> & bye"
    response = client.post(f"/orders/{number}/messages", data={"body": body})
    assert response.status_code == 303
    assert response.headers["Location"] == f"/orders/{number}#messages"
    [to_staff] = outbox()
    assert to_staff["To"] == "desk@factory.example" and number in to_staff["Subject"]

    def answer(session, order):
        staff = session.scalars(sa.select(User).where(User.role == "service")).one()
        messages.post_staff_reply(session, order, "Yes, done.", staff_user_id=staff.id)

    change_order(app, number, answer)
    page = client.get(f"/orders/{number}").text
    assert hooks(page, "message", "data-from") == ["customer", "staff"]
    assert "Can I swap to size 140?\n&lt;b&gt;Thanks&lt;/b&gt; &amp; bye" in page
    assert "<b>Thanks</b>" not in page
    assert 'class="message__body"' in page  # white-space: pre-line keeps the newline
    assert "Yes, done." in page
    assert [m.from_staff for m in order_now(app, number).messages] == [False, True]


@pytest.mark.parametrize("body", ["", "   \n  ", "x" * (messages.MAX_LENGTH + 1)])
def test_an_empty_or_too_long_message_is_refused_and_nothing_is_saved(
    app, client, session, polo, outbox, body
):
    make_user(session, email="desk@factory.example", role="service")
    number = buy(client, polo.variants[0].id)
    response = client.post(f"/orders/{number}/messages", data={"body": body})
    assert response.status_code == 400
    assert re.search(
        r'data-testid="field-error">Write a message of 1 to 5,000 characters.<', response.text
    )
    assert session.scalar(sa.select(sa.func.count(OrderMessage.id))) == 0
    assert outbox() == []


def test_a_message_of_exactly_the_limit_is_accepted(app, client, session, polo):
    number = buy(client, polo.variants[0].id)
    body = "y" * messages.MAX_LENGTH
    assert client.post(f"/orders/{number}/messages", data={"body": body}).status_code == 303
    assert [m.body for m in order_now(app, number).messages] == [body]


# --- CSRF on the order forms -------------------------------------------------------------


def test_order_forms_without_a_csrf_token_are_refused_and_change_nothing(
    make_app, stripe_settings, session, polo
):
    app = make_app(**stripe_settings, WTF_CSRF_ENABLED=True)
    order = place_directly(
        session, polo.variants[0].id, user_id=None, email="g@example.com", now=datetime.now(UTC)
    )
    client = app.test_client()
    with client.session_transaction() as browser:
        browser[access.SESSION_KEY] = [order.number]
    page = client.get(f"/orders/{order.number}").text
    assert page.count('name="csrf_token"') >= 3  # reorder, cancel, message (and header)
    for action, data in (("cancel", {}), ("reorder", {}), ("messages", {"body": "hello"})):
        response = client.post(f"/orders/{order.number}/{action}", data=data)
        assert response.status_code == 400 and "Form expired" in response.text
    order = order_now(app, order.number)
    assert order.state == "open" and order.messages == []
    assert session.scalar(sa.select(sa.func.count(CartLine.id))) == 0


# --- the production-updates choice -------------------------------------------------------


def test_the_account_page_saves_the_production_updates_choice(app, client, session, polo, outbox):
    ann = make_user(session)
    login(client)
    checkbox = r'<input[^>]*name="production_updates"[^>]*>'
    assert "checked" not in re.search(checkbox, client.get("/account").text).group(0)
    response = client.post("/account/notifications", data={"production_updates": "y"})
    assert response.headers["Location"] == "/account"
    session.expire_all()
    assert session.get(User, ann.id).production_updates is True
    assert "checked" in re.search(checkbox, client.get("/account").text).group(0)

    number = buy(client, polo.variants[0].id)
    mark_paid_now(app, number)
    change_order(app, number, lambda s, order: lifecycle.start_production(s, order))
    assert [m["Subject"] for m in outbox()] == [f"Order {number} is being made"]

    client.post("/account/notifications", data={})
    session.expire_all()
    assert session.get(User, ann.id).production_updates is False
    assert "checked" not in re.search(checkbox, client.get("/account").text).group(0)


def test_the_order_pages_link_from_the_header_and_the_paid_confirmation(app, client, session, polo):
    make_user(session)
    login(client)
    assert 'href="/orders" data-testid="orders-link"' in client.get("/").text
    number = buy(client, polo.variants[0].id)
    pay_by_card(app, client, number)
    confirmation = client.get(f"/checkout/pay/{number}").text
    assert f'href="/orders/{number}" data-testid="order-page-link"' in confirmation
