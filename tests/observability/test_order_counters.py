"""The order counters through the shop's real flow (checkout, Stripe's signed webhook,
localstripe): placed once per order, paid once however often the news arrives."""

import threading

import pytest
from prometheus_client import REGISTRY

from tests.checkout_helpers import add_to_cart, load_order, place_order
from tests.factories import make_product
from tests.helpers.stripe_events import confirm_quietly, deliver, event_payload
from tests.localstripe_server import register_webhook

PLACED = "sourcefront_orders_placed_total"
PAID = "sourcefront_orders_paid_total"
FAILED = "sourcefront_payments_failed_total"


def value(sample: str) -> float:
    return REGISTRY.get_sample_value(sample) or 0.0


@pytest.fixture
def app(make_app, stripe_settings, localstripe):
    register_webhook(localstripe, "http://127.0.0.1:9/nowhere")  # only our own deliveries
    return make_app(**stripe_settings)


@pytest.fixture
def order_number(app, client, session):
    product = make_product(session, slug="polo", tiers=((1, 8900),), on_hand=10)
    session.commit()
    add_to_cart(client, product.variants[0].id, 2)
    before = value(PLACED)
    number = place_order(client)
    assert value(PLACED) == before + 1
    return number


def test_placing_the_same_review_twice_counts_one_order(app, client, session):
    product = make_product(session, slug="cap", tiers=((1, 4900),), on_hand=10)
    session.commit()
    add_to_cart(client, product.variants[0].id, 1)
    before = value(PLACED)
    first = place_order(client)
    again = client.post("/checkout/place")  # the cart is empty now: nothing more is placed
    assert again.status_code in (302, 303)
    assert value(PLACED) == before + 1
    assert load_order(app, first).payment_status == "unpaid"


def test_a_success_delivered_twice_at_once_counts_one_paid_order(app, order_number):
    intent_id = load_order(app, order_number).payments[0].intent_id
    confirm_quietly(app, intent_id)
    payload = event_payload("evt_metrics_race", "payment_intent.succeeded", intent_id)
    before = value(PAID)
    start = threading.Barrier(5)
    outcomes = []

    def deliver_at_once():
        start.wait()
        response = deliver(app.test_client(), payload)
        outcomes.append((response.status_code, (response.get_json() or {}).get("outcome")))

    threads = [threading.Thread(target=deliver_at_once) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes).count((200, "paid")) == 1
    assert value(PAID) == before + 1
    assert load_order(app, order_number).payment_status == "paid"
    deliver(app.test_client(), payload)  # and once more, later
    assert value(PAID) == before + 1


def test_a_failed_card_event_counts_one_failure(app, client, order_number):
    intent_id = load_order(app, order_number).payments[0].intent_id
    payload = event_payload(
        "evt_metrics_failed",
        "payment_intent.payment_failed",
        intent_id,
        last_payment_error={"message": "Your card was declined."},
    )
    before = value(FAILED)
    assert deliver(client, payload).get_json()["outcome"] == "failed"
    assert deliver(client, payload).get_json()["outcome"] == "duplicate"
    assert value(FAILED) == before + 1
