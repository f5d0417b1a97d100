"""Every state-changing action on the customer's side, sent 2 and 5 times at the same
moment (tests/at_once.py: threads on SQLite, processes on PostgreSQL): exactly one
effect — one event, one email, stock moved once, one order, one refund — and every copy
ends on the page the customer expects, never a 500."""

import re
import time
from collections import Counter

import pytest
import sqlalchemy as sa

from shop.cart.models import CartLine
from shop.catalog.models import Variant
from shop.orders.models import Order, OrderMessage
from shop.payments.stripe_gateway import gateway
from shop.stock.models import StockMovement
from tests.accounts.helpers import make_user
from tests.at_once import send_at_once
from tests.checkout_helpers import PICKUP, add_to_cart, card, wait_for_email
from tests.factories import make_product
from tests.localstripe_server import payment_intents
from tests.orders.customer_helpers import buy, order_now, pay_by_card, stripe_app

COPIES = [2, 5]


@pytest.fixture
def app(make_app, stripe_settings, serve, localstripe):
    return stripe_app(make_app, stripe_settings, serve, localstripe)


@pytest.fixture
def polo(session):
    product = make_product(session, slug="polo", name="Summer polo", on_hand=20)
    session.commit()
    return product


def stock(session, variant_id: int) -> tuple[int, int]:
    session.expire_all()
    row = session.execute(
        sa.select(Variant.on_hand, Variant.allocated).where(Variant.id == variant_id)
    ).one()
    return tuple(row)


def kinds(order) -> list[str]:
    return [event.kind for event in order.events]


def subjects(outbox) -> list[str]:
    return [message["Subject"] for message in outbox()]


@pytest.mark.parametrize("copies", COPIES)
def test_cancelling_an_unpaid_order_at_once_releases_its_stock_once(
    app, client, session, polo, outbox, copies
):
    variant_id = polo.variants[0].id
    other = app.test_client()
    buy(other, variant_id, 2)  # another customer's held pieces must stay held
    number = buy(client, variant_id, 3)
    assert stock(session, variant_id) == (20, 5)

    answers = send_at_once(app, client, copies, "POST", f"/orders/{number}/cancel")

    assert {(a.status, a.location) for a in answers} == {(303, f"/orders/{number}")}
    assert Counter(a.messages for a in answers) == {
        (f"Order {number} is cancelled. Nothing was charged.",): 1,
        (f"Order {number} is cancelled.",): copies - 1,
    }
    assert stock(session, variant_id) == (20, 2)
    order = order_now(app, number)
    assert kinds(order) == ["placed", "cancelled"]
    released = session.scalars(
        sa.select(StockMovement).where(
            StockMovement.reference == number, StockMovement.reason == "released"
        )
    ).all()
    assert [movement.allocated_delta for movement in released] == [-3]
    assert subjects(outbox) == [f"Order {number} is cancelled"]


@pytest.mark.parametrize("copies", COPIES)
def test_cancelling_a_paid_order_at_once_refunds_it_once(
    app, client, session, polo, outbox, copies
):
    variant_id = polo.variants[0].id
    number = buy(client, variant_id, 3)
    paid = pay_by_card(app, client, number)

    answers = send_at_once(
        app, client, copies, "POST", f"/orders/{number}/cancel", data={"confirm": "yes"}
    )

    assert {(a.status, a.location) for a in answers} == {(303, f"/orders/{number}")}
    assert sum(1 for a in answers if "We refunded" in " ".join(a.messages)) == 1
    order = order_now(app, number)
    assert (order.state, order.payment_status, order.refunded_amount) == (
        "cancelled",
        "refunded",
        26700,
    )
    assert [refund.amount for refund in order.refunds] == [26700]
    with app.app_context():
        at_stripe = gateway().client.v1.refunds.list(
            params={"payment_intent": paid.payments[-1].intent_id}
        )
    assert [refund.amount for refund in at_stripe.data] == [26700]
    assert stock(session, variant_id) == (20, 0)
    assert kinds(order)[-2:] == ["refunded", "cancelled"]
    assert kinds(order).count("cancelled") == 1
    assert subjects(outbox) == [
        f"Order {number} is paid",
        f"A refund for order {number}",
        f"Order {number} is cancelled",
    ]


