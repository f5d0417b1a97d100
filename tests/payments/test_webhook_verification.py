"""What the webhook accepts before anything is applied: a signature dated within the
tolerance either side of now, over a JSON event with an id, a type, a creation time and
a data object. Anything else is a 400 that records nothing, never a 500.

Events here are of a type the shop ignores, so no Stripe is needed: the only effect of an
accepted one is its id, recorded once.
"""

import hashlib
import hmac
import json
import time

import pytest
import sqlalchemy as sa
import stripe

from shop.models import metadata
from tests.localstripe_server import WEBHOOK_SECRET

PROCESSED = metadata.tables["processed_stripe_event"]


@pytest.fixture
def hook_app(make_app):
    """The shop with the tests' webhook secret and no Stripe to ask (none is needed)."""
    return make_app(STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET, STRIPE_API_BASE="http://127.0.0.1:9")


def recorded(app) -> list[str]:
    """The event ids the webhook has recorded."""
    with app.extensions["sa_engine"].connect() as connection:
        return list(connection.scalars(sa.select(PROCESSED.c.event_id)))


def event(**fields) -> dict:
    return {
        "id": "evt_checked",
        "object": "event",
        "type": "customer.created",
        "created": int(time.time()),
        "data": {"object": {"id": "cus_1", "object": "customer"}},
        **fields,
    }


def without(key: str) -> dict:
    payload = event()
    del payload[key]
    return payload


def signature(body: bytes, timestamp: int) -> str:
    """Stripe's scheme over raw bytes (the library's helper takes text, so not UTF-8)."""
    mac = hmac.new(WEBHOOK_SECRET.encode(), b"%d." % timestamp + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def deliver(app, payload: str | bytes, *, timestamp: int | None = None):
    """POST ``payload`` signed with the right secret, dated ``timestamp`` (default now)."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    if isinstance(payload, str):
        body = payload.encode()
        header = stripe.WebhookSignature.generate_signature_header(
            payload, WEBHOOK_SECRET, timestamp=timestamp
        )
    else:
        body, header = payload, signature(payload, timestamp)
    return app.test_client().post(
        "/stripe/webhook",
        data=body,
        content_type="application/json",
        headers={"Stripe-Signature": header},
    )


def test_a_signature_dated_ten_minutes_ahead_is_refused(hook_app):
    response = deliver(hook_app, json.dumps(event()), timestamp=int(time.time()) + 600)
    assert response.status_code == 400
    assert recorded(hook_app) == []


def test_a_signature_dated_a_minute_ahead_is_accepted(hook_app):
    """Clocks drift: a minute either way is within Stripe's five-minute tolerance."""
    response = deliver(hook_app, json.dumps(event()), timestamp=int(time.time()) + 60)
    assert response.status_code == 200
    assert recorded(hook_app) == ["evt_checked"]


def test_a_well_formed_event_signed_now_is_accepted(hook_app):
    assert deliver(hook_app, json.dumps(event())).status_code == 200
    assert recorded(hook_app) == ["evt_checked"]


@pytest.mark.parametrize(
    "payload",
    [
        without("created"),
        without("id"),
        without("type"),
        without("data"),
        event(data={}),
        event(data={"object": None}),
        event(data={"object": "cus_1"}),
        event(data=[]),
        event(id=""),
        event(id=12),
        event(type=None),
        event(created="yesterday"),
        event(created=True),
        event(data={"object": {"id": {"nested": 1}}}),
        [event()],
        "evt_checked",
        None,
    ],
    ids=[
        "no created",
        "no id",
        "no type",
        "no data",
        "no data.object",
        "null data.object",
        "data.object a string",
        "data a list",
        "empty id",
        "numeric id",
        "null type",
        "created not a number",
        "created a boolean",
        "object id not a string",
        "a list",
        "a string",
        "null",
    ],
)
def test_a_signed_event_missing_what_the_shop_needs_is_refused(hook_app, payload):
    response = deliver(hook_app, json.dumps(payload))
    assert response.status_code == 400
    assert recorded(hook_app) == []


@pytest.mark.parametrize(
    "body",
    [b"not json at all", b"{", b"", b"\xff\xfe{}", b'{"id": "evt_checked"'],
    ids=["text", "half an object", "empty", "not utf-8", "cut short"],
)
def test_a_correctly_signed_body_that_is_not_json_is_refused(hook_app, body):
    response = deliver(hook_app, body)
    assert response.status_code == 400
    assert recorded(hook_app) == []
