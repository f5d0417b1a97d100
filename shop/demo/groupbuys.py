"""The demo group buys: ``/g/DEMO``, open, led by ``customer@demo.sourcefront.test`` for the
made-to-order class polo (a minimum of 20 pieces, some parents already in, closing in a
few days), and ``/g/DEMO2``, closed ten days ago at the polo's second tier, with one paid
order per participant in production. Both states can be seen at once.

Built directly, like the demo orders (no Stripe calls): the open campaign's places hold
no real card, so a close of the demo campaign (in a few days) finds nothing to charge and
gives each demo parent the "pay within 48 hours" page, as a declined card would.
Idempotent: nothing is added once ``DEMO`` exists.
"""

from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from shop.accounts.models import User
from shop.accounts.service import get_user_by_email
from shop.catalog.models import PriceTier, Product, Variant
from shop.db import utcnow
from shop.demo.accounts import demo_email
from shop.demo.orders import DemoOrder, build_demo_order, demo_line
from shop.groupbuys import rules
from shop.groupbuys.models import Campaign, CampaignProduct, Participant, ParticipantLine

PRODUCT_SLUG = "class-polo-embroidered"
OPEN_CODE = "DEMO"
CLOSED_CODE = "DEMO2"
PICKUP = {
    "pickup_name": "Sunflower Primary, parents' room",
    "pickup_address": "Gate 2, 88 Huanshi Road, Guangzhou",
    "pickup_hours": "Mon–Fri 15:30–17:30",
}


@dataclass(frozen=True)
class DemoPlace:
    name: str
    sizes: tuple[tuple[str, str, int], ...]  # (size, colour, pieces)


OPEN_PLACES = (
    DemoPlace("Wang Fang", (("130", "white", 2), ("140", "white", 1))),
    DemoPlace("Emily Tan", (("120", "navy", 2),)),
    DemoPlace("Sato Yuki", (("130", "white", 1), ("130", "navy", 1))),
    DemoPlace("Li Na", (("150", "white", 3), ("160", "white", 1))),
    DemoPlace("Chen Jie", (("110", "navy", 2),)),
)
CLOSED_PLACES = (
    DemoPlace("Zhou Min", (("140", "navy", 4),)),
    DemoPlace("Daniel Lim", (("130", "navy", 3), ("150", "navy", 2))),
    DemoPlace("Tanaka Ren", (("120", "navy", 2),)),
    DemoPlace("Huang Lei", (("160", "navy", 5),)),
    DemoPlace("Priya Nair", (("140", "navy", 3),)),
    DemoPlace("Zhao Qiang", (("150", "navy", 4), ("170", "navy", 1))),
    DemoPlace("Grace Ho", (("130", "navy", 2),)),
)


def seed_demo_group_buys(session: Session) -> str:
    if session.scalar(sa.select(Campaign.id).where(Campaign.code == OPEN_CODE)) is not None:
        return "Demo group buys: already there."
    leader = get_user_by_email(session, demo_email("customer"))
    product = session.scalar(sa.select(Product).where(Product.slug == PRODUCT_SLUG))
    if leader is None or product is None:
        return "Demo group buys: no demo customer or class polo; none added."
    tiers = session.scalars(
        sa.select(PriceTier).where(PriceTier.product_id == product.id, PriceTier.currency == "CNY")
    ).all()
    variants = {
        (variant.size, variant.colour): variant
        for variant in session.scalars(sa.select(Variant).where(Variant.product_id == product.id))
    }
    now = utcnow()
    open_campaign = _campaign(
        session,
        OPEN_CODE,
        leader.id,
        product,
        title="Class 3B polos with the class name",
        note="One order for the whole class: the more of us join, the less each polo costs.",
        opens_at=now - timedelta(days=1),
        closes_at=now + timedelta(days=4, hours=3),
        max_pieces=200,
    )
    closed = _campaign(
        session,
        CLOSED_CODE,
        leader.id,
        product,
        title="Riverside junior football club polos",
        note="Navy polos with the club name for the spring season.",
        opens_at=now - timedelta(days=15),
        closes_at=now - timedelta(days=10),
        max_pieces=None,
    )
    _add_places(session, open_campaign, OPEN_PLACES, tiers, variants)
    _add_places(session, closed, CLOSED_PLACES, tiers, variants)
    _close(session, closed, tiers, variants)
    session.flush()
    return (
        f"Demo group buys: /g/{OPEN_CODE} open with {open_campaign.pieces} pieces, "
        f"/g/{CLOSED_CODE} closed at {closed.pieces} pieces."
    )


