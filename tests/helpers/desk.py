"""The order desk's helpers: orders read back fresh from the database, what a refused
action must leave unchanged, the page's flashes, and an order paid by card at localstripe."""

import html
import re

from sqlalchemy.orm import Session

from shop.admin.orders import get_order
from shop.orders.models import Order
from tests.checkout_helpers import (
    COURIER_CN,
    add_to_cart,
    card,
    pay,
    place_order,
    wait_for,
    wait_for_email,
)


def reload(app, number: str) -> Order:
    """The order as the database has it now, with everything the desk shows."""
    with Session(app.extensions["sa_engine"], expire_on_commit=False) as session:
        order = get_order(session, number)
        assert order is not None, number
        return order


def snapshot(app, number: str) -> tuple:
    """Everything an action could change, to show that a refused one changed nothing."""
    order = reload(app, number)
    return (
        order.state,
        order.payment_status,
        order.fulfilment_status,
        order.refunded_amount,
        [(event.kind, event.note, event.visible_to_customer) for event in order.events],
        [
            (s.carrier, s.tracking_number, [(i.order_line_id, i.quantity) for i in s.lines])
            for s in order.shipments
        ],
        [(refund.amount, refund.stripe_refund_id) for refund in order.refunds],
        [(message.body, message.read_at) for message in order.messages],
        [line.returned_quantity for line in order.lines],
    )


def flashes(page: str) -> list[str]:
    return [
        re.sub(r"\s+", " ", html.unescape(text)).strip()
        for text in re.findall(r'data-testid="flash">(.*?)</p>', page, re.S)
    ]


def request_key_on(html: str) -> str:
    field = r'id="refund-request-key" name="request_key" type="hidden" value="([^"]+)"'
    found = re.search(field, html)
    assert found, "no refund request key on the page"
    return found.group(1)


def card_paid_order(app, product, quantity: int = 2, details=COURIER_CN) -> str:
    """An order placed and paid by card as a buyer would (its own browser), confirmed by
    localstripe's signed webhook. Returns the order number."""
    buyer = app.test_client()
    add_to_cart(buyer, product.variants[0].id, quantity)
    number = place_order(buyer, details)
    assert pay(buyer, number, card(app)).get_json()["status"] == "processing"
    order = wait_for(app, number, lambda o: o.payment_status == "paid")
    assert order.payment_status == "paid"
    wait_for_email(app, f"Order {number} is paid")
    return number
