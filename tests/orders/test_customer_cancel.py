"""A customer cancels an order before production starts: a paid one is refunded in full
through Stripe (localstripe here) and its stock goes back on the shelf; later, it is
refused politely and nothing changes."""

import pytest
import sqlalchemy as sa

from shop.catalog.models import Variant
from shop.orders import lifecycle
from shop.payments.models import Refund
from shop.payments.stripe_gateway import PaymentServiceUnavailable, StripeGateway, gateway
from shop.stock.models import StockMovement
from tests.accounts.helpers import login, make_user
from tests.factories import make_product
from tests.orders.customer_helpers import (
    buy,
    change_order,
    mark_paid_now,
    order_now,
    pay_by_card,
    stripe_app,
)


@pytest.fixture
def app(make_app, stripe_settings, serve, localstripe):
    return stripe_app(make_app, stripe_settings, serve, localstripe)


@pytest.fixture
def polo(session):
    product = make_product(session, slug="polo", name="Summer polo", on_hand=20)
    session.commit()
    return product


def flashes(client) -> list[str]:
    with client.session_transaction() as browser:
        return [message for _category, message in browser.get("_flashes", [])]


def stock(session, variant_id: int) -> tuple[int, int]:
    session.expire_all()
    row = session.execute(
        sa.select(Variant.on_hand, Variant.allocated).where(Variant.id == variant_id)
    ).one()
    return tuple(row)


def test_a_paid_order_is_cancelled_refunded_in_full_and_restocked(
    app, client, session, polo, outbox
):
    variant_id = polo.variants[0].id
    number = buy(client, variant_id, 3)  # 3 × 89.00, picked up: 26700
    paid = pay_by_card(app, client, number)
    assert stock(session, variant_id) == (17, 0)
    assert [m["Subject"] for m in outbox()] == [f"Order {number} is paid"]
    assert (
        f'href="/orders/{number}/cancel" data-testid="cancel-order"'
        in client.get(f"/orders/{number}").text
    )
    # One click does not refund: it asks first, saying how much, to which card, how long.
    unconfirmed = client.post(f"/orders/{number}/cancel")
    assert unconfirmed.status_code == 303
    assert unconfirmed.headers["Location"] == f"/orders/{number}/cancel"
    assert order_now(app, number).state == "open"
    confirm_page = client.get(f"/orders/{number}/cancel").text
    assert 'data-testid="refund-amount" data-amount="26700" data-currency="CNY"' in confirm_page
    assert "We will refund CN¥267.00 to your Visa card ending 4242." in confirm_page
    assert "Banks usually show a refund within 5–10 days." in confirm_page

    response = client.post(f"/orders/{number}/cancel", data={"confirm": "yes"})

    assert response.status_code == 303
    assert response.headers["Location"] == f"/orders/{number}"
    assert flashes(client) == [
        f"Order {number} is cancelled. We refunded CN¥267.00 to your card; banks usually "
        "show it within 5–10 days."
    ]
    order = order_now(app, number)
    assert (order.state, order.payment_status) == ("cancelled", "refunded")
    assert order.refunded_amount == order.total_amount == 26700
    [refund] = order.refunds
    assert (refund.amount, refund.status, refund.restocked) == (26700, "succeeded", True)
    assert refund.stripe_refund_id and refund.request_key == f"cancel-{number}"
    with app.app_context():
        at_stripe = gateway().client.v1.refunds.retrieve(refund.stripe_refund_id)
    assert (at_stripe.amount, at_stripe.payment_intent) == (26700, paid.payments[-1].intent_id)
    assert stock(session, variant_id) == (20, 0)
    returned = session.scalars(
        sa.select(StockMovement).where(
            StockMovement.variant_id == variant_id, StockMovement.reason == "returned"
        )
    ).all()
    assert [(m.on_hand_delta, m.note) for m in returned] == [(3, f"order {number}")]
    assert [m["Subject"] for m in outbox()] == [
        f"Order {number} is paid",
        f"A refund for order {number}",
        f"Order {number} is cancelled",
    ]
    kinds = [event.kind for event in order.events if event.visible_to_customer]
    assert kinds[-2:] == ["refunded", "cancelled"]

    page = client.get(f"/orders/{number}").text
    assert 'data-payment="refunded"' in page and 'data-state="cancelled"' in page
    assert 'data-testid="cancel-form"' not in page


