"""Stripe says "too many requests" (HTTP 429): the buyer is told the card service did not
answer and nothing is ordered, as when Stripe is down — never a 500.

stripe-python retries a 429 itself; when its retries are used up it raises
``RateLimitError``, which is not one of its ``APIError``s, so the gateway names it."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import sqlalchemy as sa

from shop.catalog.models import Variant
from shop.orders.models import Order
from tests.checkout_helpers import PICKUP, add_to_cart
from tests.factories import make_product

RATE_LIMITED = {"error": {"type": "rate_limit_error", "message": "Too many requests."}}


class _TooManyRequests(BaseHTTPRequestHandler):
    seen = 0

    def _answer(self):
        type(self).seen += 1
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = json.dumps(RATE_LIMITED).encode()
        self.send_response(429)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_DELETE = _answer

    def log_message(self, *args):
        pass


@pytest.fixture
def rate_limited_stripe():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _TooManyRequests)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def test_placing_an_order_while_stripe_refuses_with_429_orders_nothing(
    make_app, stripe_settings, rate_limited_stripe, session
):
    product = make_product(session, slug="polo", tiers=((1, 8900),), on_hand=10)
    session.commit()
    app = make_app(**{**stripe_settings, "STRIPE_API_BASE": rate_limited_stripe})
    client = app.test_client()
    add_to_cart(client, product.variants[0].id, 2)
    assert client.post("/checkout", data=PICKUP).status_code == 303
    assert client.get("/checkout/review").status_code == 200

    response = client.post("/checkout/place")

    assert _TooManyRequests.seen >= 1
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/checkout/review")
    with client.session_transaction() as browser:
        assert (
            "error",
            "The card payment service did not answer. Nothing was ordered; try again.",
        ) in [tuple(flash) for flash in browser.get("_flashes", [])]
    assert session.scalar(sa.select(sa.func.count(Order.id))) == 0
    session.expire_all()
    assert session.get(Variant, product.variants[0].id).allocated == 0
