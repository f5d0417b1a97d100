"""Money and cancellations crossing each other: a customer cancels while the card payment
is going through, money arrives for an order whose reservation ran out, a refusal
arrives after the success. The customer is never told nothing was charged when
something was, no charged order is left unpaid, and stock moves once."""

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from shop.catalog.models import Variant
from shop.payments import service
from shop.payments.stripe_gateway import Intent, StripeGateway, gateway
from tests.checkout_helpers import add_to_cart, card, load_order, place_order
from tests.factories import make_product
from tests.helpers.stripe_events import confirm_quietly, deliver, event_payload
from tests.localstripe_server import register_webhook


@pytest.fixture
def app(make_app, stripe_settings, serve, localstripe):
    app = make_app(**stripe_settings, RESERVATION_MINUTES=0)
    register_webhook(localstripe, serve(app) + "/stripe/webhook")
    return app


@pytest.fixture
def variant(session):
    product = make_product(session, slug="polo", tiers=((1, 8900),), on_hand=3)
    session.commit()
    return product.variants[0]


def stock(session) -> tuple[int, int]:
    session.expire_all()
    return tuple(session.execute(sa.select(Variant.on_hand, Variant.allocated)).one())


def flashes(client) -> list[str]:
    with client.session_transaction() as browser:
        return [message for _category, message in browser.pop("_flashes", [])]


def visible(order) -> list[str]:
    return [event.kind for event in order.events if event.visible_to_customer]


def refunds_at_stripe(app, intent_id: str) -> list[int]:
    with app.app_context():
        listed = gateway().client.v1.refunds.list(params={"payment_intent": intent_id})
    return [refund.amount for refund in listed.data]


def test_cancelling_after_the_card_went_through_refunds_instead_of_saying_nothing_was_charged(
    app, client, session, variant, outbox
):
    add_to_cart(client, variant.id, 2)
    number = place_order(client)
    intent_id = load_order(app, number).payments[0].intent_id
    confirm_quietly(app, intent_id)  # charged at Stripe; its webhook has not arrived yet
    flashes(client)

    response = client.post(f"/orders/{number}/cancel")

    assert response.status_code == 303
    assert flashes(client) == [
        f"Order {number} is cancelled. We refunded CN¥178.00 to your card; banks usually "
        "show it within 5–10 days."
    ]
    order = load_order(app, number)
    assert (order.state, order.payment_status, order.refunded_amount) == (
        "cancelled",
        "refunded",
        17800,
    )
    assert refunds_at_stripe(app, intent_id) == [17800]
    assert stock(session) == (3, 0)  # sold, then the two pieces went back on the shelf
    # The webhook arrives late: it changes nothing.
    events = len(order.events)
    late = deliver(client, event_payload("evt_late_ok", "payment_intent.succeeded", intent_id))
    assert late.get_json()["outcome"] == "already paid"
    assert len(load_order(app, number).events) == events
    assert refunds_at_stripe(app, intent_id) == [17800]


def test_cancelling_while_the_payment_is_still_processing_waits_and_changes_nothing(
    app, client, session, variant, outbox, monkeypatch
):
    add_to_cart(client, variant.id, 1)
    number = place_order(client)
    before = load_order(app, number)
    monkeypatch.setattr(StripeGateway, "cancel", lambda self, intent_id: False)
    monkeypatch.setattr(
        StripeGateway,
        "retrieve",
        lambda self, intent_id: Intent(
            id=intent_id, status="processing", amount=8900, currency="CNY"
        ),
    )

    response = client.post(f"/orders/{number}/cancel")

    assert response.status_code == 409
    assert "Your card payment is still being processed" in response.text
    after = load_order(app, number)
    assert (after.state, after.payment_status) == ("open", "unpaid")
    assert len(after.events) == len(before.events)
    assert stock(session) == (3, 1)
    assert outbox() == []