@pytest.mark.parametrize("copies", COPIES)
def test_the_same_details_sent_at_once_lead_to_one_review_and_write_nothing(
    app, client, session, polo, copies
):
    """Details go in the visitor's cookie session: copies at once change no row."""
    assert add_to_cart(client, polo.variants[0].id, 2).status_code == 303
    rows = (session.scalar(sa.select(sa.func.count(Order.id))), stock(session, polo.variants[0].id))

    answers = send_at_once(app, client, copies, "POST", "/checkout", data=PICKUP)

    assert {(a.status, a.location) for a in answers} == {(303, "/checkout/review")}
    session.expire_all()
    assert (
        session.scalar(sa.select(sa.func.count(Order.id))),
        stock(session, polo.variants[0].id),
    ) == rows


@pytest.mark.parametrize("copies", COPIES)
def test_placing_the_same_order_at_once_places_one(app, client, session, polo, copies):
    variant_id = polo.variants[0].id
    assert add_to_cart(client, variant_id, 2).status_code == 303
    assert client.post("/checkout", data=PICKUP).status_code == 303
    review = client.get("/checkout/review").text
    key = re.search(r'name="request_key" type="hidden" value="([^"]+)"', review).group(1)
    before = {pi.id for pi in payment_intents(app)}

    answers = send_at_once(
        app, client, copies, "POST", "/checkout/place", data={"request_key": key}
    )

    orders = session.scalars(sa.select(Order)).all()
    assert len(orders) == 1
    [order] = orders
    assert {(a.status, a.location) for a in answers} == {(303, f"/checkout/pay/{order.number}")}
    assert stock(session, variant_id) == (20, 2)
    assert [payment.attempt for payment in order.payments] == [1]
    # Every PaymentIntent a losing copy made was cancelled at Stripe; the order's is live.
    live = [pi.id for pi in payment_intents(app) if pi.id not in before and pi.status != "canceled"]
    assert live == [order.payments[0].intent_id]
    assert session.scalar(sa.select(sa.func.count(CartLine.id))) == 0


@pytest.mark.parametrize("copies", COPIES)
def test_paying_with_the_same_card_at_once_charges_once(app, client, session, polo, outbox, copies):
    number = buy(client, polo.variants[0].id, 1)
    method = card(app)

    answers = send_at_once(
        app, client, copies, "POST", f"/checkout/pay/{number}/card", json={"payment_method": method}
    )

    assert all(a.status in (200, 409) for a in answers), answers
    order = order_now(app, number)
    for _ in range(50):  # the webhook, once
        if order.payment_status == "paid":
            break
        time.sleep(0.1)
        order = order_now(app, number)
    assert order.payment_status == "paid"
    with app.app_context():
        charges = [
            gateway().client.v1.payment_intents.retrieve(payment.intent_id).status
            for payment in order.payments
        ]
    assert charges.count("succeeded") == 1
    assert kinds(order).count("paid") == 1
    wait_for_email(app, f"Order {number} is paid")
    time.sleep(0.3)  # and no second one follows
    assert subjects(outbox) == [f"Order {number} is paid"]


@pytest.mark.parametrize("copies", COPIES)
def test_the_same_message_sent_at_once_is_posted_once(app, client, session, polo, outbox, copies):
    make_user(session, email="service@factory.example", role="service")
    session.commit()
    number = buy(client, polo.variants[0].id, 1)
    page = client.get(f"/orders/{number}").text
    key = re.search(r'name="request_key" type="hidden" value="([^"]+)"', page).group(1)

    answers = send_at_once(
        app,
        client,
        copies,
        "POST",
        f"/orders/{number}/messages",
        data={"body": "Can it come before Monday?", "request_key": key},
    )

    assert {(a.status, a.location) for a in answers} == {(303, f"/orders/{number}#messages")}
    assert session.scalar(sa.select(sa.func.count(OrderMessage.id))) == 1
    assert subjects(outbox) == [f"Customer message on order {number}"]


@pytest.mark.parametrize("copies", COPIES)
def test_buying_again_at_once_fills_the_cart_once(app, client, session, polo, copies):
    variant_id = polo.variants[0].id
    number = buy(client, variant_id, 3)
    page = client.get(f"/orders/{number}").text
    key = re.search(r'name="request_key" value="([^"]+)"', page).group(1)

    answers = send_at_once(
        app, client, copies, "POST", f"/orders/{number}/reorder", data={"request_key": key}
    )

    assert {(a.status, a.location) for a in answers} == {(303, "/cart")}
    quantities = session.scalars(sa.select(CartLine.quantity)).all()
    assert quantities == [3]
