"""Stripe events built and signed here (the ones localstripe never sends), delivered to
the webhook; and a PaymentIntent paid at localstripe behind the app's back."""

import json
import time

import stripe

from shop.payments.stripe_gateway import gateway
from tests.checkout_helpers import card
from tests.localstripe_server import WEBHOOK_SECRET


def event_payload(event_id, event_type, intent_id, **fields) -> str:
    obj = {"id": intent_id, "object": "payment_intent", **fields}
    return json.dumps(
        {
            "id": event_id,
            "object": "event",
            "type": event_type,
            "created": int(time.time()),
            "data": {"object": obj},
        }
    )


def charge_refunded(event_id, charge_id) -> str:
    """A ``charge.refunded`` event (localstripe refunds but never sends it)."""
    payload = event_payload(event_id, "charge.refunded", charge_id)
    return payload.replace('"object": "payment_intent"', '"object": "charge"')


def deliver(client, payload: str, *, secret=WEBHOOK_SECRET, timestamp=None, header=None):
    signature = header or stripe.WebhookSignature.generate_signature_header(
        payload, secret, timestamp=timestamp or int(time.time())
    )
    return client.post(
        "/stripe/webhook",
        data=payload,
        content_type="application/json",
        headers={"Stripe-Signature": signature} if signature != "none" else {},
    )


def confirm_quietly(app, intent_id: str) -> None:
    """Pay the PaymentIntent at localstripe without the app (its webhook goes nowhere)."""
    from tests.localstripe_server import register_webhook

    register_webhook(app.config["STRIPE_API_BASE"], "http://127.0.0.1:9/nowhere")
    with app.app_context():
        client = gateway().client
        method = card(app)
        client.v1.payment_intents.update(intent_id, params={"payment_method": method})
        client.v1.payment_intents.confirm(intent_id)