def test_an_unpaid_order_is_cancelled_and_its_held_stock_released(
    app, client, session, polo, outbox
):
    variant_id = polo.variants[0].id
    make_user(session)
    login(client)
    number = buy(client, variant_id, 2)
    assert stock(session, variant_id) == (20, 2)
    response = client.post(f"/orders/{number}/cancel")
    assert response.status_code == 303
    assert flashes(client) == [f"Order {number} is cancelled. Nothing was charged."]
    order = order_now(app, number)
    assert (order.state, order.payment_status) == ("cancelled", "unpaid")
    assert order.refunds == [] and order.payments[0].status == "canceled"
    assert stock(session, variant_id) == (20, 0)
    assert [m["Subject"] for m in outbox()] == [f"Order {number} is cancelled"]


def test_once_production_starts_the_customer_is_told_politely_and_nothing_changes(
    app, client, session, polo, outbox
):
    number = buy(client, polo.variants[0].id, 2)
    pay_by_card(app, client, number)
    change_order(app, number, lambda s, order: lifecycle.start_production(s, order))
    before = order_now(app, number)
    sent = len(outbox())
    assert 'data-testid="cancel-form"' not in client.get(f"/orders/{number}").text

    response = client.post(f"/orders/{number}/cancel")

    assert response.status_code == 409
    assert "can no longer be cancelled online: the factory has started on it" in response.text
    after = order_now(app, number)
    assert (after.state, after.payment_status, after.fulfilment_status) == (
        "open",
        "paid",
        "in_production",
    )
    assert after.refunds == [] and len(after.events) == len(before.events)
    assert session.scalar(sa.select(sa.func.count(Refund.id))) == 0
    assert len(outbox()) == sent
    assert stock(session, polo.variants[0].id) == (18, 0)


def test_cancelling_again_changes_nothing_and_shows_the_cancelled_order(app, client, polo, outbox):
    number = buy(client, polo.variants[0].id)
    assert client.post(f"/orders/{number}/cancel").status_code == 303
    with client.session_transaction() as browser:
        browser.pop("_flashes", None)  # the first answer's message, read
    events = len(order_now(app, number).events)
    again = client.post(f"/orders/{number}/cancel")
    assert again.status_code == 303
    assert again.headers["Location"] == f"/orders/{number}"
    assert flashes(client) == [f"Order {number} is cancelled."]
    assert len(order_now(app, number).events) == events
    assert len(outbox()) == 1


def test_when_stripe_does_not_answer_the_order_stays_as_it_was(
    app, client, session, polo, outbox, monkeypatch
):
    number = buy(client, polo.variants[0].id, 2)
    pay_by_card(app, client, number)

    def unavailable(self, *args, **kwargs):
        raise PaymentServiceUnavailable()

    monkeypatch.setattr(StripeGateway, "refund", unavailable)
    response = client.post(f"/orders/{number}/cancel", data={"confirm": "yes"})
    assert response.status_code == 503
    assert "the order is not cancelled and nothing changed" in response.text
    order = order_now(app, number)
    assert (order.state, order.payment_status, order.refunded_amount) == ("open", "paid", 0)
    assert order.refunds == []
    assert stock(session, polo.variants[0].id) == (18, 0)
    assert [m["Subject"] for m in outbox()] == [f"Order {number} is paid"]


def test_an_order_paid_without_a_card_here_is_not_cancelled_online(app, client, polo, outbox):
    number = buy(client, polo.variants[0].id)
    mark_paid_now(app, number)  # paid, but no card payment through this shop (an invoice)
    response = client.post(f"/orders/{number}/cancel", data={"confirm": "yes"})
    assert response.status_code == 409
    assert "not paid by card here, so it cannot be cancelled online" in response.text
    order = order_now(app, number)
    assert (order.state, order.payment_status, order.refunds) == ("open", "paid", [])
    assert outbox() == []
