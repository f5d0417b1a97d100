"""A slow Stripe: the shop gives up after ``STRIPE_TIMEOUT_SECONDS`` and says so.

The stand-in Stripe (tests.held_stripe) holds every request until the test releases it
and then answers with a PaymentIntent, so a shop that waited for it would place the order
or take the card: here it must have given up first, with nothing changed.
"""

import pytest
import sqlalchemy as sa
import stripe

from shop.cart.models import CartLine
from shop.catalog.models import Variant
from shop.config import ConfigError
from shop.orders.models import Order
from shop.payments.stripe_gateway import TimeBudgetClient, timeout_seconds
from shop.stock.models import StockMovement
from tests.checkout_helpers import PICKUP, add_to_cart, load_order, pay, place_order
from tests.factories import make_product
from tests.held_stripe import HeldStripe


@pytest.fixture
def held_stripe():
    with HeldStripe() as stand_in:
        yield stand_in


@pytest.fixture
def slow_app(make_app, stripe_settings, held_stripe):
    """The shop (same database as ``app``) pointed at the stand-in, giving up after 1 s."""
    return make_app(
        **{**stripe_settings, "STRIPE_API_BASE": held_stripe.base, "STRIPE_TIMEOUT_SECONDS": 1}
    )


@pytest.fixture
def polo(session):
    product = make_product(session, slug="polo", tiers=((1, 8900),), on_hand=10)
    session.commit()
    return product.variants[0]


def flashes(client) -> list[tuple[str, str]]:
    with client.session_transaction() as browser:
        return [tuple(flash) for flash in browser.get("_flashes", [])]


def test_placing_an_order_while_stripe_hangs_orders_nothing(slow_app, held_stripe, session, polo):
    client = slow_app.test_client()
    add_to_cart(client, polo.id, 2)
    assert client.post("/checkout", data=PICKUP).status_code == 303
    assert client.get("/checkout/review").status_code == 200

    response = client.post("/checkout/place")

    assert (held_stripe.seen, held_stripe.held) == (1, 1)  # the shop gave up; Stripe still holds
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/checkout/review")
    assert flashes(client) == [
        ("error", "The card payment service did not answer. Nothing was ordered; try again.")
    ]
    held_stripe.release()
    assert session.scalar(sa.select(sa.func.count(Order.id))) == 0
    session.expire_all()
    assert (session.get(Variant, polo.id).on_hand, session.get(Variant, polo.id).allocated) == (
        10,
        0,
    )
    assert session.scalar(sa.select(sa.func.count(StockMovement.id))) == 0
    assert session.scalar(sa.select(CartLine.quantity)) == 2


def test_paying_while_stripe_hangs_answers_503_and_changes_nothing(
    app, client, slow_app, held_stripe, session, polo
):
    add_to_cart(client, polo.id, 2)
    number = place_order(client)  # through localstripe: the order and its PaymentIntent
    before = load_order(app, number)
    slow_client = slow_app.test_client()
    slow_client.set_cookie("session", client.get_cookie("session").value, domain="localhost")

    response = pay(slow_client, number, "pm_1HeldCard")

    assert (held_stripe.seen, held_stripe.held) == (1, 1)
    assert response.status_code == 503
    assert response.get_json() == {
        "status": "declined",
        "message": "The card payment service did not answer. If your card was charged, this "
        "page shows it in a moment; otherwise try again.",
    }
    held_stripe.release()
    after = load_order(app, number)
    assert (after.state, after.payment_status) == (before.state, before.payment_status)
    assert [(p.attempt, p.intent_id, p.status) for p in after.payments] == [
        (1, before.payments[0].intent_id, "requires_payment_method")
    ]
    session.expire_all()
    assert session.get(Variant, polo.id).allocated == 2


def test_retries_share_the_call_s_time_instead_of_each_waiting_anew(held_stripe):
    """Real Stripe gets two retries; a timed-out attempt leaves no time for another."""
    client = stripe.StripeClient(
        "sk_test_held",
        base_addresses={"api": held_stripe.base},
        max_network_retries=2,
        http_client=TimeBudgetClient(1),
    )

    with pytest.raises(stripe.APIConnectionError):
        client.v1.payment_intents.create(params={"amount": 8900, "currency": "cny"})

    assert (held_stripe.seen, held_stripe.held) == (1, 1)


@pytest.mark.parametrize(
    ("value", "seconds"), [(None, 8.0), ("", 8.0), (8, 8.0), ("2.5", 2.5), ("1", 1.0)]
)
def test_the_timeout_setting_is_a_number_of_seconds(value, seconds):
    assert timeout_seconds(value) == seconds


@pytest.mark.parametrize("value", ["eight", "0", "-1", "nan", "inf", "600"])
def test_a_timeout_setting_that_is_not_a_sensible_number_is_refused(value):
    with pytest.raises(ConfigError, match="STRIPE_TIMEOUT_SECONDS"):
        timeout_seconds(value)