def expire_pretending_stripe_cancelled(app, monkeypatch) -> None:
    """The reservation runs out while Stripe is about to take the money: the shop's
    cancel of the PaymentIntent 'works' but the payment goes through anyway."""
    with monkeypatch.context() as patched:
        patched.setattr(StripeGateway, "cancel", lambda self, intent_id: True)
        result = app.test_cli_runner().invoke(args=["expire-reservations"])
    assert result.exit_code == 0 and "Cancelled 1" in result.output, result.output


def test_money_for_an_expired_order_reinstates_it_when_its_stock_is_still_there(
    app, client, session, variant, outbox, monkeypatch
):
    add_to_cart(client, variant.id, 2)
    number = place_order(client)
    intent_id = load_order(app, number).payments[0].intent_id
    expire_pretending_stripe_cancelled(app, monkeypatch)
    assert (load_order(app, number).state, stock(session)) == ("cancelled", (3, 0))
    confirm_quietly(app, intent_id)

    answer = deliver(client, event_payload("evt_paid_late", "payment_intent.succeeded", intent_id))

    assert answer.get_json()["outcome"] == "reinstated"
    order = load_order(app, number)
    assert (order.state, order.payment_status, order.needs_attention) == ("open", "paid", True)
    assert stock(session) == (1, 0)  # held again, then sold: once
    assert [event.kind for event in order.events][-3:] == [
        "reinstated",
        "paid",
        "paid_after_expiry",
    ]
    assert [m["Subject"] for m in outbox()] == [f"Order {number} is paid"]
    assert refunds_at_stripe(app, intent_id) == []


def test_money_for_an_expired_order_whose_stock_is_gone_is_refunded_at_once(
    app, client, session, variant, outbox, monkeypatch
):
    add_to_cart(client, variant.id, 2)
    number = place_order(client)
    intent_id = load_order(app, number).payments[0].intent_id
    expire_pretending_stripe_cancelled(app, monkeypatch)
    someone_else = app.test_client()
    add_to_cart(someone_else, variant.id, 3)
    place_order(someone_else)  # holds all three pieces
    confirm_quietly(app, intent_id)

    answer = deliver(client, event_payload("evt_paid_late", "payment_intent.succeeded", intent_id))

    assert answer.get_json()["outcome"] == "refunded after cancel"
    order = load_order(app, number)
    assert (order.state, order.payment_status, order.refunded_amount) == (
        "cancelled",
        "refunded",
        17800,
    )
    assert order.needs_attention
    assert "paid_after_cancel" in [event.kind for event in order.events]
    assert refunds_at_stripe(app, intent_id) == [17800]
    assert stock(session) == (3, 3)  # the other customer's hold is untouched
    assert [m["Subject"] for m in outbox()] == [f"A refund for order {number}"]


def test_a_refusal_arriving_after_the_success_tells_the_customer_nothing(app, client, variant):
    add_to_cart(client, variant.id, 1)
    number = place_order(client)
    intent_id = load_order(app, number).payments[0].intent_id
    confirm_quietly(app, intent_id)
    deliver(client, event_payload("evt_ok", "payment_intent.succeeded", intent_id))
    late = event_payload(
        "evt_late_failure",
        "payment_intent.payment_failed",
        intent_id,
        last_payment_error={"message": "Your card was declined."},
    )

    assert deliver(client, late).get_json()["outcome"] == "ignored: paid"

    order = load_order(app, number)
    assert "payment_failed" not in visible(order)
    assert order.payments[0].last_error == ""


def test_a_second_card_attempt_racing_the_first_gets_json(app, client, variant, monkeypatch):
    add_to_cart(client, variant.id, 1)
    number = place_order(client)

    def collided(*args, **kwargs):
        raise IntegrityError("INSERT INTO payment", {}, Exception("unique"))

    monkeypatch.setattr(service, "pay_with_card", collided)
    response = client.post(f"/checkout/pay/{number}/card", json={"payment_method": card(app)})

    assert response.status_code == 409
    assert response.is_json
    assert response.get_json() == {"status": "in_progress", "next": f"/checkout/pay/{number}"}
