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
    [message] = outbox()
    assert message["To"] == "buyer@example.com" and number in message["Subject"]
    page = client.get(f"/checkout/pay/{number}").get_data(as_text=True)
    assert 'data-payment="paid"' in page
