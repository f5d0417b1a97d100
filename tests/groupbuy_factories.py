"""Campaigns and participants for tests, through the same service functions the pages use."""

import secrets
from datetime import timedelta

from shop.db import utcnow
from shop.groupbuys import rules, service
from shop.groupbuys.models import Campaign, CampaignProduct
from tests.accounts.helpers import make_user


def make_campaign(
    session,
    products,
    *,
    leader=None,
    code=None,
    min_pieces=20,
    max_pieces=None,
    closes_in=timedelta(days=3),
    currency="CNY",
    delivery="pickup",
    state="open",
    **fields,
) -> Campaign:
    """An open campaign over ``products``; the payment mode follows from ``closes_in``
    (``rules.payment_mode``) unless given."""
    now = utcnow()
    if leader is None:
        leader = make_user(session, email=f"leader-{secrets.token_hex(3)}@example.com")
    campaign = Campaign(
        code=code or secrets.token_hex(4).upper(),
        leader_id=leader.id,
        title=fields.pop("title", "Class 3B polos"),
        currency=currency,
        opens_at=now,
        closes_at=now + closes_in,
        min_pieces=min_pieces,
        max_pieces=max_pieces,
        delivery=delivery,
        pickup_name=fields.pop("pickup_name", "Li's corner shop"),
        pickup_address=fields.pop("pickup_address", "12 Garden Road, Guangzhou"),
        pickup_hours=fields.pop("pickup_hours", "Mon–Fri 16:00–19:00"),
        payment_mode=fields.pop("payment_mode", rules.payment_mode(now, now + closes_in)),
        state=state,
        **fields,
    )
    for position, product in enumerate(products):
        campaign.products.append(CampaignProduct(product_id=product.id, position=position))
    session.add(campaign)
    session.flush()
    return campaign


def joiner(number: int = 1, **fields) -> service.Joiner:
    return service.Joiner(
        email=fields.pop("email", f"parent{number}@example.com"),
        name=fields.pop("name", f"Parent{number} Example"),
        **fields,
    )


def reserve(session, campaign, quantities, number: int = 1, **fields):
    return service.reserve(
        session, campaign, quantities, joiner(number, **fields), join_key=secrets.token_hex(16)
    )
