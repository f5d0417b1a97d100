"""``seed-demo``'s group buys: ``/g/DEMO`` open, led by the demo customer, for the
made-to-order class polo with a minimum of 20 and parents already in; ``/g/DEMO2`` closed
at its second tier with a paid order per participant at the final price."""

import pytest
import sqlalchemy as sa

from shop.catalog.models import Product
from shop.demo.accounts import demo_email
from shop.groupbuys.models import Campaign, CampaignProduct, Participant
from shop.orders.models import Order


@pytest.fixture
def seeded(make_app):
    app = make_app(DEMO_IMAGE_SIZE=64)
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    assert "Demo group buys: /g/DEMO open with 13 pieces" in result.output
    return app


def one(app, statement):
    with app.extensions["sa_sessionmaker"]() as session:
        return session.execute(statement).one()


def test_the_open_demo_campaign_is_led_by_the_demo_customer(seeded):
    from shop.accounts.models import User

    campaign, leader_email, made_to_order = one(
        seeded,
        sa.select(Campaign, User.email, Product.made_to_order)
        .join(User, User.id == Campaign.leader_id)
        .join(CampaignProduct, CampaignProduct.campaign_id == Campaign.id)
        .join(Product, Product.id == CampaignProduct.product_id)
        .where(Campaign.code == "DEMO"),
    )
    assert leader_email == demo_email("customer") and made_to_order
    assert (campaign.state, campaign.min_pieces, campaign.payment_mode) == ("open", 20, "hold")
    assert campaign.pieces == campaign.reserved_pieces == 13 < campaign.min_pieces
    assert campaign.participant_count == 5
    (held,) = one(
        seeded,
        sa.select(sa.func.count(Participant.id)).where(
            Participant.campaign_id == campaign.id, Participant.state == "held"
        ),
    )
    assert held == 5


def test_the_closed_demo_campaign_reached_its_second_tier_and_has_an_order_each(seeded):
    campaign, final = one(
        seeded,
        sa.select(Campaign, CampaignProduct.final_unit_amount)
        .join(CampaignProduct, CampaignProduct.campaign_id == Campaign.id)
        .where(Campaign.code == "DEMO2"),
    )
    assert campaign.state == "closed" and campaign.pieces == 26
    assert final == 5200  # 20+ pieces: the second tier, below the first tier's 59.00
    with seeded.extensions["sa_sessionmaker"]() as session:
        participants = session.scalars(
            sa.select(Participant).where(Participant.campaign_id == campaign.id)
        ).all()
        assert {participant.state for participant in participants} == {"captured"}
        for participant in participants:
            order = session.get_one(Order, participant.order_id)
            assert order.campaign_id == campaign.id
            assert order.total_amount == participant.pieces * final == participant.captured_amount
            assert order.payment_status == "paid"


def test_seeding_twice_adds_no_second_campaign(seeded):
    result = seeded.test_cli_runner().invoke(args=["seed-demo", "--if-empty"])
    assert result.exit_code == 0, result.output
    assert "Demo group buys: already there." in result.output
    (count,) = one(seeded, sa.select(sa.func.count(Campaign.id)))
    assert count == 2
