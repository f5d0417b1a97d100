"""``charge.refunded``: a refund made anywhere (the order desk, Stripe's own dashboard)
reconciles the order from Stripe's running total. localstripe refunds but never sends
the event, so the tests sign it themselves."""

import pytest

from shop.payments.stripe_gateway import gateway
from tests.checkout_helpers import add_to_cart, card, load_order, pay, place_order, wait_for
from tests.factories import make_product
from tests.helpers.stripe_events import charge_refunded, deliver, event_payload


@pytest.fixture
def paid_order(app, client, session):
    product = make_product(session, slug="polo", tiers=((1, 8900),), on_hand=10)
    session.commit()
    add_to_cart(client, product.variants[0].id, 2)
    number = place_order(client)  # pick-up: 17800
    pay(client, number, card(app))
    return wait_for(app, number, lambda o: o.payment_status == "paid")


def refund_in_dashboard(app, order, amount) -> str:
    """What a refund in Stripe's dashboard does; returns the charge id."""
    with app.app_context():
        stripe_client = gateway().client
        intent = stripe_client.v1.payment_intents.retrieve(order.payments[0].intent_id)
        stripe_client.v1.refunds.create(params={"payment_intent": intent.id, "amount": amount})
        charge = intent.latest_charge
    return charge if isinstance(charge, str) else charge.id


def refund_emails(outbox):
    return [m for m in outbox() if "refund" in m["Subject"].lower()]


def test_a_dashboard_refund_shows_up_on_the_order_once(app, client, paid_order, outbox):
    charge_id = refund_in_dashboard(app, paid_order, 5000)
    response = deliver(client, charge_refunded("evt_refund_1", charge_id))
    assert response.get_json()["outcome"] == "refunded"
    order = load_order(app, paid_order.number)
    assert (order.payment_status, order.refunded_amount) == ("partially_refunded", 5000)
    assert "partially_refunded" in [event.kind for event in order.events]
    # The same news again, under another event id: nothing changes, no second email.
    assert deliver(client, charge_refunded("evt_refund_2", charge_id)).get_json()["outcome"] == (
        "no change"
    )
    assert len(refund_emails(outbox)) == 1

    refund_in_dashboard(app, order, 12800)
    deliver(client, charge_refunded("evt_refund_3", charge_id))
    order = load_order(app, paid_order.number)
    assert (order.payment_status, order.refunded_amount) == ("refunded", 17800)
    assert len(refund_emails(outbox)) == 2


def test_the_event_body_is_not_trusted_stripe_is_asked(app, client, paid_order):
    """A signed event whose snapshot claims a refund Stripe never made changes nothing."""
    with app.app_context():
        intent = gateway().client.v1.payment_intents.retrieve(paid_order.payments[0].intent_id)
    charge = intent.latest_charge
    charge_id = charge if isinstance(charge, str) else charge.id
    payload = charge_refunded("evt_fake_refund", charge_id).replace(
        '"object": "charge"', '"object": "charge", "amount_refunded": 17800, "refunded": true'
    )
    assert deliver(client, payload).get_json()["outcome"] == "no change"
    order = load_order(app, paid_order.number)
    assert (order.payment_status, order.refunded_amount) == ("paid", 0)


def test_a_refund_event_before_the_payment_event_does_not_lose_the_refund(app, client, session):
    """Events arrive in any order: refunded first, then succeeded, ends partially refunded,
    not plain paid."""
    from tests.helpers.stripe_events import confirm_quietly

    product = make_product(session, slug="tee", tiers=((1, 8900),), on_hand=10)
    session.commit()
    add_to_cart(client, product.variants[0].id, 2)
    number = place_order(client)
    order = load_order(app, number)
    intent_id = order.payments[0].intent_id
    confirm_quietly(app, intent_id)  # paid at Stripe; its own webhook goes nowhere
    charge_id = refund_in_dashboard(app, order, 1000)
    assert deliver(client, charge_refunded("evt_early_refund", charge_id)).status_code == 200
    assert load_order(app, number).payment_status == "unpaid"
    deliver(client, event_payload("evt_late_success", "payment_intent.succeeded", intent_id))
    order = load_order(app, number)
    assert (order.payment_status, order.refunded_amount) == ("partially_refunded", 1000)
