"""Unpaid orders give their stock back: ``flask --app wsgi expire-reservations``."""

import pytest
import sqlalchemy as sa

from shop.catalog.models import Variant
from shop.payments.stripe_gateway import gateway
from shop.stock.models import StockMovement
from tests.checkout_helpers import add_to_cart, card, load_order, pay, place_order, wait_for
from tests.factories import make_product
from tests.localstripe_server import register_webhook


@pytest.fixture
def app(make_app, stripe_settings, serve, localstripe):
    """Reservations that run out at once, so the command has something to expire."""
    app = make_app(**stripe_settings, RESERVATION_MINUTES=0)
    register_webhook(localstripe, serve(app) + "/stripe/webhook")
    return app


@pytest.fixture
def variant(session):
    product = make_product(session, slug="polo", on_hand=6)
    session.commit()
    return product.variants[0]


def expire(app) -> str:
    result = app.test_cli_runner().invoke(args=["expire-reservations"])
    assert result.exit_code == 0, result.output
    return result.output


def test_an_expired_order_is_cancelled_its_stock_released_and_its_intent_cancelled(
    app, client, session, variant
):
    add_to_cart(client, variant.id, 4)
    number = place_order(client)
    assert session.execute(sa.select(Variant.allocated)).scalar() == 4

    output = expire(app)
    assert "Cancelled 1 unpaid order" in output and number in output
    order = load_order(app, number)
    assert order.state == "cancelled" and order.payment_status == "unpaid"
    assert "cancelled" in [event.kind for event in order.events]
    session.expire_all()
    assert tuple(session.execute(sa.select(Variant.on_hand, Variant.allocated)).one()) == (6, 0)
    reasons = session.scalars(
        sa.select(StockMovement.reason).where(StockMovement.reference == number)
    ).all()
    assert sorted(reasons) == ["allocated", "released"]
    with app.app_context():
        assert gateway().retrieve(order.payments[0].intent_id).status == "canceled"
    page = client.get(f"/checkout/pay/{number}").get_data(as_text=True)
    assert 'data-testid="payment-cancelled"' in page
    assert pay(client, number, card(app)).status_code == 409
    assert "Cancelled 0" in expire(app)  # nothing left to do; nothing released twice


def test_an_order_whose_payment_went_through_is_left_for_the_webhook(app, client, variant):
    add_to_cart(client, variant.id, 1)
    number = place_order(client)
    assert pay(client, number, card(app)).get_json()["status"] == "processing"
    expire(app)
    order = wait_for(app, number, lambda o: o.payment_status == "paid")
    assert order.state == "open" and order.payment_status == "paid"


def test_orders_still_within_their_reservation_are_kept(make_app, stripe_settings, session):
    app = make_app(**stripe_settings)  # 30 minutes
    client = app.test_client()
    product = make_product(session, slug="kept", on_hand=3)
    session.commit()
    add_to_cart(client, product.variants[0].id, 1)
    number = place_order(client)
    assert "Cancelled 0" in expire(app)
    assert load_order(app, number).state == "open"
