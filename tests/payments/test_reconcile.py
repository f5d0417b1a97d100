"""``flask --app wsgi reconcile-payments``: money whose webhook was lost for good is
applied as the webhook would have, once; PaymentIntents whose order was never written
are cancelled; orders still in the buyer's hands are left alone."""

import pytest
import sqlalchemy as sa

from shop.catalog.models import Variant
from shop.payments.stripe_gateway import gateway
from tests.checkout_helpers import add_to_cart, load_order, place_order
from tests.factories import make_product
from tests.helpers.stripe_events import confirm_quietly
from tests.localstripe_server import register_webhook


@pytest.fixture
def app(make_app, stripe_settings, serve, localstripe):
    app = make_app(**stripe_settings)
    register_webhook(localstripe, serve(app) + "/stripe/webhook")
    return app


@pytest.fixture
def variant(session):
    product = make_product(session, slug="polo", tiers=((1, 8900),), on_hand=5)
    session.commit()
    return product.variants[0]


def reconcile(app, minutes: int = 0) -> str:
    result = app.test_cli_runner().invoke(args=["reconcile-payments", "--minutes", str(minutes)])
    assert result.exit_code == 0, result.output
    return result.output


def test_a_payment_whose_webhook_was_lost_is_applied_once(app, client, session, variant, outbox):
    add_to_cart(client, variant.id, 2)
    number = place_order(client)
    intent_id = load_order(app, number).payments[0].intent_id
    confirm_quietly(app, intent_id)  # charged; the webhook goes nowhere
    assert load_order(app, number).payment_status == "unpaid"

    output = reconcile(app)

    assert f"{number}: paid" in output
    order = load_order(app, number)
    assert (order.payment_status, order.state) == ("paid", "open")
    session.expire_all()
    assert tuple(session.execute(sa.select(Variant.on_hand, Variant.allocated)).one()) == (3, 0)
    assert [m["Subject"] for m in outbox()] == [f"Order {number} is paid"]
    # Again: nothing left to do, nothing done twice.
    assert number not in reconcile(app)
    assert [event.kind for event in load_order(app, number).events].count("paid") == 1
    assert [m["Subject"] for m in outbox()] == [f"Order {number} is paid"]


def test_recent_payments_are_left_to_the_buyer_and_the_webhook(app, client, variant):
    add_to_cart(client, variant.id, 1)
    number = place_order(client)
    confirm_quietly(app, load_order(app, number).payments[0].intent_id)

    assert number not in reconcile(app, minutes=5)
    assert load_order(app, number).payment_status == "unpaid"


def test_a_payment_intent_whose_order_was_never_written_is_cancelled(app, client, variant):
    with app.app_context():
        orphan = gateway().create_intent(
            order_number="SF-NEVER-WRITN", attempt=1, amount=8900, currency="CNY"
        )
    add_to_cart(client, variant.id, 1)
    number = place_order(client)
    kept = load_order(app, number).payments[0].intent_id

    output = reconcile(app)

    assert orphan.id in output and kept not in output
    with app.app_context():
        assert gateway().retrieve(orphan.id).status == "canceled"
        assert gateway().retrieve(kept).status == "requires_payment_method"


def test_a_second_charge_nobody_recorded_is_refunded_and_the_desk_told(
    app, client, session, variant
):
    """A retried card attempt whose first try was charged but never recorded (its request
    died while Stripe charged the card, and the webhook was lost): the order is paid
    once, and the other charge goes back to the card."""
    add_to_cart(client, variant.id, 1)
    number = place_order(client)
    paying = load_order(app, number).payments[0].intent_id
    confirm_quietly(app, paying)
    with app.app_context():
        lost = gateway().create_intent(order_number=number, attempt=2, amount=8900, currency="CNY")
    confirm_quietly(app, lost.id)

    output = reconcile(app)

    assert f"{number}: paid" in output and f"{lost.id} ({number}): duplicate refunded" in output
    order = load_order(app, number)
    assert (order.payment_status, order.refunded_amount, order.needs_attention) == (
        "paid",
        0,
        True,
    )
    assert order.paid_intent_id == paying
    assert [(p.intent_id, p.status) for p in order.payments] == [
        (paying, "succeeded"),
        (lost.id, "refunded"),
    ]
    assert "duplicate_payment" in [event.kind for event in order.events]
    with app.app_context():
        refunds = gateway().client.v1.refunds.list(params={"payment_intent": lost.id}).data
    assert [refund.amount for refund in refunds] == [8900]
    assert lost.id not in reconcile(app)  # once