def _campaign(session, code, leader_id, product, **fields) -> Campaign:
    campaign = Campaign(
        code=code,
        leader_id=leader_id,
        currency="CNY",
        locale="zh_Hans_CN",
        min_pieces=20,
        payment_mode=rules.payment_mode(fields["opens_at"], fields["closes_at"]),
        delivery="pickup",
        state="open",
        created_at=fields["opens_at"],
        **PICKUP,
        **fields,
    )
    campaign.products.append(CampaignProduct(product_id=product.id, position=0))
    session.add(campaign)
    session.flush()
    return campaign


def _add_places(session, campaign, places, tiers, variants) -> None:
    """The parents in, one after another, each at the price the campaign reached then
    (``rules.price_share``), as the counters would have it after their cards were held."""
    product_pieces = 0
    product = campaign.products[0]
    for bag, place in enumerate(places, start=1):
        pieces = sum(count for _size, _colour, count in place.sizes)
        share = rules.price_share(
            {product.product_id: tiers},
            {product.product_id: product_pieces},
            {product.product_id: pieces},
        )
        participant = Participant(
            campaign_id=campaign.id,
            email=f"{place.name.split()[0].lower()}.{bag}@demo.sourcefront.test",
            name=place.name,
            locale=campaign.locale,
            token=f"demo-{campaign.code.lower()}-{bag}",
            join_key=f"demo-{campaign.code.lower()}-{bag}",
            state="held",
            pieces=pieces,
            bag_number=bag,
            authorised_amount=share.amount,
            created_at=campaign.opens_at + timedelta(hours=3 * bag),
        )
        for size, colour, count in place.sizes:
            participant.lines.append(
                ParticipantLine(
                    variant_id=variants[(size, colour)].id,
                    product_id=product.product_id,
                    quantity=count,
                    joined_unit_amount=share.units[product.product_id],
                )
            )
        session.add(participant)
        product_pieces += pieces
    product.pieces = product_pieces
    campaign.pieces = campaign.reserved_pieces = product_pieces
    campaign.participant_count = len(places)
    session.flush()


def _close(session, campaign, tiers, variants) -> None:
    """The closed campaign's outcome: the final price for everyone, an order each (paid,
    in production, to the pick-up point), as the close job writes them."""
    product = campaign.products[0]
    final = rules.unit_at(tiers, product.pieces)
    assert final is not None  # the class polo sells in CNY
    product.final_unit_amount = final
    campaign.state = "closed"
    campaign.closing_started_at = campaign.closed_at = campaign.closes_at
    participants = session.scalars(
        sa.select(Participant)
        .where(Participant.campaign_id == campaign.id)
        .order_by(Participant.bag_number)
    ).all()
    for participant in participants:
        lines = [
            demo_line(
                (
                    session.get_one(Variant, line.variant_id),
                    rules.final_unit(final, line.joined_unit_amount),
                ),
                line.quantity,
            )
            for line in participant.lines
        ]
        order = build_demo_order(
            DemoOrder(days_ago=10, payment="paid", fulfilment="in_production"),
            (session.get_one(Variant, participant.lines[0].variant_id), final),
            session.get_one(User, campaign.leader_id),
            lines=lines,
            shipping_amount=0,
            user_id=None,
            email=participant.email,
            recipient=participant.name,
            campaign_id=campaign.id,
            notes=f"Group buy {campaign.code}, bag #{participant.bag_number}",
        )
        session.add(order)
        session.flush()
        participant.state = "captured"
        participant.captured_amount = order.total_amount
        participant.order_id = order.id
