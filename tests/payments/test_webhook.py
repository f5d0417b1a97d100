"""The webhook: signatures, duplicates, order of arrival and amounts that do not match.

localstripe sends ``payment_intent.*`` events itself; the ones it never sends (a repeat,
a late failure, a forgery) are built here and signed with the stripe library's helper.
"""

import threading
import time

import pytest
import sqlalchemy as sa
import stripe

from shop.catalog.models import Variant
from shop.payments.models import ProcessedStripeEvent
from shop.payments.stripe_gateway import gateway
from tests.checkout_helpers import add_to_cart, card, load_order, place_order, wait_for
from tests.factories import make_product
from tests.helpers.stripe_events import confirm_quietly, deliver, event_payload
from tests.localstripe_server import WEBHOOK_SECRET


@pytest.fixture
def order_number(app, client, session):
    product = make_product(session, slug="polo", tiers=((1, 8900),), on_hand=10)
    session.commit()
    add_to_cart(client, product.variants[0].id, 2)
    return place_order(client)


def stock(session, number):
    session.expire_all()
    return session.execute(sa.select(Variant.on_hand, Variant.allocated)).one()


@pytest.mark.parametrize(
    "case",
    ["wrong secret", "body changed", "no header", "garbage header", "too old"],
)
def test_a_bad_signature_is_refused_and_changes_nothing(app, client, session, order_number, case):
    intent_id = load_order(app, order_number).payments[0].intent_id
    confirm_quietly(app, intent_id)
    payload = event_payload("evt_forged_1", "payment_intent.succeeded", intent_id)
    if case == "wrong secret":
        response = deliver(client, payload, secret="whsec_someone_else")
    elif case == "body changed":
        good = stripe.WebhookSignature.generate_signature_header(
            payload, WEBHOOK_SECRET, timestamp=int(time.time())
        )
        response = deliver(client, payload.replace("evt_forged_1", "evt_forged_2"), header=good)
    elif case == "no header":
        response = deliver(client, payload, header="none")
    elif case == "garbage header":
        response = deliver(client, payload, header="t=1,v1=deadbeef")
    else:
        response = deliver(client, payload, timestamp=int(time.time()) - 600)
    assert response.status_code == 400
    order = load_order(app, order_number)
    assert order.payment_status == "unpaid"
    assert session.get(ProcessedStripeEvent, "evt_forged_1") is None
    assert session.get(ProcessedStripeEvent, "evt_forged_2") is None


def test_a_signature_within_the_tolerance_is_accepted(app, client, order_number):
    intent_id = load_order(app, order_number).payments[0].intent_id
    confirm_quietly(app, intent_id)
    payload = event_payload("evt_recent", "payment_intent.succeeded", intent_id)
    assert deliver(client, payload, timestamp=int(time.time()) - 60).status_code == 200
    assert load_order(app, order_number).payment_status == "paid"


def test_the_webhook_needs_no_csrf_token_but_other_posts_do(make_app, stripe_settings, session):
    app = make_app(**stripe_settings, WTF_CSRF_ENABLED=True)
    client = app.test_client()
    payload = event_payload("evt_unknown_type", "customer.created", "cus_1")
    assert deliver(client, payload).status_code == 200
    assert client.post("/cart/add", data={"variant_id": 1, "quantity": 1}).status_code == 400


def test_a_repeated_event_is_acknowledged_and_changes_nothing(
    app, client, session, order_number, outbox
):
    intent_id = load_order(app, order_number).payments[0].intent_id
    confirm_quietly(app, intent_id)
    payload = event_payload("evt_twice", "payment_intent.succeeded", intent_id)
    first = deliver(client, payload)
    second = deliver(client, payload)
    assert (first.status_code, second.status_code) == (200, 200)
    assert (first.get_json()["outcome"], second.get_json()["outcome"]) == ("paid", "duplicate")
    assert tuple(stock(session, order_number)) == (8, 0)
    assert len(outbox()) == 1
    order = load_order(app, order_number)
    assert [event.kind for event in order.events].count("paid") == 1


