"""Paying by card against localstripe, with its real signed webhooks."""

import pytest
import sqlalchemy as sa

from shop.catalog.models import Variant
from shop.stock.models import StockMovement
from tests.checkout_helpers import (
    COURIER_CN,
    add_to_cart,
    card,
    load_order,
    pay,
    place_order,
    wait_for,
    wait_for_email,
)
from tests.factories import make_product


@pytest.fixture
def polo(session):
    product = make_product(
        session, slug="polo", name="Summer polo", tiers=((1, 8900), (10, 7900)), on_hand=20
    )
    session.commit()
    return product


def paid(order):
    return order.payment_status == "paid"


def test_a_cny_order_is_paid_end_to_end_with_exact_amounts(app, client, session, polo, outbox):
    variant = polo.variants[0]
    add_to_cart(client, variant.id, 2)
    number = place_order(client, COURIER_CN)
    order = load_order(app, number)
    assert (order.subtotal_amount, order.shipping_amount, order.total_amount) == (
        17800,
        1500,
        19300,
    )
    assert order.payment_status == "unpaid" and order.state == "open"
    with app.app_context():
        from shop.payments.stripe_gateway import gateway

        intent = gateway().retrieve(order.payments[0].intent_id)
    assert (intent.amount, intent.currency, intent.order_number) == (19300, "CNY", number)

    result = pay(client, number, card(app)).get_json()
    assert result["status"] == "processing"
    order = wait_for(app, number, paid)
    assert order.payment_status == "paid" and order.paid_at is not None
    stock = session.execute(
        sa.select(Variant.on_hand, Variant.allocated).where(Variant.id == variant.id)
    ).one()
    assert tuple(stock) == (18, 0)
    reasons = session.scalars(
        sa.select(StockMovement.reason).where(StockMovement.reference == number)
    ).all()
    assert sorted(reasons) == ["allocated", "sold"]
    assert [event.kind for event in order.events] == ["placed", "paid"]
    # The email goes out just after the webhook's commit, on the server's thread.
    wait_for_email(app, f"Order {number} is paid")
    [message] = outbox()
    assert message["To"] == "buyer@example.com" and number in message["Subject"]
    page = client.get(f"/checkout/pay/{number}").get_data(as_text=True)
    assert 'data-payment="paid"' in page


def test_a_jpy_order_is_a_zero_decimal_payment_intent(app, client, session):
    product = make_product(session, slug="blazer", tiers=(), on_hand=5)
    from shop.catalog.models import PriceTier

    session.add(PriceTier(product_id=product.id, currency="JPY", min_quantity=1, unit_amount=5000))
    session.commit()
    client.post("/preferences", data={"locale": "ja", "currency": "JPY", "next": "/"})
    add_to_cart(client, product.variants[0].id, 1)
    number = place_order(client)  # pick-up: no delivery charge
    order = load_order(app, number)
    assert (order.currency, order.total_amount) == ("JPY", 5000)
    with app.app_context():
        from shop.payments.stripe_gateway import gateway

        intent = gateway().client.v1.payment_intents.retrieve(order.payments[0].intent_id)
    assert (intent.amount, intent.currency) == (5000, "jpy")
    assert pay(client, number, card(app)).get_json()["status"] == "processing"
    order = wait_for(app, number, paid)
    assert order.payment_status == "paid" and order.locale == "ja"


def test_a_declined_card_shows_stripes_message_then_another_card_pays(app, client, polo):
    add_to_cart(client, polo.variants[0].id, 1)
    number = place_order(client)
    declined = pay(client, number, card(app, "4000000000000341")).get_json()
    assert declined["status"] == "declined"
    assert "declined" in declined["message"].lower()
    order = wait_for(app, number, lambda o: any(e.kind == "payment_failed" for e in o.events))
    assert order.payment_status == "unpaid" and order.state == "open"
    assert "payment_failed" in [event.kind for event in order.events]
    page = client.get(f"/checkout/pay/{number}").get_data(as_text=True)
    assert declined["message"] in page and 'data-testid="payment-form"' in page

    assert pay(client, number, card(app)).get_json()["status"] == "processing"
    order = wait_for(app, number, paid)
    assert order.payment_status == "paid"
    assert [p.attempt for p in order.payments] == [1, 2]
    assert [p.status for p in order.payments] == ["declined", "succeeded"]


