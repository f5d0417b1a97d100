"""Joining a campaign through its pages, as a browser does: the join form (grid fields,
who, a one-time key), then the card posted as JSON to the participant's page."""

import json
import re
import secrets

import sqlalchemy as sa

from shop.groupbuys.models import Campaign, Participant
from tests.factories import make_product

TOKEN = re.compile(r"/g/(?P<code>[A-Z0-9]+)/p/(?P<token>[A-Za-z0-9_-]+)$")


def polo(session, slug="gb-polo", **fields):
    """A made-to-order polo with three tiers: 49.00, 43.00 from 5, 37.00 from 10."""
    product = make_product(
        session,
        slug=slug,
        tiers=fields.pop("tiers", ((1, 4900), (5, 4300), (10, 3700))),
        sizes=fields.pop("sizes", ("120", "130")),
        made_to_order=fields.pop("made_to_order", True),
        lead_time_days=14,
        on_hand=fields.pop("on_hand", 0),
        **fields,
    )
    session.commit()
    return product


def join_form(pieces: dict[int, int], number: int = 1, key: str | None = None, **fields) -> dict:
    return {
        **{f"qty-{variant_id}": str(q) for variant_id, q in pieces.items()},
        "email": fields.pop("email", f"parent{number}@example.com"),
        "recipient": fields.pop("recipient", f"Parent{number} Example"),
        "phone": fields.pop("phone", ""),
        "request_key": key or secrets.token_urlsafe(24),
        **fields,
    }


def token_of(location: str) -> str:
    match = TOKEN.search(location)
    assert match, location
    return match["token"]


def post_card(client, code: str, token: str, payment_method: str):
    return client.post(
        f"/g/{code}/p/{token}/card",
        data=json.dumps({"payment_method": payment_method}),
        content_type="application/json",
    )


def join(client, campaign, pieces, number=1, card=None, **fields):
    """Join through the form and, with ``card`` (a PaymentMethod id), give the card; the
    participant's token."""
    response = client.post(f"/g/{campaign.code}/join", data=join_form(pieces, number, **fields))
    assert response.status_code == 303, response.text
    token = token_of(response.headers["Location"])
    if card is not None:
        answer = post_card(client, campaign.code, token, card)
        assert answer.status_code == 200 and answer.json["status"] == "joined", answer.json
    return token


def counters(session, campaign) -> tuple[int, int, int, int]:
    """(pieces, reserved, participants joined, version) read now."""
    session.expire_all()
    row = session.execute(
        sa.select(Campaign.pieces, Campaign.reserved_pieces, Campaign.version).where(
            Campaign.id == campaign.id
        )
    ).one()
    joined = session.scalar(
        sa.select(sa.func.count())
        .select_from(Participant)
        .where(Participant.campaign_id == campaign.id, Participant.state.in_(("held", "charged")))
    )
    return row.pieces, row.reserved_pieces, joined, row.version


def participant(session, token: str) -> Participant:
    session.expire_all()
    return session.scalars(sa.select(Participant).where(Participant.token == token)).one()