def test_the_same_event_delivered_twice_at_once_is_applied_once(
    app, client, session, order_number, outbox
):
    intent_id = load_order(app, order_number).payments[0].intent_id
    confirm_quietly(app, intent_id)
    payload = event_payload("evt_race", "payment_intent.succeeded", intent_id)
    start = threading.Barrier(2)
    codes = []

    def deliver_at_once():
        start.wait()
        codes.append(deliver(app.test_client(), payload).status_code)

    threads = [threading.Thread(target=deliver_at_once) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(codes) == [200, 200]
    assert tuple(stock(session, order_number)) == (8, 0)
    assert len(outbox()) == 1
    assert session.get(ProcessedStripeEvent, "evt_race") is not None


def test_a_late_failure_does_not_move_a_paid_order_backwards(app, client, order_number):
    intent_id = load_order(app, order_number).payments[0].intent_id
    confirm_quietly(app, intent_id)
    deliver(client, event_payload("evt_ok", "payment_intent.succeeded", intent_id))
    late = event_payload(
        "evt_old_failure",
        "payment_intent.payment_failed",
        intent_id,
        last_payment_error={"message": "Your card was declined."},
    )
    assert deliver(client, late).status_code == 200
    order = load_order(app, order_number)
    assert order.payment_status == "paid" and order.state == "open"
    assert order.payments[0].status == "succeeded"


def test_a_success_event_for_an_intent_that_did_not_succeed_changes_nothing(
    app, client, order_number
):
    """The event says succeeded; Stripe, asked again, says otherwise: Stripe wins."""
    intent_id = load_order(app, order_number).payments[0].intent_id
    payload = event_payload("evt_liar", "payment_intent.succeeded", intent_id, amount=17800)
    assert deliver(client, payload).get_json()["outcome"] == "not succeeded"
    assert load_order(app, order_number).payment_status == "unpaid"


def test_an_amount_mismatch_flags_the_order_and_does_not_mark_it_paid(
    app, client, session, order_number, outbox
):
    """A PaymentIntent for this order but the wrong amount (made outside the shop), paid
    for real at localstripe, whose real signed webhook reaches the shop."""
    with app.app_context():
        stripe_client = gateway().client
        intent = stripe_client.v1.payment_intents.create(
            params={
                "amount": 100,
                "currency": "cny",
                "payment_method_types": ["card"],
                "metadata": {"order_number": order_number},
            }
        )
        stripe_client.v1.payment_intents.update(intent.id, params={"payment_method": card(app)})
        stripe_client.v1.payment_intents.confirm(intent.id)
    order = wait_for(app, order_number, lambda o: o.needs_attention)
    assert order.needs_attention and order.payment_status == "unpaid"
    [flag] = [event for event in order.events if event.kind == "payment_mismatch"]
    assert not flag.visible_to_customer and "100 CNY" in flag.note
    assert tuple(stock(session, order_number)) == (10, 2)  # still only held, not sold
    assert outbox() == []


def test_a_currency_mismatch_is_a_mismatch_too(app, client, order_number):
    with app.app_context():
        stripe_client = gateway().client
        intent = stripe_client.v1.payment_intents.create(
            params={
                "amount": load_order(app, order_number).total_amount,
                "currency": "usd",
                "payment_method_types": ["card"],
                "metadata": {"order_number": order_number},
            }
        )
    confirm_quietly(app, intent.id)
    payload = event_payload("evt_usd", "payment_intent.succeeded", intent.id)
    assert deliver(client, payload).get_json()["outcome"] == "mismatch"
    assert load_order(app, order_number).payment_status == "unpaid"


def test_unknown_event_types_are_acknowledged(app, client):
    payload = event_payload("evt_other", "charge.dispute.created", "dp_1")
    response = deliver(client, payload)
    assert response.status_code == 200 and response.get_json()["outcome"] == "ignored"


def test_an_event_for_a_payment_intent_stripe_does_not_know_is_acknowledged(app, client):
    payload = event_payload("evt_ghost", "payment_intent.succeeded", "pi_does_not_exist")
    response = deliver(client, payload)
    assert response.status_code == 200 and response.get_json()["outcome"] == "unknown payment"