def test_a_3d_secure_card_asks_the_browser_to_authenticate(app, client, polo, localstripe):
    import requests

    add_to_cart(client, polo.variants[0].id, 1)
    number = place_order(client)
    result = pay(client, number, card(app, "4000002500003155")).get_json()
    assert result["status"] == "requires_action" and result["client_secret"]
    intent_id = result["client_secret"].split("_secret_")[0]
    # What Stripe.js's confirmCardPayment does when the buyer fails the challenge...
    failed = requests.post(
        f"{localstripe}/v1/payment_intents/{intent_id}/_authenticate?success=false",
        json={"key": "pk_test_sourcefront", "client_secret": result["client_secret"]},
        timeout=5,
    )
    assert failed.json()["status"] == "requires_payment_method"
    assert load_order(app, number).payment_status == "unpaid"
    # ...and then passes it on a second try with the same order.
    again = pay(client, number, card(app, "4000002500003155")).get_json()
    assert again["status"] == "requires_action"
    requests.post(
        f"{localstripe}/v1/payment_intents/{intent_id}/_authenticate?success=true",
        json={"key": "pk_test_sourcefront", "client_secret": again["client_secret"]},
        timeout=5,
    ).raise_for_status()
    assert wait_for(app, number, paid).payment_status == "paid"


def test_the_confirmation_endpoint_refuses_what_is_not_a_card_id(app, client, polo):
    add_to_cart(client, polo.variants[0].id, 1)
    number = place_order(client)
    for bad in ("", "4242424242424242", "pm_<script>", None):
        response = pay(client, number, bad)
        assert response.status_code == 400
    assert load_order(app, number).payments[0].status == "requires_payment_method"


def test_a_paid_order_cannot_be_paid_again(app, client, polo):
    add_to_cart(client, polo.variants[0].id, 1)
    number = place_order(client)
    pay(client, number, card(app))
    wait_for(app, number, paid)
    response = pay(client, number, card(app))
    assert response.status_code == 409
    assert len(load_order(app, number).payments) == 1


def test_someone_elses_order_is_not_found(app, client, polo):
    add_to_cart(client, polo.variants[0].id, 1)
    number = place_order(client)
    stranger = app.test_client()
    assert stranger.get(f"/checkout/pay/{number}").status_code == 404
    assert pay(stranger, number, card(app)).status_code == 404
    assert stranger.get(f"/checkout/pay/{number}/status").status_code == 404
    assert stranger.get("/checkout/pay/SF-00000-00000").status_code == 404


def test_paying_again_after_a_passed_challenge_never_charges_twice(app, client, polo, localstripe):
    import requests

    add_to_cart(client, polo.variants[0].id, 1)
    number = place_order(client)
    result = pay(client, number, card(app, "4000002500003155")).get_json()
    intent_id = result["client_secret"].split("_secret_")[0]
    requests.post(
        f"{localstripe}/v1/payment_intents/{intent_id}/_authenticate?success=true",
        json={"key": "pk_test_sourcefront", "client_secret": result["client_secret"]},
        timeout=5,
    ).raise_for_status()
    # A second click before the webhook arrives: the shop asks Stripe and does not charge.
    again = pay(client, number, card(app))
    assert again.status_code == 409 or again.get_json()["status"] == "processing"
    order = wait_for(app, number, paid)
    assert order.payment_status == "paid"
    assert [p.status for p in order.payments] == ["succeeded"]


def test_a_signed_link_opens_the_payment_page_in_another_browser(app, client, polo):
    from shop.orders.access import link_token

    add_to_cart(client, polo.variants[0].id, 1)
    number = place_order(client)
    order = load_order(app, number)
    other_browser = app.test_client()
    assert other_browser.get(f"/checkout/pay/{number}?t=forged").status_code == 404
    token = link_token(app.config["SECRET_KEY"], order)
    assert other_browser.get(f"/checkout/pay/{number}?t={token}").status_code == 200
    # The page's own requests carry no token: the link's grant is remembered.
    assert other_browser.get(f"/checkout/pay/{number}/status").status_code == 200
