"""Orders for the customer-page tests, made through the shop's own forms and services."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from shop.cart import service as cart_service
from shop.cart.models import Cart
from shop.checkout import service as checkout_service
from shop.orders.lifecycle import mark_paid
from shop.orders.models import Order
from shop.payments.stripe_gateway import Intent
from tests.checkout_helpers import (
    PICKUP,
    add_to_cart,
    card,
    pay,
    place_order,
    wait_for,
    wait_for_email,
)
from tests.localstripe_server import register_webhook


def stripe_app(make_app, stripe_settings, serve, localstripe, **settings):
    """The shop wired to localstripe, served so that its webhooks reach the shop."""
    app = make_app(**stripe_settings, **settings)
    register_webhook(localstripe, serve(app) + "/stripe/webhook")
    return app


def buy(client, variant_id: int, quantity: int = 1, details=None) -> str:
    """Cart → checkout → placed (unpaid); returns the order number."""
    response = add_to_cart(client, variant_id, quantity)
    assert response.status_code == 303, response.text
    return place_order(client, details or PICKUP)


def pay_by_card(app, client, number: str) -> Order:
    """Pay with localstripe's good test card; wait for the signed webhook."""
    assert pay(client, number, card(app)).get_json()["status"] == "processing"
    order = wait_for(app, number, lambda o: o.payment_status == "paid")
    assert order.payment_status == "paid"
    wait_for_email(app, f"Order {number} is paid")
    return order


def order_now(app, number: str) -> Order:
    """The order as the database has it now, with everything a test looks at loaded."""
    with Session(app.extensions["sa_engine"], expire_on_commit=False) as session:
        order = session.scalars(sa.select(Order).where(Order.number == number)).one()
        _ = order.lines, order.events, order.payments, order.refunds, order.messages
        _ = order.shipments
        return order


def change_order(app, number: str, change) -> None:
    """Run ``change(session, order)`` (a shop service) and commit, as a view would."""
    with app.test_request_context(), Session(app.extensions["sa_engine"]) as session:
        order = session.scalars(sa.select(Order).where(Order.number == number)).one()
        change(session, order)
        session.commit()


def mark_paid_now(app, number: str, when: datetime | None = None) -> None:
    """What the webhook does once Stripe says the money arrived (without a card)."""
    change_order(app, number, lambda session, order: mark_paid(session, order, now=when))


class FakeGateway:
    """Stands in for Stripe where only the order's rows matter (order lists)."""

    def __init__(self):
        self.count = 0

    def create_intent(self, *, order_number, attempt, amount, currency):
        self.count += 1
        return Intent(
            id=f"pi_fake_{order_number}_{attempt}",
            status="requires_payment_method",
            amount=amount,
            currency=currency,
        )


def place_directly(session, variant_id: int, *, user_id, email, now: datetime) -> Order:
    """``checkout.service.place_order`` for a fresh cart of one piece, at ``now``."""
    cart_id, _token = cart_service.create_cart(session, user_id=None)
    cart_service.add_to_cart(session, cart_id, {variant_id: 1})
    cart = session.get(Cart, cart_id)
    details = checkout_service.CheckoutDetails(**{**PICKUP, "email": email})
    order = checkout_service.place_order(
        session,
        cart,
        details,
        currency="CNY",
        locale="en",
        user_id=user_id,
        expected_total=None,
        gateway=FakeGateway(),
        reservation_minutes=30,
        now=now,
    )
    session.delete(cart)
    session.commit()
    return order
