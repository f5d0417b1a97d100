"""Buying through the shop's own forms, as a buyer's browser would."""

import json
import time

import sqlalchemy as sa
from sqlalchemy.orm import Session

from shop.orders.models import Order
from shop.payments.stripe_gateway import gateway

COURIER_CN = {
    "email": "buyer@example.com",
    "delivery_method": "courier",
    "recipient": "Li Wei",
    "phone": "+86 139 0000 0000",
    "country": "CN",
    "region": "Guangdong",
    "city": "Foshan",
    "line1": "18 Jihua Road",
    "line2": "",
    "postcode": "528000",
    "notes": "",
}
PICKUP = {**COURIER_CN, "delivery_method": "pickup", "country": "", "postcode": ""}


def add_to_cart(client, variant_id: int, quantity: int):
    return client.post("/cart/add", data={"variant_id": variant_id, "quantity": quantity})


def place_order(client, details=None, **extra_fields) -> str:
    """Details → review → place. Returns the order number (fails the test otherwise)."""
    response = client.post("/checkout", data={**(details or PICKUP)})
    assert response.status_code == 303, response.get_data(as_text=True)
    assert client.get("/checkout/review").status_code == 200
    response = client.post("/checkout/place", data=extra_fields)
    assert response.status_code == 303
    location = response.headers["Location"]
    assert "/checkout/pay/" in location, location
    return location.rsplit("/", 1)[-1]


def card(app, number: str = "4242424242424242") -> str:
    """A PaymentMethod id for a test card: what Stripe.js makes in the browser."""
    with app.app_context():
        method = gateway().client.v1.payment_methods.create(
            params={
                "type": "card",
                "card": {"number": number, "exp_month": 12, "exp_year": 2030, "cvc": "123"},
            }
        )
    return method.id


def pay(client, number: str, payment_method: str):
    return client.post(
        f"/checkout/pay/{number}/card",
        data=json.dumps({"payment_method": payment_method}),
        content_type="application/json",
    )


def load_order(app, number: str) -> Order:
    with Session(app.extensions["sa_engine"], expire_on_commit=False) as session:
        order = session.scalars(sa.select(Order).where(Order.number == number)).one()
        _ = order.lines, order.events, order.payments
        return order


def wait_for(app, number: str, predicate, timeout: float = 10.0) -> Order:
    """Poll until the order satisfies ``predicate`` (webhooks arrive ~1 s after the event)."""
    deadline = time.monotonic() + timeout
    while True:
        order = load_order(app, number)
        if predicate(order) or time.monotonic() > deadline:
            return order
        time.sleep(0.1)


def wait_for_email(app, subject: str, timeout: float = 5.0) -> None:
    """Emails go out just after the commit that caused them (the webhook's, on another
    thread): a test that saw the order change waits for its email too."""
    from shop.mail import read_outbox

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(m["Subject"] == subject for m in read_outbox(app.config["MAIL_OUTBOX"])):
            return
        time.sleep(0.05)
