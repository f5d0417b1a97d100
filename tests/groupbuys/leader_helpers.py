"""Helpers for the leader's and staff's group-buy tests: the campaign form's data, and
participants put in place with their counters (without cards: these pages only read)."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from shop.groupbuys.models import Campaign, CampaignProduct, Participant
from tests.groupbuy_factories import reserve

KEY = "campaign-key-0123456789abcdef"


def local(delta: timedelta, zone: str = "Asia/Shanghai") -> str:
    """A closing time ``delta`` from now on ``zone``'s clock, as the form takes it."""
    return (datetime.now(ZoneInfo(zone)) + delta).strftime("%Y-%m-%dT%H:%M")


def campaign_data(*products, **overrides) -> dict:
    data = {
        "title": "Class 3B polos",
        "note": "Sizes by Friday, please.",
        "products": [str(product.id) for product in products],
        "currency": "CNY",
        "closes_local": local(timedelta(days=3)),
        "time_zone": "Asia/Shanghai",
        "min_pieces": "20",
        "max_pieces": "",
        "delivery": "pickup",
        "pickup_name": "Li's corner shop",
        "pickup_address": "12 Garden Road, Guangzhou",
        "pickup_hours": "Mon–Fri 16:00–19:00",
        "ladder": "",
        "request_key": KEY,
    }
    data.update(overrides)
    return data


def campaigns(session) -> list[Campaign]:
    session.expire_all()
    return list(session.scalars(sa.select(Campaign).order_by(Campaign.id)))


def joined(session, campaign, quantities, number, state="held", **fields) -> Participant:
    """A participant whose card counts (``held``), with the campaign's counters moved as
    the service moves them when a card is authorised."""
    participant = reserve(session, campaign, quantities, number, **fields)
    pieces = sum(quantities.values())
    participant.state = state
    session.execute(
        sa.update(Campaign)
        .where(Campaign.id == campaign.id)
        .values(pieces=Campaign.pieces + pieces)
    )
    product_id = participant.lines[0].product_id
    session.execute(
        sa.update(CampaignProduct)
        .where(CampaignProduct.campaign_id == campaign.id, CampaignProduct.product_id == product_id)
        .values(pieces=CampaignProduct.pieces + pieces)
    )
    session.commit()
    session.refresh(campaign)
    return participant
